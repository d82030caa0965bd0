/*
 * enas.c - ENAS neural architecture search (Katib's TensorFlow service, in C).
 *
 * The controller is Katib's (pkg/suggestion/v1beta1/nas/enas/Controller.py):
 * an LSTM (hidden size controller_hidden_size, weights w_lstm [2H x 4H])
 * that, for each of numLayers layers, picks an operation (softmax over
 * h * w_soft, logits divided by the temperature and squashed by
 * tanh_const * tanh) and, from the second layer on, a skip connection to
 * every earlier layer (attention: v . tanh(h * attn_w2 + h_j * attn_w1),
 * logits [-q, q]); the next input is the op's embedding, then the mean of
 * the chosen earlier outputs. Operations are nasConfig's, expanded to the
 * Cartesian product of their parameters' values as Katib's Operation.py
 * does (int: range(min, max+1, step); double: arange(min, max+step, step)
 * up to max; lists as given; discrete like categorical).
 *
 * Training: REINFORCE, controller_train_steps Adam steps (learning_rate)
 * per call on the trials that finished since the last call. At each step,
 * as Katib's Controller.build_trainer: every sample's reward = its
 * objective (negated when minimizing) plus entropy_weight x its entropy
 * under the current weights; the baseline moves by (1 - baseline_decay)
 * towards the rewards (their mean: Katib has one reward per step); the
 * loss is -(reward - baseline) log p(architecture) + skip_weight x mean
 * KL(skip probabilities || skip_target). Gradients by hand-written
 * backprop.
 *
 * Deviations from Katib: Katib feeds the AVERAGE objective of all succeeded
 * trials as the reward of freshly sampled architectures (so the controller
 * cannot tell good from bad ones); here each trial's own architecture gets
 * its own reward, which is what REINFORCE needs. Katib's baseline starts
 * at 0, so with a minimize objective (negative rewards) every sampled
 * architecture is pushed down for thousands of steps and the controller
 * drifts away from what it samples, the good ones included; here it
 * starts at the first step's mean reward, and minimize learns as maximize
 * does (tests/unit/test_enas.c).
 *
 * Output, exactly as Katib's service.py (json.dumps, '"' -> "'"):
 *   architecture  [[op], [op, skip0], [op, skip0, skip1], ...]
 *   nn_config     {'num_layers': L, 'input_sizes': [...], 'output_sizes':
 *                  [...], 'embedding': {'<op>': {'opt_id': <op>,
 *                  'opt_type': ..., 'opt_params': {...}}, ...}}
 * Sampling is seeded by the experiment name and trial number; weights,
 * Adam moments and the baseline persist as JSON through save()/create().
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "katib/algorithm.h"
#include "algorithms/pyliteral.h"
#include "util/strbuf.h"

#define POSITIVE_OR_NONE SETTING_MIN_OPEN | SETTING_NONE_OK
#define UNIT		 (SETTING_MIN_OPEN) /* (0, 1] */

static const struct setting_rule enas_rules[] = {
	{ "controller_hidden_size", SETTING_INT, 1, INFINITY, 0, NULL },
	{ "controller_temperature", SETTING_DOUBLE, 0, INFINITY,
	  POSITIVE_OR_NONE, NULL },
	{ "controller_tanh_const", SETTING_DOUBLE, 0, INFINITY,
	  POSITIVE_OR_NONE, NULL },
	{ "controller_entropy_weight", SETTING_DOUBLE, 0, INFINITY,
	  POSITIVE_OR_NONE, NULL },
	{ "controller_baseline_decay", SETTING_DOUBLE, 0, 1, UNIT, NULL },
	{ "controller_learning_rate", SETTING_DOUBLE, 0, 1, UNIT, NULL },
	{ "controller_skip_target", SETTING_DOUBLE, 0, 1, UNIT, NULL },
	{ "controller_skip_weight", SETTING_DOUBLE, 0, INFINITY,
	  POSITIVE_OR_NONE, NULL },
	{ "controller_train_steps", SETTING_INT, 1, INFINITY, 0, NULL },
	{ "controller_log_every_steps", SETTING_INT, 1, INFINITY, 0, NULL },
	{ .name = NULL },
};

static int enas_validate(const struct experiment_spec *spec,
			 struct kb_error *err)
{
	int rc = settings_validate(&spec->algorithm, enas_rules, 0, err);

	return rc ? rc
		  : nas_config_validate(spec, NAS_NEED_SIZES | NAS_NEED_PARAMS,
					err);
}

#define ENAS_FIELD "spec.algorithm.algorithmSettings"

/* ---- settings (Katib's defaults; "None" disables a term) ---- */

struct enas_settings {
	int hidden;
	double temperature;    /* 0: None */
	double tanh_const;     /* 0: None */
	double entropy_weight; /* 0: None */
	double baseline_decay;
	double learning_rate;
	double skip_target;
	double skip_weight; /* 0: None */
	int train_steps;
	int log_every;
};

static double enas_setting(const struct algorithm_spec *a, const char *name,
			   double def)
{
	const struct algorithm_setting *s = setting_find(a, name);

	if (!s || !s->value)
		return def;
	if (!strcmp(s->value, "None"))
		return 0;
	return strtod(s->value, NULL);
}

static void enas_settings_read(const struct algorithm_spec *a,
			       struct enas_settings *s)
{
	s->hidden = (int)enas_setting(a, "controller_hidden_size", 64);
	s->temperature = enas_setting(a, "controller_temperature", 5.0);
	s->tanh_const = enas_setting(a, "controller_tanh_const", 2.25);
	s->entropy_weight = enas_setting(a, "controller_entropy_weight", 1e-5);
	s->baseline_decay = enas_setting(a, "controller_baseline_decay", 0.999);
	s->learning_rate = enas_setting(a, "controller_learning_rate", 5e-5);
	s->skip_target = enas_setting(a, "controller_skip_target", 0.4);
	s->skip_weight = enas_setting(a, "controller_skip_weight", 0.8);
	s->train_steps = (int)enas_setting(a, "controller_train_steps", 50);
	s->log_every = (int)enas_setting(a, "controller_log_every_steps", 10);
}

/* Python's repr() of a float (json.dumps prints floats so). */
static void py_float(double v, char *out, size_t size)
{
	char buf[64], digits[32], *e;
	int prec, exp, nd = 0, k;
	char *p;

	if (v == 0) {
		snprintf(out, size, signbit(v) ? "-0.0" : "0.0");
		return;
	}
	for (prec = 1; prec <= 17; prec++) {
		snprintf(buf, sizeof(buf), "%.*e", prec - 1, v);
		if (strtod(buf, NULL) == v)
			break;
	}
	e = strchr(buf, 'e');
	exp = atoi(e + 1);
	for (p = buf; p < e; p++)
		if (*p >= '0' && *p <= '9')
			digits[nd++] = *p;
	digits[nd] = '\0';
	p = out;
	if (v < 0)
		*p++ = '-';
	if (exp < -4 || exp >= 16) {
		*p++ = digits[0];
		if (nd > 1) {
			*p++ = '.';
			memcpy(p, digits + 1, (size_t)nd - 1);
			p += nd - 1;
		}
		snprintf(p, size - (size_t)(p - out), "e%c%02d",
			 exp < 0 ? '-' : '+', abs(exp));
		return;
	}
	if (exp < 0) {
		*p++ = '0';
		*p++ = '.';
		for (k = 0; k < -exp - 1; k++)
			*p++ = '0';
		memcpy(p, digits, (size_t)nd);
		p += nd;
	} else {
		for (k = 0; k <= exp; k++)
			*p++ = k < nd ? digits[k] : '0';
		*p++ = '.';
		if (nd > exp + 1) {
			memcpy(p, digits + exp + 1, (size_t)(nd - exp - 1));
			p += nd - exp - 1;
		} else {
			*p++ = '0';
		}
	}
	*p = '\0';
}

/* ---- the search space: operations expanded as Katib's Operation.py ---- */

struct enas_op {
	char *text; /* {'opt_id': i, 'opt_type': ..., 'opt_params': {...}} */
};

struct op_param {
	const char *name;
	char **values; /* json texts */
	size_t n;
};

static void op_params_free(struct op_param *ps, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		assignment_values_free(ps[i].values, ps[i].n);
	free(ps);
}

static int str_push(char ***a, size_t *n, char *s)
{
	char **b;

	if (!s)
		return -ENOMEM;
	b = realloc(*a, (*n + 1) * sizeof(*b));
	if (!b) {
		free(s);
		return -ENOMEM;
	}
	*a = b;
	b[(*n)++] = s;
	return 0;
}

static double jnum(const cJSON *o, const char *k, double def)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	if (cJSON_IsNumber(v))
		return v->valuedouble;
	if (cJSON_IsString(v) && *v->valuestring)
		return strtod(v->valuestring, NULL);
	return def;
}

static char *json_text_str(const char *s)
{
	struct strbuf b = { 0 };

	py_quoted(&b, s);
	return strbuf_finish(&b, NULL);
}

/* The feasible values of one operation parameter, as json texts:
 * lists as strings, int range(min, max+1, step), double
 * np.arange(min, max+step, step) without values past max. */
static int op_param_values(const cJSON *p, struct op_param *out)
{
	const cJSON *type =
		cJSON_GetObjectItemCaseSensitive(p, "parameterType");
	const cJSON *fs = cJSON_GetObjectItemCaseSensitive(p, "feasibleSpace");
	const cJSON *it;
	double lo, hi, step, v;
	char buf[64];
	long i, k;
	int rc = 0;

	out->name = cJSON_GetObjectItemCaseSensitive(p, "name")->valuestring;
	if (!cJSON_IsString(type) ||
	    !strcmp(type->valuestring, "categorical") ||
	    !strcmp(type->valuestring, "discrete")) {
		cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(
					       fs, "list")) if (!rc) rc =
			str_push(&out->values, &out->n,
				 json_text_str(cJSON_IsString(it)
						       ? it->valuestring
						       : ""));
		return rc;
	}
	lo = jnum(fs, "min", 0);
	hi = jnum(fs, "max", lo);
	step = jnum(fs, "step", 1);
	if (!(step > 0))
		step = 1;
	if (!strcmp(type->valuestring, "int")) {
		for (k = (long)lo; !rc && k <= (long)hi;
		     k += (long)step ? (long)step : 1) {
			snprintf(buf, sizeof(buf), "%ld", k);
			rc = str_push(&out->values, &out->n, strdup(buf));
		}
		return rc;
	}
	k = (long)ceil((hi + step - lo) / step);
	for (i = 0; !rc && i < k && i < 100000; i++) {
		v = lo + (double)i * step;
		if (v > hi)
			break;
		py_float(v, buf, sizeof(buf));
		rc = str_push(&out->values, &out->n, strdup(buf));
	}
	return rc;
}

/* One expanded op: idx[] picks a value of each parameter. */
static char *op_text(int id, const char *type, const struct op_param *ps,
		     size_t np, const size_t *idx)
{
	struct strbuf b = { 0 };
	char buf[32];
	size_t i;

	snprintf(buf, sizeof(buf), "{'opt_id': %d, 'opt_type': ", id);
	strbuf_puts(&b, buf);
	py_quoted(&b, type);
	strbuf_puts(&b, ", 'opt_params': {");
	for (i = 0; i < np; i++) {
		strbuf_puts(&b, i ? ", " : "");
		py_quoted(&b, ps[i].name);
		strbuf_puts(&b, ": ");
		strbuf_puts(&b, ps[i].values[idx[i]]);
	}
	strbuf_puts(&b, "}}");
	return strbuf_finish(&b, NULL);
}

/* itertools.product over the parameters: the last varies fastest. */
static int expand_op(const cJSON *op, char ***ops, size_t *nops)
{
	const cJSON *type =
		cJSON_GetObjectItemCaseSensitive(op, "operationType");
	const cJSON *params =
		cJSON_GetObjectItemCaseSensitive(op, "parameters");
	size_t np = (size_t)cJSON_GetArraySize(params), i, idx[64] = { 0 };
	struct op_param *ps = calloc(np + 1, sizeof(*ps));
	int rc = ps ? 0 : -ENOMEM;

	for (i = 0; !rc && i < np && i < 64; i++)
		rc = op_param_values(cJSON_GetArrayItem(params, (int)i),
				     &ps[i]);
	for (i = 0; !rc && i < np; i++)
		if (!ps[i].n)
			goto out; /* an empty product */
	while (!rc) {
		rc = str_push(
			ops, nops,
			op_text((int)*nops, type->valuestring, ps, np, idx));
		for (i = np; i > 0; i--) {
			if (++idx[i - 1] < ps[i - 1].n)
				break;
			idx[i - 1] = 0;
		}
		if (!i)
			break;
	}
out:
	op_params_free(ps, np);
	return rc;
}

/* ---- the controller ---- */

struct enas_priv {
	struct enas_settings set;
	int L, K, H;
	char **ops; /* the expanded op descriptions */
	size_t nops;
	char *sizes; /* "'input_sizes': [..], 'output_sizes': [..]" */
	uint64_t seed;
	/* parameters, flat: w_lstm g_emb w_emb w_soft attn_w1 attn_w2 attn_v */
	double *theta, *grad, *m, *v;
	size_t ntheta;
	size_t o_lstm, o_gemb, o_emb, o_soft, o_w1, o_w2, o_v;
	double baseline;
	int baseline_set; /* 0 until the first training step */
	long adam_t;
	int *done; /* trial numbers already learnt from */
	size_t ndone;
};

static void enas_layout(struct enas_priv *p)
{
	size_t H = (size_t)p->H, K = (size_t)p->K;

	p->o_lstm = 0;
	p->o_gemb = p->o_lstm + 2 * H * 4 * H;
	p->o_emb = p->o_gemb + H;
	p->o_soft = p->o_emb + K * H;
	p->o_w1 = p->o_soft + H * K;
	p->o_w2 = p->o_w1 + H * H;
	p->o_v = p->o_w2 + H * H;
	p->ntheta = p->o_v + H;
}

static double sigm(double x)
{
	return 1 / (1 + exp(-x));
}

/* out[k] = sum_i x[i] W[i][k] (W rows x cols), accumulated when acc. */
static void vecmat(const double *x, const double *W, size_t rows, size_t cols,
		   double *out)
{
	size_t i, k;

	memset(out, 0, cols * sizeof(*out));
	for (i = 0; i < rows; i++) {
		const double *w = W + i * cols;
		double xi = x[i];

		if (xi == 0)
			continue;
		for (k = 0; k < cols; k++)
			out[k] += xi * w[k];
	}
}

/* Backward of vecmat: dx[i] += sum_k W[i][k] dy[k]; dW += x dy^T. */
static void vecmat_back(const double *x, const double *W, size_t rows,
			size_t cols, const double *dy, double *dx, double *dW)
{
	size_t i, k;

	for (i = 0; i < rows; i++) {
		const double *w = W + i * cols;
		double *dw = dW + i * cols, s = 0, xi = x[i];

		for (k = 0; k < cols; k++) {
			s += w[k] * dy[k];
			dw[k] += xi * dy[k];
		}
		if (dx)
			dx[i] += s;
	}
}

/* One LSTM step's saved values. */
struct lstm_step {
	double *xin;   /* [x, h_prev] (2H) */
	double *cp;    /* c_prev */
	double *gates; /* i f o g after activation (4H) */
	double *c, *tc, *h;
};

/* One layer's saved values for backprop. */
struct layer_tape {
	struct lstm_step a, b; /* before and after the op choice */
	double *u;	       /* op logits before temperature/tanh (K) */
	double *y;	       /* op logits (K) */
	int op;
	int *skip;  /* l values */
	double *q;  /* l attention scores */
	double *t;  /* l * H tanh(pre) */
	double *hw; /* h_b * attn_w1 (H) */
	double skip_sum;
};

struct tape {
	struct layer_tape *layers;
	double *pool;
	size_t used, size;
	double logp, entropy, kl;
	int nkl;
};

static double *tape_alloc(struct tape *t, size_t n)
{
	double *p = t->pool + t->used;

	t->used += n;
	return p;
}

static int tape_init(struct tape *t, const struct enas_priv *p)
{
	size_t H = (size_t)p->H, L = (size_t)p->L, K = (size_t)p->K, l;

	memset(t, 0, sizeof(*t));
	t->size = L * (2 * (2 * H + H + 4 * H + 3 * H) + 2 * K + L + L * H +
		       2 * H) +
		  16;
	t->pool = calloc(t->size, sizeof(double));
	t->layers = calloc(L, sizeof(*t->layers));
	if (!t->pool || !t->layers)
		return -ENOMEM;
	for (l = 0; l < L; l++) {
		t->layers[l].skip = calloc(l + 1, sizeof(int));
		if (!t->layers[l].skip)
			return -ENOMEM;
	}
	return 0;
}

static void tape_free(struct tape *t, const struct enas_priv *p)
{
	int l;

	for (l = 0; t->layers && l < p->L; l++)
		free(t->layers[l].skip);
	free(t->layers);
	free(t->pool);
}

static void lstm_forward(const struct enas_priv *p, struct tape *t,
			 struct lstm_step *s, const double *x, const double *cp,
			 const double *hp)
{
	size_t H = (size_t)p->H, k;
	double z[4 * 512];
	double *zz = H <= 512 ? z : malloc(4 * H * sizeof(double));

	s->xin = tape_alloc(t, 2 * H);
	s->cp = tape_alloc(t, H);
	s->gates = tape_alloc(t, 4 * H);
	s->c = tape_alloc(t, H);
	s->tc = tape_alloc(t, H);
	s->h = tape_alloc(t, H);
	memcpy(s->xin, x, H * sizeof(double));
	if (hp)
		memcpy(s->xin + H, hp, H * sizeof(double));
	if (cp)
		memcpy(s->cp, cp, H * sizeof(double));
	if (!zz)
		return;
	vecmat(s->xin, p->theta + p->o_lstm, 2 * H, 4 * H, zz);
	for (k = 0; k < H; k++) {
		double i = sigm(zz[k]), f = sigm(zz[H + k]);
		double o = sigm(zz[2 * H + k]), g = tanh(zz[3 * H + k]);

		s->gates[k] = i;
		s->gates[H + k] = f;
		s->gates[2 * H + k] = o;
		s->gates[3 * H + k] = g;
		s->c[k] = i * g + f * s->cp[k];
		s->tc[k] = tanh(s->c[k]);
		s->h[k] = o * s->tc[k];
	}
	if (zz != z)
		free(zz);
}

/* dh, dc: gradients at the step's outputs; adds to dx (H), dhp, dcp. */
static void lstm_backward(const struct enas_priv *p, const struct lstm_step *s,
			  const double *dh, const double *dc_in, double *dx,
			  double *dhp, double *dcp)
{
	size_t H = (size_t)p->H, k;
	double *dz = calloc(4 * H, sizeof(double));
	double *dxin = calloc(2 * H, sizeof(double));

	if (!dz || !dxin)
		goto out;
	for (k = 0; k < H; k++) {
		double i = s->gates[k], f = s->gates[H + k];
		double o = s->gates[2 * H + k], g = s->gates[3 * H + k];
		double dc = dc_in[k] + dh[k] * o * (1 - s->tc[k] * s->tc[k]);

		dz[k] = dc * g * i * (1 - i);
		dz[H + k] = dc * s->cp[k] * f * (1 - f);
		dz[2 * H + k] = dh[k] * s->tc[k] * o * (1 - o);
		dz[3 * H + k] = dc * i * (1 - g * g);
		if (dcp)
			dcp[k] += dc * f;
	}
	vecmat_back(s->xin, p->theta + p->o_lstm, 2 * H, 4 * H, dz, dxin,
		    p->grad + p->o_lstm);
	for (k = 0; k < H; k++) {
		dx[k] += dxin[k];
		if (dhp)
			dhp[k] += dxin[H + k];
	}
out:
	free(dz);
	free(dxin);
}

/* Katib's logits: u / temperature, then tanh_const * tanh. */
static double logit_out(const struct enas_priv *p, double u)
{
	if (p->set.temperature > 0)
		u /= p->set.temperature;
	if (p->set.tanh_const > 0)
		u = p->set.tanh_const * tanh(u);
	return u;
}

static double logit_back(const struct enas_priv *p, double u, double dy)
{
	double a = p->set.temperature > 0 ? u / p->set.temperature : u;

	if (p->set.tanh_const > 0)
		dy *= p->set.tanh_const * (1 - tanh(a) * tanh(a));
	if (p->set.temperature > 0)
		dy /= p->set.temperature;
	return dy;
}

/* Softmax probabilities of y (n) into pr; returns log pr[pick]. */
static double softmax(const double *y, size_t n, double *pr, int pick)
{
	double mx = y[0], s = 0;
	size_t i;

	for (i = 1; i < n; i++)
		if (y[i] > mx)
			mx = y[i];
	for (i = 0; i < n; i++)
		s += (pr[i] = exp(y[i] - mx));
	for (i = 0; i < n; i++)
		pr[i] /= s;
	return y[pick] - mx - log(s);
}

static int draw(const double *pr, size_t n, struct rng *r)
{
	double u = rng_uniform(r), c = 0;
	size_t i;

	for (i = 0; i + 1 < n; i++) {
		c += pr[i];
		if (u < c)
			return (int)i;
	}
	return (int)n - 1;
}

/* The op choice of layer l: sample (r) or take arc's. */
static void choose_op(const struct enas_priv *p, struct tape *t,
		      struct layer_tape *lt, struct rng *r, const int *arc)
{
	size_t K = (size_t)p->K, k;
	double *pr = calloc(K, sizeof(double)), lp;

	lt->u = tape_alloc(t, K);
	lt->y = tape_alloc(t, K);
	vecmat(lt->a.h, p->theta + p->o_soft, (size_t)p->H, K, lt->u);
	for (k = 0; k < K; k++)
		lt->y[k] = logit_out(p, lt->u[k]);
	if (!pr)
		return;
	softmax(lt->y, K, pr, 0);
	lt->op = r ? draw(pr, K, r) : arc[0];
	lp = log(pr[lt->op]);
	t->logp += lp;
	t->entropy += -lp * exp(lp);
	free(pr);
}

/* The skip choices of layer l > 0 (attention over earlier layers). */
static void choose_skips(const struct enas_priv *p, struct tape *t,
			 struct layer_tape *lt, int l, struct rng *r,
			 const int *arc)
{
	size_t H = (size_t)p->H, j, k;
	double q[1], y[2], pr[2], lp, tgt[2], kl = 0, sp;
	double *pre = calloc(H, sizeof(double));

	tgt[0] = 1 - p->set.skip_target;
	tgt[1] = p->set.skip_target;
	lt->q = tape_alloc(t, (size_t)l);
	lt->t = tape_alloc(t, (size_t)l * H);
	lt->skip_sum = 0;
	if (!pre)
		return;
	vecmat(lt->b.h, p->theta + p->o_w2, H, H, pre);
	for (j = 0; j < (size_t)l; j++) {
		const double *hw = t->layers[j].hw;

		q[0] = 0;
		for (k = 0; k < H; k++) {
			lt->t[j * H + k] = tanh(pre[k] + hw[k]);
			q[0] += lt->t[j * H + k] * p->theta[p->o_v + k];
		}
		lt->q[j] = q[0];
		y[0] = logit_out(p, -q[0]);
		y[1] = logit_out(p, q[0]);
		softmax(y, 2, pr, 0);
		lt->skip[j] = r ? draw(pr, 2, r) : arc[1 + j];
		lp = log(pr[lt->skip[j]]);
		t->logp += lp;
		t->entropy += -lp * exp(lp);
		for (k = 0; k < 2; k++) {
			sp = sigm(y[k]);
			kl += sp * log(sp / tgt[k]);
		}
		lt->skip_sum += lt->skip[j];
	}
	t->kl += kl;
	t->nkl++;
	free(pre);
}

/*
 * Run the controller over the L layers: sample an architecture (r set) or
 * follow arc (flattened: per layer the op, then l skips). Fills the tape
 * and arc_out.
 */
static int enas_forward(const struct enas_priv *p, struct tape *t,
			struct rng *r, const int *arc, int *arc_out)
{
	size_t H = (size_t)p->H, j, k;
	const double *in = p->theta + p->o_gemb, *c = NULL, *h = NULL;
	double *next_in;
	int l, pos = 0, rc = tape_init(t, p);

	if (rc)
		return rc;
	for (l = 0; l < p->L; l++) {
		struct layer_tape *lt = &t->layers[l];

		lstm_forward(p, t, &lt->a, in, c, h);
		choose_op(p, t, lt, r, arc ? arc + pos : NULL);
		lstm_forward(p, t, &lt->b,
			     p->theta + p->o_emb + (size_t)lt->op * H, lt->a.c,
			     lt->a.h);
		arc_out[pos] = lt->op;
		if (l > 0)
			choose_skips(p, t, lt, l, r, arc ? arc + pos : NULL);
		for (j = 0; j < (size_t)l; j++)
			arc_out[pos + 1 + j] = lt->skip[j];
		pos += l + 1;
		lt->hw = tape_alloc(t, H);
		vecmat(lt->b.h, p->theta + p->o_w1, H, H, lt->hw);
		if (l > 0) {
			next_in = tape_alloc(t, H);
			for (j = 0; j < (size_t)l; j++)
				for (k = 0; lt->skip[j] && k < H; k++)
					next_in[k] += t->layers[j].b.h[k];
			for (k = 0; k < H; k++)
				next_in[k] /= 1 + lt->skip_sum;
			in = next_in;
		} else {
			in = p->theta + p->o_gemb;
		}
		c = lt->b.c;
		h = lt->b.h;
	}
	return 0;
}

struct back_bufs {
	double *dh, *dc, *din, *dhA, *dcA, *dall_h, *dall_hw, *tmp;
};

/* Gradients of the op choice into dhA (and w_soft). */
static void back_op(struct enas_priv *p, const struct layer_tape *lt,
		    double adv, double *dhA)
{
	size_t K = (size_t)p->K, k;
	double *pr = calloc(K, sizeof(double)), *du = calloc(K, sizeof(double));

	if (!pr || !du)
		goto out;
	softmax(lt->y, K, pr, 0);
	/* loss = -adv * log p[op]: dy = -adv * (onehot - p) */
	for (k = 0; k < K; k++)
		du[k] = logit_back(p, lt->u[k],
				   -adv * (((int)k == lt->op) - pr[k]));
	vecmat_back(lt->a.h, p->theta + p->o_soft, (size_t)p->H, K, du, dhA,
		    p->grad + p->o_soft);
out:
	free(pr);
	free(du);
}

/* Gradients of the skip choices of layer l into dh (of h_b). */
static void back_skips(struct enas_priv *p, const struct tape *t,
		       const struct layer_tape *lt, int l, double adv,
		       double klw, double *dh, double *dall_hw, double *dpre)
{
	size_t H = (size_t)p->H, j, k;
	double y[2], pr[2], dy[2], tgt[2], sp, dq;

	tgt[0] = 1 - p->set.skip_target;
	tgt[1] = p->set.skip_target;
	memset(dpre, 0, H * sizeof(double));
	for (j = 0; j < (size_t)l; j++) {
		y[0] = logit_out(p, -lt->q[j]);
		y[1] = logit_out(p, lt->q[j]);
		softmax(y, 2, pr, 0);
		for (k = 0; k < 2; k++) {
			sp = sigm(y[k]);
			dy[k] = -adv * (((int)k == lt->skip[j]) - pr[k]) +
				klw * sp * (1 - sp) * (log(sp / tgt[k]) + 1);
		}
		dq = -logit_back(p, -lt->q[j], dy[0]) +
		     logit_back(p, lt->q[j], dy[1]);
		for (k = 0; k < H; k++) {
			double tt = lt->t[j * H + k];
			double d = dq * p->theta[p->o_v + k] * (1 - tt * tt);

			p->grad[p->o_v + k] += dq * tt;
			dpre[k] += d;
			dall_hw[j * H + k] += d;
		}
	}
	vecmat_back(lt->b.h, p->theta + p->o_w2, H, H, dpre, dh,
		    p->grad + p->o_w2);
	(void)t;
}

/* Backprop of loss = -adv * logp + klw * sum(kl) through the tape. */
static int enas_backward(struct enas_priv *p, const struct tape *t, double adv,
			 double klw)
{
	size_t H = (size_t)p->H, L = (size_t)p->L, j, k;
	double *buf = calloc(8 * H + 2 * L * H, sizeof(double));
	double *dh, *dc, *din, *dhA, *dcA, *dpre, *dall_h, *dall_hw, *dx;
	int l;

	if (!buf)
		return -ENOMEM;
	dh = buf;
	dc = dh + H;
	din = dc + H;
	dhA = din + H;
	dcA = dhA + H;
	dpre = dcA + H;
	dx = dpre + H;
	dall_h = buf + 8 * H;
	dall_hw = dall_h + L * H;
	for (l = (int)L - 1; l >= 0; l--) {
		const struct layer_tape *lt = &t->layers[l];

		/* the input of layer l+1 came from here */
		if (l > 0) {
			for (j = 0; j < (size_t)l; j++)
				for (k = 0; lt->skip[j] && k < H; k++)
					dall_h[j * H + k] +=
						din[k] / (1 + lt->skip_sum);
		} else {
			for (k = 0; k < H; k++)
				p->grad[p->o_gemb + k] += din[k];
		}
		for (k = 0; k < H; k++)
			dh[k] += dall_h[(size_t)l * H + k];
		vecmat_back(lt->b.h, p->theta + p->o_w1, H, H,
			    dall_hw + (size_t)l * H, dh, p->grad + p->o_w1);
		if (l > 0)
			back_skips(p, t, lt, l, adv, klw, dh, dall_hw, dpre);
		memset(dhA, 0, H * sizeof(double));
		memset(dcA, 0, H * sizeof(double));
		memset(dx, 0, H * sizeof(double));
		lstm_backward(p, &lt->b, dh, dc, dx, dhA, dcA);
		for (k = 0; k < H; k++)
			p->grad[p->o_emb + (size_t)lt->op * H + k] += dx[k];
		back_op(p, lt, adv, dhA);
		memset(din, 0, H * sizeof(double));
		memset(dh, 0, H * sizeof(double));
		memset(dc, 0, H * sizeof(double));
		lstm_backward(p, &lt->a, dhA, dcA, din, l ? dh : NULL,
			      l ? dc : NULL);
	}
	for (k = 0; k < H; k++) /* layer 0's input is g_emb */
		p->grad[p->o_gemb + k] += din[k];
	free(buf);
	return 0;
}

/* ---- training: REINFORCE with a moving baseline, Adam ---- */

static void adam_step(struct enas_priv *p)
{
	const double b1 = 0.9, b2 = 0.999, eps = 1e-8;
	double lr;
	size_t i;

	p->adam_t++;
	lr = p->set.learning_rate * sqrt(1 - pow(b2, (double)p->adam_t)) /
	     (1 - pow(b1, (double)p->adam_t));
	for (i = 0; i < p->ntheta; i++) {
		double g = p->grad[i];

		p->m[i] = b1 * p->m[i] + (1 - b1) * g;
		p->v[i] = b2 * p->v[i] + (1 - b2) * g * g;
		p->theta[i] -= lr * p->m[i] / (sqrt(p->v[i]) + eps);
	}
}

/* The flattened arc of an `architecture` value ("[[op], [op, s0], ...]"). */
static int arc_parse(const struct enas_priv *p, const char *s, int *arc)
{
	int n = 0, total = p->L * (p->L + 1) / 2, l = 0, pos = 0;
	char *end;
	long v;

	while (s && *s) {
		if (*s < '0' || *s > '9') {
			s++;
			continue;
		}
		v = strtol(s, &end, 10);
		s = end;
		if (n >= total)
			return -EINVAL;
		if (n == pos ? v >= p->K : v > 1)
			return -EINVAL;
		arc[n++] = (int)v;
		if (n == pos + l + 1) {
			pos = n;
			l++;
		}
	}
	return n == total ? 0 : -EINVAL;
}

struct sample {
	int *arc;
	double reward;	    /* the objective, negated when minimizing */
	double step_reward; /* plus the entropy bonus, at a training step */
};

static int enas_learnt(const struct enas_priv *p, int number)
{
	size_t i;

	for (i = 0; i < p->ndone; i++)
		if (p->done[i] == number)
			return 1;
	return 0;
}

/*
 * One training step, as Katib's controller: the rewards (objective plus
 * entropy_weight x the sample entropy under the current weights), the
 * baseline moved by (1 - baseline_decay) towards their mean, then the
 * REINFORCE gradient of each sample with advantage reward - baseline.
 */
static int enas_train_step(struct enas_priv *p, struct sample *s, size_t n,
			   struct tape *tapes, int *arc)
{
	double klw = p->set.skip_weight, sum = 0;
	size_t i;
	int rc = 0;

	for (i = 0; !rc && i < n; i++) {
		rc = enas_forward(p, &tapes[i], NULL, s[i].arc, arc);
		s[i].step_reward = s[i].reward;
		if (!rc && p->set.entropy_weight > 0)
			s[i].step_reward +=
				p->set.entropy_weight * tapes[i].entropy;
		sum += s[i].step_reward;
	}
	if (!rc && !p->baseline_set) { /* Katib starts from 0 */
		p->baseline = sum / (double)n;
		p->baseline_set = 1;
	}
	if (!rc) {
		p->baseline -= (1 - p->set.baseline_decay) *
			       (p->baseline - sum / (double)n);
		memset(p->grad, 0, p->ntheta * sizeof(double));
	}
	for (i = 0; !rc && i < n; i++)
		rc = enas_backward(p, &tapes[i], s[i].step_reward - p->baseline,
				   tapes[i].nkl ? klw / tapes[i].nkl : 0);
	if (!rc)
		adam_step(p);
	return rc;
}

static int enas_train_batch(struct enas_priv *p, struct sample *s, size_t n)
{
	int *arc = calloc((size_t)(p->L * (p->L + 1) / 2 + 1), sizeof(int));
	struct tape *tapes = calloc(n, sizeof(*tapes));
	size_t i;
	int step, rc = arc && tapes ? 0 : -ENOMEM;

	for (step = 0; !rc && step < p->set.train_steps; step++) {
		rc = enas_train_step(p, s, n, tapes, arc);
		for (i = 0; i < n; i++) {
			tape_free(&tapes[i], p);
			memset(&tapes[i], 0, sizeof(tapes[i]));
		}
	}
	free(tapes);
	free(arc);
	return rc;
}

/* Learn from every trial that finished since the last call. */
static int enas_learn(struct enas_priv *p, const struct experiment_spec *spec,
		      const struct search_history *h)
{
	size_t total = (size_t)(p->L * (p->L + 1) / 2), i, n = 0;
	struct sample *s = calloc(h->ntrials + 1, sizeof(*s));
	int *arcs = calloc(h->ntrials * total + 1, sizeof(int)), *d, rc = 0;

	if (!s || !arcs) {
		rc = -ENOMEM;
		goto out;
	}
	for (i = 0; i < h->ntrials; i++) {
		const struct history_trial *tr = &h->trials[i];

		if (tr->state == HISTORY_PENDING || enas_learnt(p, tr->number))
			continue;
		d = realloc(p->done, (p->ndone + 1) * sizeof(*d));
		if (!d) {
			rc = -ENOMEM;
			goto out;
		}
		p->done = d;
		p->done[p->ndone++] = tr->number;
		if (tr->state != HISTORY_SUCCEEDED || !tr->has_objective ||
		    arc_parse(p, tr->values[0], arcs + n * total))
			continue;
		s[n].arc = arcs + n * total;
		s[n].reward = spec->objective.maximize ? tr->objective
						       : -tr->objective;
		n++;
	}
	if (n)
		rc = enas_train_batch(p, s, n);
out:
	free(s);
	free(arcs);
	return rc;
}

/* ---- the emitted values ---- */

static char *arc_text(const struct enas_priv *p, const int *arc)
{
	struct strbuf b = { 0 };
	char buf[16];
	int l, j, pos = 0;

	strbuf_puts(&b, "[");
	for (l = 0; l < p->L; l++) {
		strbuf_puts(&b, l ? ", [" : "[");
		for (j = 0; j <= l; j++) {
			snprintf(buf, sizeof(buf), "%s%d", j ? ", " : "",
				 arc[pos + j]);
			strbuf_puts(&b, buf);
		}
		strbuf_puts(&b, "]");
		pos += l + 1;
	}
	strbuf_puts(&b, "]");
	return strbuf_finish(&b, NULL);
}

static char *nn_config_text(const struct enas_priv *p, const int *arc)
{
	struct strbuf b = { 0 };
	char buf[64];
	int l, m, pos = 0, seen;

	snprintf(buf, sizeof(buf), "{'num_layers': %d, ", p->L);
	strbuf_puts(&b, buf);
	strbuf_puts(&b, p->sizes);
	strbuf_puts(&b, ", 'embedding': {");
	for (l = 0; l < p->L; l++) {
		int op = arc[pos];

		for (seen = 0, m = 0; m < l && !seen; m++)
			seen = arc[m * (m + 1) / 2] == op;
		pos += l + 1;
		if (seen) /* a dict keeps one entry per op */
			continue;
		snprintf(buf, sizeof(buf), "%s'%d': ", l ? ", " : "", op);
		strbuf_puts(&b, buf);
		strbuf_puts(&b, p->ops[op]);
	}
	strbuf_puts(&b, "}}");
	return strbuf_finish(&b, NULL);
}

static char **enas_sample(struct enas_priv *p, int number)
{
	int *arc = calloc((size_t)(p->L * (p->L + 1) / 2 + 1), sizeof(int));
	char **v = calloc(3, sizeof(*v));
	struct tape t;
	struct rng r;

	if (!arc || !v)
		goto fail;
	rng_seed(&r, p->seed ^ seed_mix64((uint64_t)number));
	if (enas_forward(p, &t, &r, NULL, arc)) {
		tape_free(&t, p);
		goto fail;
	}
	tape_free(&t, p);
	v[0] = arc_text(p, arc);
	v[1] = nn_config_text(p, arc);
	if (!v[0] || !v[1])
		goto fail;
	free(arc);
	return v;
fail:
	free(arc);
	assignment_values_free(v, 2);
	return NULL;
}

static int enas_suggest(void *priv, const struct experiment_spec *spec,
			const struct search_history *history, size_t want,
			char ***out, struct kb_error *err)
{
	struct enas_priv *p = priv;
	int next = 1, rc;
	size_t n, i;

	rc = enas_learn(p, spec, history);
	for (i = 0; i < history->ntrials; i++)
		if (history->trials[i].number >= next)
			next = history->trials[i].number + 1;
	for (n = 0; !rc && n < want; n++) {
		out[n] = enas_sample(p, next + (int)n);
		if (!out[n])
			rc = -ENOMEM;
	}
	if (rc) {
		while (n)
			assignment_values_free(out[--n], 2);
		return kb_error_set(err, rc, NULL, 0, "out of memory");
	}
	return (int)n;
}

/* ---- create, save, destroy ---- */

static void enas_destroy(void *priv)
{
	struct enas_priv *p = priv;

	if (!p)
		return;
	assignment_values_free(p->ops, p->nops);
	free(p->sizes);
	free(p->theta);
	free(p->grad);
	free(p->m);
	free(p->v);
	free(p->done);
	free(p);
}

static char *sizes_text(const cJSON *g)
{
	static const char *const keys[][2] = { { "inputSizes", "input_sizes" },
					       { "outputSizes",
						 "output_sizes" } };
	struct strbuf b = { 0 };
	const cJSON *it;
	char buf[32];
	int k, first;

	for (k = 0; k < 2; k++) {
		snprintf(buf, sizeof(buf), "%s'%s': [", k ? ", " : "",
			 keys[k][1]);
		strbuf_puts(&b, buf);
		first = 1;
		cJSON_ArrayForEach(
			it, cJSON_GetObjectItemCaseSensitive(g, keys[k][0]))
		{
			snprintf(buf, sizeof(buf), "%s%d", first ? "" : ", ",
				 cJSON_IsNumber(it)
					 ? it->valueint
					 : atoi(it->valuestring
							? it->valuestring
							: "0"));
			strbuf_puts(&b, buf);
			first = 0;
		}
		strbuf_puts(&b, "]");
	}
	return strbuf_finish(&b, NULL);
}

static uint64_t enas_seed(const struct experiment_spec *spec)
{
	const char *s = spec->name ? spec->name : "";
	uint64_t h = 0xcbf29ce484222325ULL;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
	return seed_mix64(h ^ 0xe9a5ULL);
}

static int enas_space(struct enas_priv *p, const struct experiment_spec *spec)
{
	const cJSON *nas = spec->nas_config, *g, *op;
	int rc = 0;

	g = cJSON_GetObjectItemCaseSensitive(nas, "graphConfig");
	p->L = (int)jnum(g, "numLayers", 1);
	cJSON_ArrayForEach(op, cJSON_GetObjectItemCaseSensitive(
				       nas, "operations")) if (!rc) rc =
		expand_op(op, &p->ops, &p->nops);
	if (rc)
		return rc;
	p->K = (int)p->nops;
	p->sizes = sizes_text(g);
	return p->sizes ? 0 : -ENOMEM;
}

static int load_doubles(const cJSON *a, double *out, size_t n)
{
	const cJSON *v;
	size_t i = 0;

	if (cJSON_GetArraySize(a) != (int)n)
		return -EINVAL;
	cJSON_ArrayForEach(v, a) out[i++] =
		cJSON_IsNumber(v) ? v->valuedouble : 0;
	return 0;
}

static int enas_load(struct enas_priv *p, const char *state)
{
	cJSON *j = cJSON_Parse(state), *v;
	int rc;

	if (!j)
		return -EINVAL;
	rc = load_doubles(cJSON_GetObjectItemCaseSensitive(j, "theta"),
			  p->theta, p->ntheta);
	if (!rc)
		rc = load_doubles(cJSON_GetObjectItemCaseSensitive(j, "m"),
				  p->m, p->ntheta);
	if (!rc)
		rc = load_doubles(cJSON_GetObjectItemCaseSensitive(j, "v"),
				  p->v, p->ntheta);
	p->baseline = jnum(j, "baseline", 0);
	p->adam_t = (long)jnum(j, "adam_t", 0);
	/* states saved before baseline_set existed: set once trained */
	p->baseline_set = (int)jnum(j, "baseline_set", p->adam_t > 0);
	cJSON_ArrayForEach(v, cJSON_GetObjectItemCaseSensitive(j, "learnt"))
	{
		int *d = realloc(p->done, (p->ndone + 1) * sizeof(*d));

		if (!d) {
			rc = -ENOMEM;
			break;
		}
		p->done = d;
		p->done[p->ndone++] = v->valueint;
	}
	cJSON_Delete(j);
	return rc;
}

static char *enas_save(void *priv)
{
	struct enas_priv *p = priv;
	cJSON *j = cJSON_CreateObject(), *a;
	size_t i;
	char *s;

	if (!j)
		return NULL;
	cJSON_AddNumberToObject(j, "baseline", p->baseline);
	cJSON_AddNumberToObject(j, "baseline_set", p->baseline_set);
	cJSON_AddNumberToObject(j, "adam_t", (double)p->adam_t);
	a = cJSON_AddArrayToObject(j, "learnt");
	for (i = 0; a && i < p->ndone; i++)
		cJSON_AddItemToArray(a, cJSON_CreateNumber(p->done[i]));
	cJSON_AddItemToObject(
		j, "theta", cJSON_CreateDoubleArray(p->theta, (int)p->ntheta));
	cJSON_AddItemToObject(j, "m",
			      cJSON_CreateDoubleArray(p->m, (int)p->ntheta));
	cJSON_AddItemToObject(j, "v",
			      cJSON_CreateDoubleArray(p->v, (int)p->ntheta));
	s = cJSON_PrintUnformatted(j);
	cJSON_Delete(j);
	return s;
}

static int enas_create(const struct experiment_spec *spec, const char *state,
		       void **priv, struct kb_error *err)
{
	struct enas_priv *p;
	struct rng r;
	size_t i;
	int rc;

	rc = enas_validate(spec, err);
	if (rc)
		return rc;
	p = calloc(1, sizeof(*p));
	if (!p)
		return kb_error_set(err, -ENOMEM, NULL, 0, "out of memory");
	enas_settings_read(&spec->algorithm, &p->set);
	p->H = p->set.hidden;
	p->seed = enas_seed(spec);
	rc = enas_space(p, spec);
	if (!rc && !p->K)
		rc = kb_error_set(err, -EINVAL, "spec.nasConfig.operations", 0,
				  "expands to no operation");
	if (rc)
		goto fail;
	enas_layout(p);
	p->theta = calloc(p->ntheta, sizeof(double));
	p->grad = calloc(p->ntheta, sizeof(double));
	p->m = calloc(p->ntheta, sizeof(double));
	p->v = calloc(p->ntheta, sizeof(double));
	rc = p->theta && p->grad && p->m && p->v ? 0 : -ENOMEM;
	if (rc)
		goto fail;
	rng_seed(&r, p->seed);
	for (i = 0; i < p->ntheta; i++) /* TF: uniform(-0.01, 0.01) */
		p->theta[i] = (rng_uniform(&r) * 2 - 1) * 0.01;
	if (state && *state && enas_load(p, state)) {
		rc = kb_error_set(err, -EINVAL, NULL, 0,
				  "enas: cannot restore the saved controller");
		goto fail;
	}
	*priv = p;
	return 0;
fail:
	enas_destroy(p);
	return rc == -ENOMEM ? kb_error_set(err, rc, NULL, 0, "out of memory")
			     : rc;
}

static size_t enas_assignment_names(void *priv,
				    const struct experiment_spec *spec,
				    const char **names, size_t max)
{
	static const char *const n[] = { "architecture", "nn_config" };
	size_t i;

	(void)priv;
	(void)spec;
	for (i = 0; i < 2 && i < max; i++)
		names[i] = n[i];
	return i;
}

const struct algorithm_ops algorithm_enas = {
	.name = "enas",
	.implemented = 1,
	.validate = enas_validate,
	.create = enas_create,
	.suggest = enas_suggest,
	.save = enas_save,
	.destroy = enas_destroy,
	.assignment_names = enas_assignment_names,
	.foreign_refused = "enas suggests architectures from its controller "
			   "network, not assignments of the search space",
};
