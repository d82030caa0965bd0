/*
 * test_configmaps.c - configMap trial templates: the ConfigMap manifests
 * of --configmaps DIR (core/spec/configmaps.c), good and bad (not a
 * ConfigMap, no data, a key missing, not YAML, defined twice), and
 * spec_parse_with(): the template read is checked exactly as an inline
 * trialSpec, errors inside it name the template's field and line, the
 * normalized spec keeps the configMap, and trials render from it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "katib/spec.h"
#include "spec/configmaps.h"

#include "fixtures.h"

/* Katib's trial-templates ConfigMap, among other kinds of documents. */
static const char manifests[] =
	"apiVersion: v1\n"
	"kind: Namespace\n"
	"metadata:\n"
	"  name: kubeflow\n"
	"---\n"
	"apiVersion: v1\n"
	"kind: ConfigMap\n"
	"metadata:\n"
	"  name: trial-templates\n"
	"  namespace: kubeflow\n"
	"  labels:\n"
	"    katib.kubeflow.org/component: trial-templates\n"
	"data:\n"
	"  defaultTrialTemplate.yaml: |-\n" FIXTURE_JOB_4
	"              image: docker.io/kubeflowkatib/pytorch-mnist-cpu\n"
	"              command:\n"
	"                - sh\n"
	"                - -c\n"
	"                - echo loss=${trialParameters.learningRate}\n"
	"          restartPolicy: Never\n"
	"  badJob.yaml: |\n"
	"    apiVersion: batch/v1\n"
	"    kind: Job\n"
	"    spec:\n"
	"      backoffLimit: three\n"
	"      template:\n"
	"        spec:\n"
	"          containers:\n"
	"            - name: training-container\n"
	"              command: [echo, \"${trialParameters.learningRate}\"]\n"
	"  undeclared.yaml: |\n" FIXTURE_JOB_4
	"              command: [echo, \"${trialParameters.lr}\"]\n"
	"  notYaml: \"a: [b\"\n"
	"  list.yaml: \"[1, 2]\"\n"
	"  nested:\n"
	"    apiVersion: batch/v1\n"
	"---\n"
	"apiVersion: apps/v1\n"
	"kind: Deployment\n"
	"metadata:\n"
	"  name: trial-templates\n"
	"  namespace: kubeflow\n"
	"---\n"
	"kind: ConfigMap\n"
	"apiVersion: v1\n"
	"metadata:\n"
	"  name: empty\n"
	"---\n"
	"kind: ConfigMap\n"
	"apiVersion: v1\n"
	"metadata: {name: here}\n"
	"data: {t.yaml: \"x: 1\"}\n";

static const char spec_fmt[] =
	"apiVersion: kubeflow.org/v1beta1\n"
	"kind: Experiment\n"
	"metadata:\n"
	"  name: exp\n"
	"  namespace: kubeflow\n"
	"spec:\n"
	"  objective: {type: minimize, objectiveMetricName: loss}\n"
	"  algorithm: {algorithmName: random}\n"
	"  maxTrialCount: 4\n"
	"  parallelTrialCount: 2\n"
	"  parameters:\n"
	"    - name: lr\n"
	"      parameterType: double\n"
	"      feasibleSpace: {min: \"0.01\", max: \"0.05\"}\n"
	"  trialTemplate:\n"
	"    primaryContainerName: training-container\n"
	"    trialParameters:\n"
	"      - name: learningRate\n"
	"        reference: lr\n"
	"    configMap:\n"
	"      configMapName: %s\n"
	"      configMapNamespace: kubeflow\n"
	"      templatePath: %s\n";

static void parse_manifests(struct configmap_set *set)
{
	struct kb_error err;

	kb_error_clear(&err);
	memset(set, 0, sizeof(*set));
	if (configmap_parse(manifests, strlen(manifests), "cms.yaml", set,
			    &err))
		fail_msg("configmap_parse: %s", err.message);
}

/* data[key] of ns/name in `set` is an error about `field` saying `what`. */
static void lookup_fails(const struct configmap_set *set, const char *ns,
			 const char *name, const char *key, const char *field,
			 const char *what)
{
	struct kb_error err;
	char *text = NULL;

	kb_error_clear(&err);
	assert_int_equal(
		configmap_lookup(set, "default", ns, name, key, &text, &err),
		-EINVAL);
	assert_null(text);
	assert_string_equal(err.field, field);
	if (!strstr(err.message, what))
		fail_msg("'%s' not in: %s", what, err.message);
}

static void test_parse(void **state)
{
	struct configmap_set set;
	struct kb_error err;
	char *text = NULL;

	parse_manifests(&set);
	assert_int_equal(set.n, 3); /* the Namespace, the Deployment skipped */
	assert_string_equal(set.items[0].name, "trial-templates");
	assert_string_equal(set.items[0].ns, "kubeflow");
	assert_int_equal(set.items[0].line, 6);
	assert_null(set.items[1].ns);
	kb_error_clear(&err);
	assert_int_equal(
		configmap_lookup(&set, "default", "kubeflow", "trial-templates",
				 "defaultTrialTemplate.yaml", &text, &err),
		0);
	assert_non_null(strstr(text, "kind: Job\nspec:\n  template:"));
	assert_non_null(strstr(text, "${trialParameters.learningRate}"));
	free(text);
	/* no metadata.namespace: in the experiment's namespace */
	assert_int_equal(configmap_lookup(&set, "team-a", "team-a", "here",
					  "t.yaml", &text, &err),
			 0);
	assert_string_equal(text, "x: 1");
	free(text);
	configmap_set_free(&set);
}

static void test_bad_lookups(void **state)
{
	struct configmap_set set;

	parse_manifests(&set);
	lookup_fails(&set, "kubeflow", "trial-templates", "missing.yaml",
		     CONFIGMAP_PATH_FIELD,
		     "has no key \"missing.yaml\" in its data (it has: "
		     "defaultTrialTemplate.yaml, badJob.yaml");
	lookup_fails(&set, "default", "empty", "t.yaml", CONFIGMAP_PATH_FIELD,
		     "has no data");
	lookup_fails(&set, "kubeflow", "trial-templates", "nested",
		     CONFIGMAP_PATH_FIELD, "is not a string");
	/* a Deployment of that name is not a ConfigMap; nor is another
	 * namespace's */
	lookup_fails(&set, "other", "trial-templates", "t",
		     CONFIGMAP_NAME_FIELD,
		     "no ConfigMap trial-templates in namespace other");
	lookup_fails(&set, "kubeflow", "here", "t.yaml", CONFIGMAP_NAME_FIELD,
		     "no ConfigMap here in namespace kubeflow");
	configmap_set_free(&set);
}

static void test_bad_manifests(void **state)
{
	static const char twice[] = "kind: ConfigMap\n"
				    "metadata: {name: a, namespace: n}\n"
				    "---\n"
				    "kind: ConfigMap\n"
				    "metadata: {name: a, namespace: n}\n";
	struct configmap_set set = { 0 };
	struct kb_error err;

	kb_error_clear(&err);
	assert_int_equal(configmap_parse("kind: ConfigMap\ndata: {a: b}\n", 29,
					 "f.yaml", &set, &err),
			 -EINVAL);
	assert_non_null(strstr(err.message, "f.yaml, line 1: a ConfigMap "
					    "without metadata.name"));
	kb_error_clear(&err);
	assert_int_equal(configmap_parse("kind: ConfigMap\nmetadata: [\n", 28,
					 "g.yaml", &set, &err),
			 -EINVAL);
	assert_non_null(strstr(err.message, "g.yaml, line 3: not YAML"));
	assert_int_equal(set.n, 0);
	kb_error_clear(&err);
	assert_int_equal(
		configmap_parse(twice, strlen(twice), "h.yaml", &set, &err), 0);
	lookup_fails(&set, "n", "a", "k", CONFIGMAP_NAME_FIELD,
		     "defined twice (h.yaml, line 1 and h.yaml, line 4)");
	configmap_set_free(&set);
	/* an empty file, and one of comments only: nothing */
	assert_int_equal(configmap_parse("", 0, "e.yaml", &set, &err), 0);
	assert_int_equal(configmap_parse("# x\n", 4, "e.yaml", &set, &err), 0);
	assert_int_equal(set.n, 0);
}

/* A directory: *.yaml and *.yml read, other files not. */
static void test_dir(void **state)
{
	char dir[] = "/tmp/katib-cm-XXXXXX", path[128], *text = NULL;
	struct configmap_dir cd = { .dir = dir };
	struct kb_error err;
	FILE *f;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/a.yml", dir);
	assert_non_null(f = fopen(path, "w"));
	fputs(manifests, f);
	fclose(f);
	snprintf(path, sizeof(path), "%s/notes.txt", dir);
	assert_non_null(f = fopen(path, "w"));
	fputs("kind: ConfigMap\nmetadata: {name: txt}\ndata: {k: v}\n", f);
	fclose(f);
	kb_error_clear(&err);
	assert_int_equal(configmap_dir_fetch(&cd, "kubeflow", "kubeflow",
					     "trial-templates", "notYaml",
					     &text, &err),
			 0);
	assert_string_equal(text, "a: [b");
	free(text);
	assert_int_equal(configmap_dir_fetch(&cd, NULL, "default", "txt", "k",
					     &text, &err),
			 -EINVAL);
	assert_string_equal(err.field, CONFIGMAP_NAME_FIELD);
	/* no directory: say what to do */
	cd.dir = NULL;
	kb_error_clear(&err);
	assert_int_equal(
		configmap_dir_fetch(&cd, NULL, "n", "c", "k", &text, &err),
		-EINVAL);
	assert_non_null(strstr(err.message, "pass --configmaps DIR"));
	assert_non_null(strstr(err.message, "spec.trialTemplate.trialSpec"));
	unlink(path);
	snprintf(path, sizeof(path), "%s/a.yml", dir);
	unlink(path);
	rmdir(dir);
}

/* ---- spec_parse_with ---- */

static int fetch_manifests(void *arg, const char *exp_ns, const char *ns,
			   const char *name, const char *key, char **text,
			   struct kb_error *err)
{
	struct configmap_set set;
	int rc;

	parse_manifests(&set);
	rc = configmap_lookup(&set, exp_ns ? exp_ns : "default", ns, name, key,
			      text, err);
	configmap_set_free(&set);
	return rc;
}

static int parse_cm(const char *name, const char *key,
		    struct experiment_spec **s, struct kb_error *err)
{
	struct template_source src = { fetch_manifests, NULL };
	char text[sizeof(spec_fmt) + 256];

	snprintf(text, sizeof(text), spec_fmt, name, key);
	kb_error_clear(err);
	return spec_parse_with(text, strlen(text), "exp", &src, s, err);
}

static void parse_fails(const char *name, const char *key, const char *field,
			int line, const char *what)
{
	struct experiment_spec *s = NULL;
	struct kb_error err;

	assert_int_equal(parse_cm(name, key, &s, &err), -EINVAL);
	assert_null(s);
	assert_string_equal(err.field, field);
	assert_int_equal(err.line, line);
	if (!strstr(err.message, what))
		fail_msg("'%s' not in: %s", what, err.message);
}

static void test_spec_with_configmap(void **state)
{
	struct assignment a = { "lr", "0.02" };
	struct experiment_spec *s = NULL;
	struct trial_command cmd;
	struct kb_error err;
	char *y;

	assert_int_equal(parse_cm("trial-templates",
				  "defaultTrialTemplate.yaml", &s, &err),
			 0);
	assert_non_null(s->trial_template.trial_spec);
	/* Job's defaults come from the template read */
	assert_non_null(
		strstr(s->trial_template.success_condition, "Complete"));
	/* the normalized spec keeps the configMap, as written */
	y = spec_render_yaml(s, "exp");
	assert_non_null(strstr(y, "configMapName: trial-templates"));
	assert_null(strstr(y, "trialSpec"));
	free(y);
	kb_error_clear(&err);
	assert_int_equal(
		spec_render_trial(s, "exp-abc", NULL, &a, 1, &cmd, &err), 0);
	assert_string_equal(cmd.argv[cmd.argc - 1], "echo loss=0.02");
	assert_non_null(strstr(cmd.manifest, "\"namespace\":\t\"kubeflow\""));
	trial_command_free(&cmd);
	spec_free(s);
	/* without a source, the template stays unread */
	{
		char text[sizeof(spec_fmt) + 256];

		snprintf(text, sizeof(text), spec_fmt, "trial-templates",
			 "defaultTrialTemplate.yaml");
		kb_error_clear(&err);
		assert_int_equal(
			spec_parse(text, strlen(text), "exp", &s, &err), 0);
		assert_null(s->trial_template.trial_spec);
		spec_free(s);
	}
}

static void test_spec_configmap_errors(void **state)
{
	/* the template's own errors: its field and line, then where */
	parse_fails("trial-templates", "badJob.yaml", CONFIGMAP_PATH_FIELD, 23,
		    "spec.backoffLimit: must be an integer");
	parse_fails("trial-templates", "badJob.yaml", CONFIGMAP_PATH_FIELD, 23,
		    "(in data[badJob.yaml] of ConfigMap "
		    "kubeflow/trial-templates, line 4)");
	parse_fails("trial-templates", "undeclared.yaml", CONFIGMAP_PATH_FIELD,
		    23, "uses ${trialParameters.lr}, which");
	parse_fails("trial-templates", "notYaml", CONFIGMAP_PATH_FIELD, 23,
		    "is not a YAML trial object");
	parse_fails("trial-templates", "list.yaml", CONFIGMAP_PATH_FIELD, 23,
		    "must hold the trial object, a mapping");
	/* the source's errors name the field, on its line of the spec */
	parse_fails("trial-templates", "missing.yaml", CONFIGMAP_PATH_FIELD, 23,
		    "has no key \"missing.yaml\"");
	parse_fails("nothere", "t.yaml", CONFIGMAP_NAME_FIELD, 21,
		    "no ConfigMap nothere in namespace kubeflow");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_bad_lookups),
		cmocka_unit_test(test_bad_manifests),
		cmocka_unit_test(test_dir),
		cmocka_unit_test(test_spec_with_configmap),
		cmocka_unit_test(test_spec_configmap_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
