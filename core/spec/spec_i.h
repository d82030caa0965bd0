/*
 * spec_i.h - private to the spec module (core/spec/spec.c,
 * core/spec/fields.c, core/spec/spec_parse.c, core/spec/spec_template.c,
 * core/spec/spec_render.c, core/spec/trial_render.c, core/spec/job_check.c):
 * the field helpers they share and the calls between them. Not a contract: the
 * public interface is include/katib/spec.h.
 *
 * Errors go in the caller's struct kb_error with the field's path, as
 * "spec.trialTemplate.trialParameters[0].name", built with join() and
 * join_index() into buffers of PATHLEN.
 */
#ifndef KATIB_SPEC_I_H
#define KATIB_SPEC_I_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "katib/error.h"
#include "katib/spec.h"
#include "spec/yamltree.h"

#define PATHLEN	    256
#define API_VERSION "kubeflow.org/v1beta1"
#define TT	    "spec.trialTemplate"

/* Free the first n strings of v, then v (spec.c). */
void free_strv(char **v, size_t n);
/* Free a parameter's strings and zero it (spec.c). */
void param_clear(struct param_spec *p);

/* ---- fields.c: field helpers ---- */

/* Set err (-EINVAL) at path, on n's line when n is given. */
int fail(struct kb_error *err, const char *path, const struct ynode *n,
	 const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* dst (PATHLEN) = base.key, or key when base is "" */
void join(char *dst, const char *base, const char *key);
/* dst (PATHLEN) = base[i] */
void join_index(char *dst, const char *base, size_t i);
int need_map(const struct ynode *n, const char *path, struct kb_error *err);
int need_seq(const struct ynode *n, const char *path, struct kb_error *err);
/* 1 if s is in the NULL-terminated list */
int in_list(const char *s, const char *const *list);
/* An error for the first key of map not in `known` (NULL-terminated). */
int check_fields(const struct ynode *map, const char *path,
		 const char *const *known, struct kb_error *err);
/* A string field copied into *out (NULL when absent and not required). */
int get_str(const struct ynode *map, const char *key, const char *path,
	    int required, char **out, struct kb_error *err);
/* A boolean field; *out unchanged when absent. */
int get_bool(const struct ynode *map, const char *key, const char *path,
	     int *out, struct kb_error *err);
/* fail() at the field path.key, on n's line. */
int fail_key(struct kb_error *err, const char *path, const char *key,
	     const struct ynode *n, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
/* A quoted string n where the schema wants `what` (e.g. "an integer"). */
int fail_quoted(struct kb_error *err, const char *path, const struct ynode *n,
		const char *what);
/* The NULL-terminated list as "a, b, c" into buf. */
void list_text(const char *const *list, char *buf, size_t size);
/* A field that holds one value; NULL (and 0) when absent or null. */
int get_scalar(const struct ynode *map, const char *key, const char *path,
	       const struct ynode **out, struct kb_error *err);
/* Whole text as a number: 0, or -1 when it is not one. */
int parse_long(const char *s, long *out);
int parse_double(const char *s, double *out);
/* An int32 field: *present = 0 when absent. */
int get_int(const struct ynode *map, const char *key, const char *path,
	    int *out, int *present, struct kb_error *err);
/* A list of single values; *out NULL and *n 0 when absent. */
int get_str_list(const struct ynode *map, const char *key, const char *path,
		 char ***out, size_t *n, struct kb_error *err);
/* ---- spec.c: the enums' names (NULL-terminated, indexed by value) ---- */

extern const char *const param_type_names[];
extern const char *const distribution_names[];
extern const char *const strategy_names[];
extern const char *const collector_names[];
/* resumePolicy names, indexed by the spec's resume_policy. */
extern const char *const resume_names[];

/* ---- annotations.c ---- */

/*
 * Parse the katibfs/ annotations of metadata.annotations (`map`, a mapping
 * of strings, already checked) into s: 0 or -EINVAL with err set.
 */
int annotations_parse(struct experiment_spec *s, const struct ynode *map,
		      struct kb_error *err);

/* ---- job_check.c ---- */

/*
 * The trialSpec `job` (a batch/v1 Job, at `path`) against the Job schema:
 * 0, or -EINVAL naming the first unknown field or wrongly typed value.
 */
int job_schema_check(const struct ynode *job, const char *path,
		     struct kb_error *err);
/*
 * What the annotations say together with the spec body, parsed after them
 * (metadata comes first): katibfs/objectives names additional metrics.
 * 0 or -EINVAL with err naming the annotation.
 */
int annotations_check(const struct experiment_spec *s, struct kb_error *err);

/* ---- spec_render.c ---- */

/* A parameter as its YAML (nasConfig's operations hold parameters too). */
cJSON *param_to_json(const struct param_spec *p);

/* ---- spec_template.c ---- */

/* Parse and check spec.trialTemplate (at `path`) into s->trial_template;
 * a configMap source is read through src when it is not NULL. */
int parse_template(struct experiment_spec *s, const struct ynode *n,
		   const char *path, const struct template_source *src,
		   struct kb_error *err);
/* Every spec.parameters[] entry is some trialParameter's reference. */
int check_params_used(const struct experiment_spec *s,
		      const struct ynode *params, struct kb_error *err);
/* obj's string member `key`, or NULL. */
const char *jstr(const cJSON *obj, const char *key);
/* The container named `name` in a trial object (a TrainJob's trainer). */
cJSON *primary_container(cJSON *obj, const char *name);
/* Fill the trialParameters placeholders of *text (replaced) for one trial. */
int substitute(const struct experiment_spec *s, const char *trial,
	       const char *ns, const struct assignment *as, size_t n,
	       char **text, struct kb_error *err);

#endif
