/*
 * search_space.c - helpers shared by the search algorithms: the PRNG,
 * sampling and formatting parameter values as Katib's services do
 * (hyperopt for random, optuna for grid), grids, duplicate detection,
 * algorithm-setting parsing, seeds (random_state or saved "seed=N"), and
 * the loop that fills a batch with assignments new to the history.
 *
 * Owns: assignment sets (assignment_set_new(), assignment_set_free()); an
 * assignment it returns (nparams strings) is the caller's, freed by
 * assignment_values_free().
 */
#include "katib/algorithm.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "collectors/metrics.h"
#include "spec/suggest.h"

#define SETTINGS_FIELD "spec.algorithm.algorithmSettings"
#define GRID_TOLERANCE 1e-9
#define RESAMPLE_TRIES 100
#define ENUMERATE_MAX  ((size_t)1 << 22)

/* ---- PRNG: xoshiro256** seeded by splitmix64 ---- */

static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

void rng_seed(struct rng *r, uint64_t seed)
{
	int i;

	for (i = 0; i < 4; i++)
		r->s[i] = splitmix64(&seed);
}

static uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

uint64_t rng_next(struct rng *r)
{
	uint64_t *s = r->s, result = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return result;
}

double rng_uniform(struct rng *r)
{
	return (double)(rng_next(r) >> 11) * 0x1.0p-53;
}

double rng_normal(struct rng *r)
{
	double u1 = 1.0 - rng_uniform(r), u2 = rng_uniform(r);

	return sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2);
}

/* Uniform integer in [0, n), n > 0, without modulo bias. */
static uint64_t rng_below(struct rng *r, uint64_t n)
{
	uint64_t limit = UINT64_MAX - UINT64_MAX % n, x;

	do
		x = rng_next(r);
	while (x >= limit);
	return x % n;
}

/* ---- values ---- */

static double clamp(double v, double lo, double hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

/* Number of steps from min that stay <= max (with a small tolerance). */
static double last_step(const struct param_spec *p, double step)
{
	double k = floor((p->max_value - p->min_value) / step + GRID_TOLERANCE);

	return k < 0 ? 0 : k;
}

/* Decimal places needed to write x exactly enough (0..15). */
static int decimals(double x)
{
	double m;
	int d;

	x = fabs(x);
	if (x == 0)
		return 0;
	for (d = 0; d < 15; d++) {
		m = x * pow(10, d);
		if (m >= 0.5 && fabs(m - nearbyint(m)) <= 1e-9 * m)
			return d;
	}
	return 15;
}

static char *dup_double(double v)
{
	char buf[64];

	format_double(v, buf, sizeof(buf));
	return strdup(buf);
}

static char *format_int(const struct param_spec *p, double v)
{
	double lo = ceil(p->min_value), hi = floor(p->max_value);
	double step = p->step_value;
	char buf[32];

	if (step > 0)
		v = lo + clamp(nearbyint((v - lo) / step), 0,
			       floor((hi - lo) / step)) *
				 step;
	v = clamp(nearbyint(v), lo, hi);
	snprintf(buf, sizeof(buf), "%lld", (long long)v);
	return strdup(buf);
}

static char *format_stepped(const struct param_spec *p, double v)
{
	double step = p->step_value, k;
	int d = decimals(step), dm = decimals(p->min_value);
	char buf[64];

	k = clamp(nearbyint((v - p->min_value) / step), 0, last_step(p, step));
	v = p->min_value + k * step;
	if (v > p->max_value)
		v = p->max_value;
	/* min + k*step accumulates binary error (0.015000000000000001):
	 * round to the decimals of step and min, then print shortest. */
	if (d >= 15 || dm >= 15) /* tiny steps: 15 significant digits */
		snprintf(buf, sizeof(buf), "%.15g", v);
	else
		snprintf(buf, sizeof(buf), "%.*f", d > dm ? d : dm, v);
	return dup_double(strtod(buf, NULL));
}

char *param_format(const struct param_spec *p, double v)
{
	size_t i;

	switch (p->type) {
	case PARAM_INT: return format_int(p, v);
	case PARAM_DOUBLE:
		if (p->step_value > 0)
			return format_stepped(p, v);
		return dup_double(clamp(v, p->min_value, p->max_value));
	default:
		if (!p->nlist)
			return NULL;
		i = (size_t)clamp(nearbyint(v), 0, (double)(p->nlist - 1));
		return strdup(p->list[i]);
	}
}

/* ---- sampling ---- */

static double sample_uniform_int(const struct param_spec *p, struct rng *r)
{
	double lo = ceil(p->min_value), hi = floor(p->max_value);
	double step = p->step_value > 0 ? p->step_value : 1;
	double n = floor((hi - lo) / step) + 1;

	if (n < 1)
		return lo;
	if (n > 9e15) /* beyond exact doubles: sample continuously */
		return lo + floor(rng_uniform(r) * n) * step;
	return lo + (double)rng_below(r, (uint64_t)n) * step;
}

static double sample_uniform_stepped(const struct param_spec *p, struct rng *r)
{
	double n = last_step(p, p->step_value) + 1;

	if (n > 9e15)
		return p->min_value + floor(rng_uniform(r) * n) * p->step_value;
	return p->min_value + (double)rng_below(r, (uint64_t)n) * p->step_value;
}

/* A continuous draw under the distribution (hyperopt's definitions). */
static double sample_continuous(const struct param_spec *p, struct rng *r)
{
	double lo = p->min_value, hi = p->max_value, mu, sigma;
	int logscale = lo > 0 && (p->distribution == DIST_LOG_UNIFORM ||
				  p->distribution == DIST_LOG_NORMAL);

	if (logscale) {
		lo = log(lo);
		hi = log(hi);
	}
	if (p->distribution == DIST_NORMAL ||
	    p->distribution == DIST_LOG_NORMAL) {
		mu = (lo + hi) / 2;
		sigma = (hi - lo) / 6;
		lo = clamp(mu + sigma * rng_normal(r), lo, hi);
	} else {
		lo = lo + (hi - lo) * rng_uniform(r);
	}
	return clamp(logscale ? exp(lo) : lo, p->min_value, p->max_value);
}

char *param_sample(const struct param_spec *p, struct rng *r)
{
	double v;

	if (p->type == PARAM_CATEGORICAL || p->type == PARAM_DISCRETE) {
		if (!p->nlist)
			return NULL;
		return strdup(p->list[rng_below(r, p->nlist)]);
	}
	if (p->distribution == DIST_UNIFORM && p->type == PARAM_INT)
		v = sample_uniform_int(p, r);
	else if (p->distribution == DIST_UNIFORM && p->step_value > 0)
		v = sample_uniform_stepped(p, r);
	else
		v = sample_continuous(p, r);
	return param_format(p, v);
}

/* ---- grids ---- */

#define GRID_CAP ((size_t)1 << 53)

size_t param_grid_size(const struct param_spec *p)
{
	double lo, hi, step, n;

	switch (p->type) {
	case PARAM_CATEGORICAL:
	case PARAM_DISCRETE: return p->nlist;
	case PARAM_INT:
		lo = ceil(p->min_value);
		hi = floor(p->max_value);
		step = p->step_value > 0 ? p->step_value : 1;
		n = hi < lo ? 0 : floor((hi - lo) / step) + 1;
		break;
	default:
		if (!(p->step_value > 0) || p->max_value < p->min_value)
			return 0;
		n = last_step(p, p->step_value) + 1;
		break;
	}
	return n >= (double)GRID_CAP ? GRID_CAP : (size_t)n;
}

char *param_grid_value(const struct param_spec *p, size_t i)
{
	double step;

	switch (p->type) {
	case PARAM_CATEGORICAL:
	case PARAM_DISCRETE: return i < p->nlist ? strdup(p->list[i]) : NULL;
	case PARAM_INT:
		step = p->step_value > 0 ? p->step_value : 1;
		return param_format(p, ceil(p->min_value) + (double)i * step);
	default:
		return param_format(p,
				    p->min_value + (double)i * p->step_value);
	}
}

size_t search_space_grid_size(const struct experiment_spec *spec)
{
	size_t total = 1, n, i;

	for (i = 0; i < spec->nparams; i++) {
		n = param_grid_size(&spec->params[i]);
		if (!n)
			return 0;
		if (total > SIZE_MAX / n)
			total = SIZE_MAX;
		else
			total *= n;
	}
	return total;
}

void assignment_values_free(char **values, size_t n)
{
	size_t i;

	if (!values)
		return;
	for (i = 0; i < n; i++)
		free(values[i]);
	free(values);
}

char **search_space_grid_point(const struct experiment_spec *spec, size_t i)
{
	char **v = calloc(spec->nparams ? spec->nparams : 1, sizeof(*v));
	size_t j, n;

	if (!v)
		return NULL;
	for (j = spec->nparams; j-- > 0;) {
		n = param_grid_size(&spec->params[j]);
		v[j] = param_grid_value(&spec->params[j], n ? i % n : 0);
		if (!v[j]) {
			assignment_values_free(v, spec->nparams);
			return NULL;
		}
		i = n ? i / n : 0;
	}
	return v;
}

/* ---- duplicates ---- */

static int same(size_t n, char *const *a, char *const *b)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!a[i] || !b[i] ? a[i] != b[i] : strcmp(a[i], b[i]))
			return 0;
	return 1;
}

int history_contains(const struct search_history *h, size_t nparams,
		     char *const *values)
{
	size_t i;

	for (i = 0; h && i < h->ntrials; i++)
		if (h->trials[i].values &&
		    same(nparams, h->trials[i].values, values))
			return 1;
	return 0;
}

/*
 * Open addressing on the values' hash. A slot holds either a copy the set
 * owns (assignment_set_add: one block, the pointers then the strings) or,
 * tagged by its low bit, values the set only points at
 * (assignment_set_borrow: an experiment's trials, whose values live as
 * long as the set): an experiment's set of 100,000 trials keeps no second
 * copy of them (issue 11).
 */
struct assignment_set {
	size_t nparams, count, cap;
	char ***slots;
};

#define BORROWED ((uintptr_t)1)

static char **slot_values(char **const *slot)
{
	return (char **)((uintptr_t)*slot & ~BORROWED);
}

static int slot_owned(char **const *slot)
{
	return *slot && !((uintptr_t)*slot & BORROWED);
}

static uint64_t hash_values(size_t n, char *const *v)
{
	uint64_t h = 1469598103934665603ULL;
	const unsigned char *s;
	size_t i;

	for (i = 0; i < n; i++) {
		for (s = (const unsigned char *)(v[i] ? v[i] : ""); *s; s++)
			h = (h ^ *s) * 1099511628211ULL;
		h = (h ^ 0x1f) * 1099511628211ULL;
	}
	return h;
}

struct assignment_set *assignment_set_new(size_t nparams)
{
	struct assignment_set *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->nparams = nparams;
	s->cap = 64;
	s->slots = calloc(s->cap, sizeof(*s->slots));
	if (!s->slots) {
		free(s);
		return NULL;
	}
	return s;
}

static size_t find_slot(char ***slots, size_t cap, size_t n, char *const *v)
{
	size_t i = hash_values(n, v) & (cap - 1);

	while (slots[i] && !same(n, slot_values(&slots[i]), v))
		i = (i + 1) & (cap - 1);
	return i;
}

static int grow(struct assignment_set *s)
{
	size_t cap = s->cap * 2, i;
	char ***slots = calloc(cap, sizeof(*slots));

	if (!slots)
		return -ENOMEM;
	for (i = 0; i < s->cap; i++)
		if (s->slots[i])
			slots[find_slot(slots, cap, s->nparams,
					slot_values(&s->slots[i]))] =
				s->slots[i];
	free(s->slots);
	s->slots = slots;
	s->cap = cap;
	return 0;
}

int assignment_set_contains(const struct assignment_set *s, char *const *values)
{
	return s->slots[find_slot(s->slots, s->cap, s->nparams, values)] !=
	       NULL;
}

/*
 * A copy of values as one allocation, the pointers then the strings (one
 * free() releases it): an experiment's set holds one per trial, so this
 * halves what it costs per trial.
 */
static char **values_copy(size_t n, char *const *values)
{
	size_t i, size = (n ? n : 1) * sizeof(char *), len;
	char **copy, *p;

	for (i = 0; i < n; i++)
		size += strlen(values[i] ? values[i] : "") + 1;
	copy = malloc(size);
	if (!copy)
		return NULL;
	p = (char *)(copy + (n ? n : 1));
	for (i = 0; i < n; i++) {
		len = strlen(values[i] ? values[i] : "") + 1;
		memcpy(p, values[i] ? values[i] : "", len);
		copy[i] = p;
		p += len;
	}
	return copy;
}

int assignment_set_add(struct assignment_set *s, char *const *values)
{
	char **copy;

	if (assignment_set_contains(s, values))
		return 0;
	if ((s->count + 1) * 2 > s->cap && grow(s))
		return -ENOMEM;
	copy = values_copy(s->nparams, values);
	if (!copy)
		return -ENOMEM;
	s->slots[find_slot(s->slots, s->cap, s->nparams, copy)] = copy;
	s->count++;
	return 1;
}

int assignment_set_borrow(struct assignment_set *s, char *const *values)
{
	size_t i = find_slot(s->slots, s->cap, s->nparams, values);

	if (s->slots[i]) { /* present: a copy of them gives way */
		if (slot_owned(&s->slots[i])) {
			free(s->slots[i]);
			s->slots[i] = (char **)((uintptr_t)values | BORROWED);
		}
		return 0;
	}
	if ((s->count + 1) * 2 > s->cap) {
		if (grow(s))
			return -ENOMEM;
		i = find_slot(s->slots, s->cap, s->nparams, values);
	}
	s->slots[i] = (char **)((uintptr_t)values | BORROWED);
	s->count++;
	return 1;
}

size_t assignment_set_count(const struct assignment_set *s)
{
	return s->count;
}

void assignment_set_free(struct assignment_set *s)
{
	size_t i;

	if (!s)
		return;
	for (i = 0; i < s->cap; i++)
		if (slot_owned(&s->slots[i]))
			free(s->slots[i]); /* values_copy(): one block */
	free(s->slots);
	free(s);
}

static _Thread_local struct {
	const struct search_history *h;
	struct assignment_set *used;
} attached;

void search_history_attach_used(const struct search_history *h,
				struct assignment_set *used)
{
	attached.h = h;
	attached.used = used;
}

struct assignment_set *
assignment_set_from_history(const struct search_history *h, size_t nparams)
{
	struct assignment_set *s = assignment_set_new(nparams);
	size_t i;

	for (i = 0; s && h && i < h->ntrials; i++) {
		if (h->trials[i].values &&
		    assignment_set_add(s, h->trials[i].values) < 0) {
			assignment_set_free(s);
			return NULL;
		}
	}
	return s;
}

/* ---- settings ---- */

static void setting_field(const struct algorithm_setting *s, char *buf,
			  size_t size)
{
	snprintf(buf, size, SETTINGS_FIELD "[%s]", s->name ? s->name : "");
}

static int parse_long(const char *v, long *out)
{
	char *end;
	long x;

	if (!v)
		return 0;
	while (*v == ' ' || *v == '\t')
		v++;
	if (!*v)
		return 0;
	errno = 0;
	x = strtol(v, &end, 10);
	while (*end == ' ' || *end == '\t')
		end++;
	if (*end || errno)
		return 0;
	*out = x;
	return 1;
}

int setting_int(const struct algorithm_setting *s, long min, long max,
		long *out, struct kb_error *err)
{
	char field[256], range[96];
	long v;

	if (parse_long(s->value, &v) && v >= min && v <= max) {
		if (out)
			*out = v;
		return 0;
	}
	if (max == LONG_MAX && min == LONG_MIN)
		snprintf(range, sizeof(range), "an integer");
	else if (max == LONG_MAX)
		snprintf(range, sizeof(range), "an integer >= %ld", min);
	else if (min == LONG_MIN)
		snprintf(range, sizeof(range), "an integer <= %ld", max);
	else
		snprintf(range, sizeof(range), "an integer in [%ld, %ld]", min,
			 max);
	setting_field(s, field, sizeof(field));
	return kb_error_set(err, -EINVAL, field, 0, "must be %s, got '%s'",
			    range, s->value ? s->value : "");
}

static void describe_range(double min, double max, int flags, char *buf,
			   size_t size)
{
	char lo[40], hi[40];

	format_double(min, lo, sizeof(lo));
	format_double(max, hi, sizeof(hi));
	if (isinf(min) && isinf(max))
		snprintf(buf, size, "a number");
	else if (isinf(max))
		snprintf(buf, size, "a number %s %s",
			 flags & SETTING_MIN_OPEN ? ">" : ">=", lo);
	else if (isinf(min))
		snprintf(buf, size, "a number %s %s",
			 flags & SETTING_MAX_OPEN ? "<" : "<=", hi);
	else
		snprintf(buf, size, "a number in %c%s, %s%c",
			 flags & SETTING_MIN_OPEN ? '(' : '[', lo, hi,
			 flags & SETTING_MAX_OPEN ? ')' : ']');
}

static int in_bounds(double v, double min, double max, int flags)
{
	if (flags & SETTING_MIN_OPEN ? v <= min : v < min)
		return 0;
	if (flags & SETTING_MAX_OPEN ? v >= max : v > max)
		return 0;
	return 1;
}

int setting_double_bounds(const struct algorithm_setting *s, double min,
			  double max, int flags, double *out,
			  struct kb_error *err)
{
	char field[256], range[128];
	const char *v = s->value ? s->value : "";
	char *end;
	double x;

	errno = 0;
	x = strtod(v, &end);
	while (*end == ' ' || *end == '\t')
		end++;
	if (end != v && !*end && isfinite(x) && in_bounds(x, min, max, flags)) {
		if (out)
			*out = x;
		return 0;
	}
	describe_range(min, max, flags, range, sizeof(range));
	setting_field(s, field, sizeof(field));
	return kb_error_set(err, -EINVAL, field, 0, "must be %s, got '%s'",
			    range, v);
}

int setting_double(const struct algorithm_setting *s, double min, double max,
		   double *out, struct kb_error *err)
{
	return setting_double_bounds(s, min, max, 0, out, err);
}

const struct algorithm_setting *setting_find(const struct algorithm_spec *a,
					     const char *name)
{
	const struct algorithm_setting *found = NULL;
	size_t i;

	for (i = 0; i < a->nsettings; i++)
		if (a->settings[i].name && !strcmp(a->settings[i].name, name))
			found = &a->settings[i];
	return found;
}

static void join_names(const char *const *known, char *buf, size_t size)
{
	size_t n = 0, i;

	buf[0] = '\0';
	for (i = 0; known[i] && n < size; i++)
		n += snprintf(buf + n, size - n, "%s%s", i ? ", " : "",
			      known[i]);
	if (!i)
		snprintf(buf, size, "(none)");
}

/* 1 if s is one of the settings named in known (NULL-terminated). */
static int setting_is_known(const struct algorithm_setting *s,
			    const char *const *known)
{
	size_t k;

	for (k = 0; s->name && known[k]; k++)
		if (!strcmp(s->name, known[k]))
			return 1;
	return 0;
}

int settings_check_known(const struct algorithm_spec *a,
			 const char *const *known, struct kb_error *err)
{
	char field[256], names[384], hint[100];
	size_t i;

	for (i = 0; i < a->nsettings; i++) {
		if (setting_is_known(&a->settings[i], known))
			continue;
		setting_field(&a->settings[i], field, sizeof(field));
		join_names(known, names, sizeof(names));
		return kb_error_set(err, -EINVAL, field, 0,
				    "unknown setting for algorithm '%s'; "
				    "known: %s%s",
				    a->name ? a->name : "", names,
				    suggest_list_hint(a->settings[i].name,
						      known, hint,
						      sizeof(hint)));
	}
	return 0;
}

static int rule_required(const struct algorithm_spec *a,
			 const struct setting_rule *r, struct kb_error *err)
{
	char field[256];

	if (!(r->flags & SETTING_REQUIRED) || setting_find(a, r->name))
		return 0;
	snprintf(field, sizeof(field), SETTINGS_FIELD "[%s]", r->name);
	return kb_error_set(err, -EINVAL, field, 0,
			    "required by algorithm '%s'",
			    a->name ? a->name : "");
}

static int rule_choice(const struct algorithm_setting *s,
		       const struct setting_rule *r, struct kb_error *err)
{
	char field[256], names[256];
	size_t i;

	for (i = 0; r->choices[i]; i++)
		if (s->value && !strcmp(s->value, r->choices[i]))
			return 0;
	setting_field(s, field, sizeof(field));
	join_names(r->choices, names, sizeof(names));
	return kb_error_set(err, -EINVAL, field, 0,
			    "must be one of %s, got '%s'", names,
			    s->value ? s->value : "");
}

static long to_long(double v)
{
	if (v >= (double)LONG_MAX)
		return LONG_MAX;
	if (v <= (double)LONG_MIN)
		return LONG_MIN;
	return (long)v;
}

static int rule_check(const struct algorithm_setting *s,
		      const struct setting_rule *r, struct kb_error *err)
{
	char field[256];

	if ((r->flags & SETTING_NONE_OK) && s->value &&
	    !strcmp(s->value, "None"))
		return 0;
	switch (r->kind) {
	case SETTING_INT:
		return setting_int(s, to_long(r->min), to_long(r->max), NULL,
				   err);
	case SETTING_DOUBLE:
		return setting_double_bounds(s, r->min, r->max, r->flags, NULL,
					     err);
	case SETTING_CHOICE: return rule_choice(s, r, err);
	default:
		if (s->value && *s->value)
			return 0;
		setting_field(s, field, sizeof(field));
		return kb_error_set(err, -EINVAL, field, 0,
				    "must not be empty");
	}
}

int settings_validate(const struct algorithm_spec *a,
		      const struct setting_rule *rules, int allow_unknown,
		      struct kb_error *err)
{
	const char *known[64];
	const struct setting_rule *r;
	const struct algorithm_setting *s;
	size_t n = 0;
	int rc;

	for (r = rules; r->name; r++) {
		if (n < 63)
			known[n++] = r->name;
		rc = rule_required(a, r, err);
		if (rc)
			return rc;
		s = setting_find(a, r->name);
		rc = s ? rule_check(s, r, err) : 0;
		if (rc)
			return rc;
	}
	known[n] = NULL;
	return allow_unknown ? 0 : settings_check_known(a, known, err);
}

void settings_warn_unknown(const struct experiment_spec *spec,
			   const struct setting_rule *rules, const char *why)
{
	const struct algorithm_spec *a = &spec->algorithm;
	const char *known[64];
	char field[256], names[384], hint[100];
	size_t i, n = 0;

	for (; rules[n].name && n < 63; n++)
		known[n] = rules[n].name;
	known[n] = NULL;
	join_names(known, names, sizeof(names));
	for (i = 0; i < a->nsettings; i++) {
		if (setting_is_known(&a->settings[i], known))
			continue;
		setting_field(&a->settings[i], field, sizeof(field));
		spec_warn(spec, field,
			  "unknown setting for algorithm '%s', ignored (%s); "
			  "known: %s%s",
			  a->name ? a->name : "", why, n ? names : "none",
			  suggest_list_hint(a->settings[i].name, known, hint,
					    sizeof(hint)));
	}
}

int setting_random_state(const struct experiment_spec *spec, uint64_t *seed)
{
	const struct algorithm_setting *s;
	long v;

	s = setting_find(&spec->algorithm, "random_state");
	if (!s || setting_int(s, LONG_MIN, LONG_MAX, &v, NULL))
		return 0;
	*seed = (uint64_t)v;
	return 1;
}

/* ---- seeds ---- */

uint64_t seed_mix64(uint64_t z)
{
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

uint64_t seed_from_time(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return seed_mix64((uint64_t)ts.tv_sec * 1000000000ULL +
			  (uint64_t)ts.tv_nsec) ^
	       seed_mix64((uint64_t)getpid());
}

uint64_t seed_restore(const struct experiment_spec *spec, const char *state)
{
	uint64_t seed;

	if (spec && setting_random_state(spec, &seed))
		return seed;
	if (state && sscanf(state, "seed=%" SCNu64, &seed) == 1)
		return seed;
	return seed_from_time();
}

char *seed_save(uint64_t seed)
{
	char *s;

	if (asprintf(&s, "seed=%" PRIu64 "\n", seed) < 0)
		return NULL;
	return s;
}

/* ---- drawing unused assignments ---- */

char **search_space_sample(const struct experiment_spec *spec, struct rng *r)
{
	char **v = calloc(spec->nparams ? spec->nparams : 1, sizeof(*v));
	size_t i;

	for (i = 0; v && i < spec->nparams; i++) {
		v[i] = param_sample(&spec->params[i], r);
		if (!v[i]) {
			assignment_values_free(v, spec->nparams);
			return NULL;
		}
	}
	return v;
}

char **search_space_first_unused(const struct experiment_spec *spec,
				 const struct assignment_set *used,
				 size_t total, int *rc)
{
	char **v;
	size_t i;

	*rc = 0;
	for (i = 0; i < total && i < ENUMERATE_MAX; i++) {
		v = search_space_grid_point(spec, i);
		if (!v) {
			*rc = -ENOMEM;
			return NULL;
		}
		if (!assignment_set_contains(used, v))
			return v;
		assignment_values_free(v, spec->nparams);
	}
	return NULL;
}

char **search_random_unused(const struct experiment_spec *spec, struct rng *r,
			    const struct assignment_set *used, size_t total,
			    int *rc)
{
	char **v = NULL;
	int t;

	*rc = 0;
	for (t = 0; t < RESAMPLE_TRIES; t++) {
		assignment_values_free(v, spec->nparams);
		v = search_space_sample(spec, r);
		if (!v) {
			*rc = -ENOMEM;
			return NULL;
		}
		if (!assignment_set_contains(used, v))
			return v;
	}
	if (!total) /* continuous space: a duplicate is as good as any */
		return v;
	assignment_values_free(v, spec->nparams);
	return search_space_first_unused(spec, used, total, rc);
}

int search_suggest_distinct(const struct experiment_spec *spec,
			    const struct search_history *history, size_t want,
			    char ***out, struct kb_error *err,
			    search_next_fn next, void *ctx)
{
	struct assignment_set *used;
	size_t total = search_space_grid_size(spec), n = 0;
	char **v;
	int rc = 0;

	used = attached.h == history
		       ? attached.used
		       : assignment_set_from_history(history, spec->nparams);
	if (!used)
		return kb_error_set(err, -ENOMEM, NULL, 0, "out of memory");
	while (n < want) {
		v = next(ctx, spec, history->ntrials + n, used, total, &rc);
		if (!v)
			break;
		out[n++] = v;
		if (assignment_set_add(used, v) < 0) {
			rc = -ENOMEM;
			break;
		}
	}
	if (attached.h != history)
		assignment_set_free(used);
	if (rc) {
		while (n)
			assignment_values_free(out[--n], spec->nparams);
		return kb_error_set(err, rc, NULL, 0, "out of memory");
	}
	return (int)n;
}

/* ---- checking an assignment given from outside (queue, warm start,
 * suggestion command) against the feasible space ---- */

/* v parses whole as a finite double. */
static int parse_number(const char *s, double *v)
{
	char *end;

	if (!*s)
		return 0;
	*v = strtod(s, &end);
	return !*end && isfinite(*v);
}

/* The list entry of p equal to s (as text, or as a number for discrete). */
static const char *list_match(const struct param_spec *p, const char *s)
{
	double a, b;
	size_t i;

	for (i = 0; i < p->nlist; i++)
		if (!strcmp(p->list[i], s))
			return p->list[i];
	if (p->type != PARAM_DISCRETE || !parse_number(s, &a))
		return NULL;
	for (i = 0; i < p->nlist; i++)
		if (parse_number(p->list[i], &b) && a == b)
			return p->list[i];
	return NULL;
}

static void list_text(const struct param_spec *p, char *buf, size_t size)
{
	size_t i, len = 0;

	buf[0] = '\0';
	for (i = 0; i < p->nlist && len < size; i++)
		len += (size_t)snprintf(buf + len, size - len, "%s%s",
					i ? ", " : "", p->list[i]);
}

/* 1 if v sits on p's step grid (from min), with a small tolerance. */
static int on_step(const struct param_spec *p, double v)
{
	double k, lo = p->type == PARAM_INT ? ceil(p->min_value) : p->min_value;

	if (!(p->step_value > 0))
		return 1;
	k = (v - lo) / p->step_value;
	return fabs(k - nearbyint(k)) <= 1e-6;
}

int param_value_check(const struct param_spec *p, const char *value,
		      char **canonical, struct kb_error *err)
{
	const char *hit;
	char buf[512];
	double v;

	*canonical = NULL;
	if (p->type == PARAM_CATEGORICAL || p->type == PARAM_DISCRETE) {
		hit = list_match(p, value);
		if (!hit) {
			list_text(p, buf, sizeof(buf));
			return kb_error_set(err, -EINVAL, p->name, 0,
					    "\"%.64s\" is not in the %s list "
					    "of %s: %s",
					    value, param_type_name(p->type),
					    p->name, buf);
		}
		*canonical = strdup(hit);
		return *canonical ? 0 : -ENOMEM;
	}
	if (!parse_number(value, &v) ||
	    (p->type == PARAM_INT && v != nearbyint(v)))
		return kb_error_set(err, -EINVAL, p->name, 0,
				    "\"%.64s\" is not %s number; %s is %s",
				    value,
				    p->type == PARAM_INT ? "a whole" : "a",
				    p->name, param_type_name(p->type));
	if (v < p->min_value || v > p->max_value)
		return kb_error_set(err, -EINVAL, p->name, 0,
				    "%.64s is outside [%s, %s], the feasible "
				    "space of %s",
				    value, p->min, p->max, p->name);
	if (!on_step(p, v))
		return kb_error_set(err, -EINVAL, p->name, 0,
				    "%.64s is not min + a multiple of step "
				    "%s from %s (parameter %s)",
				    value, p->step, p->min, p->name);
	*canonical = param_format(p, v);
	return *canonical ? 0 : -ENOMEM;
}

static const struct param_spec *param_named(const struct experiment_spec *spec,
					    const char *name, size_t len,
					    size_t *index)
{
	size_t i;

	for (i = 0; i < spec->nparams; i++)
		if (strlen(spec->params[i].name) == len &&
		    !strncmp(spec->params[i].name, name, len)) {
			*index = i;
			return &spec->params[i];
		}
	return NULL;
}

static void param_names(const struct experiment_spec *spec, char *buf,
			size_t size)
{
	size_t i, len = 0;

	buf[0] = '\0';
	for (i = 0; i < spec->nparams && len < size; i++)
		len += (size_t)snprintf(buf + len, size - len, "%s%s",
					i ? ", " : "", spec->params[i].name);
}

int assignment_set_value(const struct experiment_spec *spec, char **values,
			 const char *name, size_t name_len, const char *value,
			 struct kb_error *err)
{
	const struct param_spec *p;
	char names[512], field[128];
	size_t i;
	int rc;

	p = param_named(spec, name, name_len, &i);
	if (!p) {
		param_names(spec, names, sizeof(names));
		snprintf(field, sizeof(field), "%.*s", (int)name_len, name);
		return kb_error_set(err, -EINVAL, field, 0,
				    "not a parameter of this search space "
				    "(parameters: %s)",
				    names);
	}
	if (values[i])
		return kb_error_set(err, -EINVAL, p->name, 0,
				    "given twice in one assignment");
	rc = param_value_check(p, value, &values[i], err);
	return rc;
}

int assignment_check_complete(const struct experiment_spec *spec,
			      char *const *values, struct kb_error *err)
{
	size_t i;

	for (i = 0; i < spec->nparams; i++)
		if (!values[i])
			return kb_error_set(
				err, -EINVAL, spec->params[i].name, 0,
				"missing: an assignment gives every "
				"parameter of the search space a "
				"value");
	return 0;
}

char *assignment_line(const struct experiment_spec *spec, char *const *values)
{
	size_t i, len = 1, at = 0;
	char *line;

	for (i = 0; i < spec->nparams; i++)
		len += strlen(spec->params[i].name) + strlen(values[i]) + 2;
	line = malloc(len);
	for (i = 0; line && i < spec->nparams; i++)
		at += (size_t)snprintf(line + at, len - at, "%s%s=%s",
				       i ? " " : "", spec->params[i].name,
				       values[i]);
	if (line && !spec->nparams)
		line[0] = '\0';
	return line;
}

int assignment_parse_line(const struct experiment_spec *spec, const char *line,
			  size_t len, char ***out, struct kb_error *err)
{
	const char *p = line, *end = line + len, *eq, *tok;
	char **values =
		calloc(spec->nparams ? spec->nparams : 1, sizeof(*values));
	char value[1024];
	size_t n;
	int rc = 0;

	*out = NULL;
	if (!values)
		return -ENOMEM;
	while (!rc) {
		while (p < end && (*p == ' ' || *p == '\t' || *p == '\r'))
			p++;
		if (p == end)
			break;
		tok = p;
		while (p < end && *p != ' ' && *p != '\t' && *p != '\r')
			p++;
		eq = memchr(tok, '=', (size_t)(p - tok));
		n = eq ? (size_t)(p - eq - 1) : 0;
		if (!eq || eq == tok || n >= sizeof(value)) {
			rc = kb_error_set(
				err, -EINVAL, NULL, 0,
				"\"%.*s\" is not name=value; a line is "
				"name=value for every parameter",
				(int)(p - tok > 64 ? 64 : p - tok), tok);
			break;
		}
		memcpy(value, eq + 1, n);
		value[n] = '\0';
		rc = assignment_set_value(spec, values, tok, (size_t)(eq - tok),
					  value, err);
	}
	if (!rc)
		rc = assignment_check_complete(spec, values, err);
	if (rc) {
		assignment_values_free(values, spec->nparams);
		return rc;
	}
	*out = values;
	return 0;
}
