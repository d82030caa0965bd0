/*
 * algorithm.h - the interface every search algorithm implements.
 *
 * An algorithm is one file under core/algorithms/ exporting one const
 * struct algorithm_ops, listed in the table in core/algorithms/algorithm.c.
 * Adding an algorithm touches that file and one line of the table.
 *
 * Lifecycle: validate() at spec time (settings named, typed and bounded as
 * Katib's suggestion service does); create() when the experiment starts or
 * is loaded again, with the state blob last returned by save() (or NULL);
 * suggest() whenever the controller needs trials; destroy() at the end.
 *
 * suggest() receives the whole history (every trial so far, in creation
 * order, pending and running ones included so that parallel trials never
 * get the same assignment) and must fill up to `want` assignments into the
 * caller's array out[0..want-1]. Each out[i] is a heap array of
 * spec->nparams heap strings in spec->params order, owned by the caller
 * after return. The algorithm must not keep pointers into `spec`: the
 * controller may replace it (a spec update) between calls. Returning fewer than
 * `want` (possibly 0) means the search space or the algorithm is exhausted:
 * the controller ends the experiment cleanly when nothing more can run.
 *
 * Reproducibility: with a random_state setting, the same spec and the same
 * history give the same suggestions.
 *
 * Threads: the controller calls suggest() (unless suggests_in_microseconds)
 * and prepare_trial() without the model lock, suggest() on a copy of the
 * history, one call at a time per experiment; save() is not called while
 * either runs. The others are called under the lock.
 */
#ifndef KATIB_ALGORITHM_H
#define KATIB_ALGORITHM_H

#include <stddef.h>
#include <stdint.h>

#include "katib/error.h"
#include "katib/spec.h"

struct backend_ops;

enum history_state {
	HISTORY_PENDING, /* created, running, or waiting */
	HISTORY_SUCCEEDED,
	HISTORY_EARLY_STOPPED,
	HISTORY_FAILED, /* failed, killed, metrics unavailable */
};

struct history_trial {
	char **values; /* one string per assignment name */
	enum history_state state;
	int has_objective;
	double objective; /* strategy-selected value, as reported */
	/* every numeric objective observation in order (the "steps"), for
	 * early stopping and multi-fidelity algorithms */
	const double *series;
	size_t nseries;
	int number; /* the trial's number (1, 2, ...) */
	/* multi-objective specs (spec_objective_count() > 1): the value of
	 * every objective in spec order (objectives[0] == objective), as
	 * reported; NULL when some objective has no numeric value */
	const double *objectives;
};

struct search_history {
	const struct history_trial *trials;
	size_t ntrials;
};

struct algorithm_ops {
	const char *name;
	/* 1 if implemented; 0 if Katib knows it but katibfs does not yet */
	int implemented;
	int (*validate)(const struct experiment_spec *spec,
			struct kb_error *err);
	int (*create)(const struct experiment_spec *spec, const char *state,
		      void **priv, struct kb_error *err);
	/* Returns the number of assignments written to out (<= want), or a
	 * negative errno with err filled. */
	int (*suggest)(void *priv, const struct experiment_spec *spec,
		       const struct search_history *history, size_t want,
		       char ***out, struct kb_error *err);
	/* Heap string with the state to persist, or NULL if stateless. */
	char *(*save)(void *priv);
	void (*destroy)(void *priv);
	/*
	 * Optional. The names of the values each assignment carries, when
	 * they are not spec->params (NAS algorithms emit `architecture` and
	 * `nn_config`; darts `algorithm-settings`, `search-space`,
	 * `num-layers`). Returns how many (<= max); names are static or
	 * owned by the algorithm and stay valid while priv lives.
	 */
	size_t (*assignment_names)(void *priv,
				   const struct experiment_spec *spec,
				   const char **names, size_t max);
	/*
	 * Optional. Called for trial `number` (values as suggested) after its
	 * command was rendered and its directory `trial_dir` created, before
	 * it starts (off the model lock, where it is spawned): PBT has the
	 * parent's checkpoint copied there (through
	 * the backend's copy_checkpoint) and points the command at it. May
	 * edit cmd (argv, env). 0 or a negative errno.
	 */
	int (*prepare_trial)(void *priv, const struct experiment_spec *spec,
			     int number, char *const *values,
			     const char *trial_dir, struct trial_command *cmd,
			     struct kb_error *err);
	/*
	 * Optional. The backend the trials run on (include/katib/
	 * backend.h), for an algorithm that hands files between trials;
	 * called right after create(). Both stay valid while priv lives.
	 * Not called: the local backend's ops, with no backend state.
	 */
	void (*use_backend)(void *priv, const struct backend_ops *backend,
			    void *backend_priv);
	/*
	 * Why the algorithm cannot take a trial it did not suggest (a line
	 * of EXP/queue) as its own observation, for the EINVAL a queue
	 * write gets; NULL (the default): every trial in the history counts.
	 */
	const char *foreign_refused;
	/*
	 * 1 if suggest() costs microseconds whatever the history (random,
	 * sobol: a draw checked against the kept set of assignments): the
	 * controller asks it under the model lock, with no copy of the
	 * history (which costs memory per trial). 0 (the default): asked off
	 * the lock on a copy (see "Threads" above).
	 */
	int suggests_in_microseconds;
	/*
	 * 1 if the algorithm takes a multi-objective spec (katibfs/
	 * objectives): history entries then carry `objectives`. Others are
	 * refused such a spec by algorithm_validate(), naming them.
	 */
	int multi_objective;
};

/* Names of the values of an assignment of `ops` (spec->params by default);
 * returns how many. */
size_t algorithm_assignment_names(const struct algorithm_ops *ops, void *priv,
				  const struct experiment_spec *spec,
				  const char **names, size_t max);

/*
 * Early stopping (spec.earlyStopping): one file per rule under
 * core/earlystopping/, found by early_stopping_find(). should_stop() is
 * asked when a running trial has new objective observations: `self` is
 * that trial (its series so far), `history` every trial, `judged` how many
 * of self's observations earlier calls judged. Every observation after
 * those is judged, in order, as Katib's metrics collector judges every
 * line, however many arrived at once. Returns 1 to stop it (why filled
 * with a sentence for events), 0 to let it run.
 */
struct early_stopping_ops {
	const char *name;
	int implemented;
	int (*validate)(const struct experiment_spec *spec,
			struct kb_error *err);
	int (*should_stop)(const struct experiment_spec *spec,
			   const struct search_history *history,
			   const struct history_trial *self, size_t judged,
			   char *why, size_t why_size);
};

const struct early_stopping_ops *early_stopping_find(const char *name);

/* "random, grid, ...": the algorithms built in, for messages. */
const char *algorithm_implemented_names(void);

/* The algorithm named `name` in the table, or NULL. */
const struct algorithm_ops *algorithm_find(const char *name);

/*
 * Spec-time check for spec->algorithm: the name is one Katib knows and its
 * settings validate. Algorithms Katib knows but katibfs has not built are
 * accepted here (katibfs check passes) and refused when the experiment
 * starts (experiment_activate_locked(), core/engine/controller.c).
 */
int algorithm_validate(const struct experiment_spec *spec,
		       struct kb_error *err);

/* Same for spec->earlyStopping (Katib knows only medianstop). */
int early_stopping_validate(const struct experiment_spec *spec,
			    struct kb_error *err);

/* ---- Helpers shared by the algorithms (core/spec/search_space.c) ---- */

/* A small, fast, seedable PRNG (xoshiro256**). */
struct rng {
	uint64_t s[4];
};

void rng_seed(struct rng *r, uint64_t seed);
uint64_t rng_next(struct rng *r);
double rng_uniform(struct rng *r); /* [0, 1) */
double rng_normal(struct rng *r);  /* standard normal */

/* Sample one value of `p` under its distribution (with step quantisation,
 * int rounding, clamping into [min, max]) and format it as Katib would. */
char *param_sample(const struct param_spec *p, struct rng *r);

/* Format a value of `p` (rounded to int, snapped to step) as a string. */
char *param_format(const struct param_spec *p, double v);

/* The number of grid points of p (list length, or steps in [min,max]);
 * 0 when p is a double without step. */
size_t param_grid_size(const struct param_spec *p);
/* The i-th grid point of p as a string. */
char *param_grid_value(const struct param_spec *p, size_t i);

/* 1 if `values` equals the assignment of some trial in history. */
int history_contains(const struct search_history *h, size_t nparams,
		     char *const *values);

/* Parse an algorithm setting as an int/double with bounds; on error fill
 * err naming spec.algorithm.algorithmSettings[<name>]. */
int setting_int(const struct algorithm_setting *s, long min, long max,
		long *out, struct kb_error *err);
int setting_double(const struct algorithm_setting *s, double min, double max,
		   double *out, struct kb_error *err);

/* ---- Additions (search_space.c / algorithm.c) ---- */

/* Bounds for setting_double_bounds(): exclusive ends. */
#define SETTING_MIN_OPEN 1
#define SETTING_MAX_OPEN 2

/* setting_double() with open/closed ends; infinite bounds are unchecked.
 * The message names the setting and the allowed range. */
int setting_double_bounds(const struct algorithm_setting *s, double min,
			  double max, int flags, double *out,
			  struct kb_error *err);

/* The last setting named `name` in a, or NULL. */
const struct algorithm_setting *setting_find(const struct algorithm_spec *a,
					     const char *name);

/*
 * -EINVAL naming spec.algorithm.algorithmSettings[<name>] for the first
 * setting whose name is not in `known` (NULL-terminated), listing them.
 */
int settings_check_known(const struct algorithm_spec *a,
			 const char *const *known, struct kb_error *err);

/* Product of the grid sizes of all parameters, saturating at SIZE_MAX;
 * 0 when some parameter has no finite grid. */
size_t search_space_grid_size(const struct experiment_spec *spec);

/* The i-th point of the Cartesian product (first parameter slowest) as a
 * heap array of spec->nparams heap strings, or NULL on ENOMEM. */
char **search_space_grid_point(const struct experiment_spec *spec, size_t i);

/* Free an assignment array of n strings (NULL allowed). */
void assignment_values_free(char **values, size_t n);

/* A set of assignments (arrays of nparams strings), for duplicate checks. */
struct assignment_set;

struct assignment_set *assignment_set_new(size_t nparams);
/* Adds a copy; 1 if added, 0 if already present, -ENOMEM. */
int assignment_set_add(struct assignment_set *s, char *const *values);
/*
 * Adds values themselves, not a copy: they must stay unchanged until the
 * set is freed (an experiment's trials' values). A copy of the same
 * values already in s is freed for them. 1 if added, 0 if present,
 * -ENOMEM.
 */
int assignment_set_borrow(struct assignment_set *s, char *const *values);
int assignment_set_contains(const struct assignment_set *s,
			    char *const *values);
size_t assignment_set_count(const struct assignment_set *s);
void assignment_set_free(struct assignment_set *s);
/* A set filled with the history's assignments, or NULL on ENOMEM. */
struct assignment_set *
assignment_set_from_history(const struct search_history *h, size_t nparams);

/*
 * For this thread, until called again (NULL, NULL to detach): `used` holds
 * every assignment of h's trials (spec->nparams values each), kept by the
 * caller from one suggestion to the next, so search_suggest_distinct(h)
 * uses it, and adds its batch to it, instead of building a set per call.
 */
void search_history_attach_used(const struct search_history *h,
				struct assignment_set *used);

/*
 * Checks spec->nasConfig as Katib's ENAS/DARTS services do: graphConfig
 * with numLayers (and inputSizes/outputSizes with NAS_NEED_SIZES), and a
 * non-empty operations list whose parameters are well formed (each
 * operation has some with NAS_NEED_PARAMS).
 */
#define NAS_NEED_SIZES	1
#define NAS_NEED_PARAMS 2
int nas_config_validate(const struct experiment_spec *spec, int flags,
			struct kb_error *err);

/* One rule of a table-driven settings check (settings_validate()). */
enum setting_kind {
	SETTING_INT,
	SETTING_DOUBLE,
	SETTING_CHOICE,
	SETTING_STRING
};

#define SETTING_NONE_OK	 4 /* the string "None" is accepted too */
#define SETTING_REQUIRED 8 /* must be present */

struct setting_rule {
	const char *name; /* NULL ends a rule table */
	enum setting_kind kind;
	double min, max;	    /* INT/DOUBLE bounds (+-INFINITY: none) */
	int flags;		    /* SETTING_* flags */
	const char *const *choices; /* CHOICE: NULL-terminated */
};

/*
 * Check a->settings against `rules`: each present setting parses and is in
 * range, required ones are present, and (unless allow_unknown) every name
 * is in the table. Errors name spec.algorithm.algorithmSettings[<name>].
 */
int settings_validate(const struct algorithm_spec *a,
		      const struct setting_rule *rules, int allow_unknown,
		      struct kb_error *err);

/*
 * For a service that ignores settings it does not know (Katib's goptuna
 * for cmaes and sobol): a spec_warn() naming each setting of
 * spec->algorithm that is not in `rules`, saying `why` it is ignored.
 */
void settings_warn_unknown(const struct experiment_spec *spec,
			   const struct setting_rule *rules, const char *why);

/*
 * The random_state setting of spec->algorithm: 1 and *seed set if present
 * and an integer (a negative one too, as Go's strconv.Atoi reads it), 0
 * if absent or invalid.
 */
int setting_random_state(const struct experiment_spec *spec, uint64_t *seed);

/* ---- Seeds and distinct suggestions (search_space.c) ---- */

/* splitmix64 finaliser, and a seed from the clock and pid. */
uint64_t seed_mix64(uint64_t z);
uint64_t seed_from_time(void);

/*
 * The seed of an algorithm at create(): random_state (when spec is not
 * NULL and has it), else "seed=N" from the saved state, else a time seed.
 * seed_save() is the matching state text "seed=N\n" (heap, or NULL).
 */
uint64_t seed_restore(const struct experiment_spec *spec, const char *state);
char *seed_save(uint64_t seed);

/* One assignment with every parameter drawn by param_sample(), or NULL on
 * ENOMEM. */
char **search_space_sample(const struct experiment_spec *spec, struct rng *r);

/* The first grid point (of the first 2^22) that `used` does not hold, or
 * NULL: *rc 0 when there is none, -ENOMEM on failure. */
char **search_space_first_unused(const struct experiment_spec *spec,
				 const struct assignment_set *used,
				 size_t total, int *rc);

/*
 * A random assignment (search_space_sample() under rng r) that `used` does
 * not hold; after 100 draws, the last draw for a continuous space (`total`
 * 0) or the first unused grid point of a finite one (`total` =
 * search_space_grid_size()), or NULL (*rc 0) when it is full.
 */
char **search_random_unused(const struct experiment_spec *spec, struct rng *r,
			    const struct assignment_set *used, size_t total,
			    int *rc);

/*
 * Suggestion number k (trials so far + position in the batch) that `used`
 * does not hold, with total = search_space_grid_size(spec); NULL with *rc
 * 0 when exhausted, or with *rc a negative errno.
 */
typedef char **(*search_next_fn)(void *ctx, const struct experiment_spec *spec,
				 uint64_t k, const struct assignment_set *used,
				 size_t total, int *rc);

/*
 * A suggest() made of next(): up to `want` assignments, each new to the
 * history and to the batch so far (added to the used set as they come).
 * Returns the count, or a negative errno with err "out of memory".
 */
int search_suggest_distinct(const struct experiment_spec *spec,
			    const struct search_history *history, size_t want,
			    char ***out, struct kb_error *err,
			    search_next_fn next, void *ctx);

/* ---- Saved state as JSON (core/algorithms/algo_state.c) ---- */

/* v as an exact number ("%.17g"; null when not finite). */
cJSON *state_json_number(double v);
/* An array of n such numbers. */
cJSON *state_json_array(const double *v, size_t n);
/* out[0..n-1] from an array of exactly n numbers: 0, or -1 (out partly
 * written) when a is not that. */
int state_json_doubles(const cJSON *a, double *out, size_t n);

/* ---- Assignments from outside the algorithm: the queue, warm starts and
 * suggestion commands (core/spec/search_space.c) ---- */

/*
 * Check `value` against p's feasible space (int: a whole number; int and
 * double: inside [min, max] and on the step; categorical and discrete: in
 * the list, discrete also by numeric value). 0 and *canonical (heap: the
 * value as the algorithms write it, "0.010" -> "0.01"), or -EINVAL with
 * err naming the parameter and saying what would be right.
 */
int param_value_check(const struct param_spec *p, const char *value,
		      char **canonical, struct kb_error *err);

/*
 * values[] (spec->nparams slots, NULL = not yet given): the parameter
 * `name` (name_len bytes) gets value, checked. -EINVAL when the name is
 * not a parameter (the message lists them), is given twice, or the value
 * does not fit.
 */
int assignment_set_value(const struct experiment_spec *spec, char **values,
			 const char *name, size_t name_len, const char *value,
			 struct kb_error *err);

/* -EINVAL naming the first parameter values[] has no value for, else 0. */
int assignment_check_complete(const struct experiment_spec *spec,
			      char *const *values, struct kb_error *err);

/*
 * One line "name=value name=value ..." (spaces or tabs between; len bytes,
 * no newline) as a complete, checked assignment: *out a heap array of
 * spec->nparams heap strings in spec->params order. 0 or -EINVAL/-ENOMEM.
 */
/* The assignment (spec->nparams values in spec->params order) as such a
 * line, "lr=0.01 layers=3" (heap, or NULL on ENOMEM). */
char *assignment_line(const struct experiment_spec *spec, char *const *values);

int assignment_parse_line(const struct experiment_spec *spec, const char *line,
			  size_t len, char ***out, struct kb_error *err);

#endif
