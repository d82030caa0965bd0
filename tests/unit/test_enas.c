/* test_enas.c - ENAS output as Katib's trial code parses it, and a
 * controller that learns. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <cmocka.h>

#include "katib/algorithm.h"
#include "fixtures.h"

/* clang-format off */
static const char enas_yaml[] =
	"apiVersion: kubeflow.org/v1beta1\n"
	"kind: Experiment\n"
	"metadata:\n"
	"  name: enas-test\n"
	"spec:\n"
	"  parallelTrialCount: 4\n"
	"  maxTrialCount: 100\n"
	"  objective:\n"
	"    type: maximize\n"
	"    objectiveMetricName: accuracy\n"
	"  algorithm:\n"
	"    algorithmName: enas\n"
	"    algorithmSettings:\n"
	"@@SETTINGS@@"
	"  nasConfig:\n"
	"    graphConfig:\n"
	"      numLayers: @@LAYERS@@\n"
	"      inputSizes: [32, 32, 3]\n"
	"      outputSizes: [10]\n"
	"    operations:\n"
	"      - operationType: convolution\n"
	"        parameters:\n"
	"          - name: filter_size\n"
	"            parameterType: categorical\n"
	"            feasibleSpace: {list: [\"3\", \"5\"]}\n"
	"          - name: num_filter\n"
	"            parameterType: categorical\n"
	"            feasibleSpace: {list: [\"32\"]}\n"
	"      - operationType: reduction\n"
	"        parameters:\n"
	"          - name: reduction_type\n"
	"            parameterType: categorical\n"
	"            feasibleSpace: {list: [max_pooling]}\n"
	"          - name: pool_size\n"
	"            parameterType: int\n"
	"            feasibleSpace: {min: \"2\", max: \"3\", step: \"1\"}\n"
	"  trialTemplate:\n"
	"    primaryContainerName: main\n"
	"    trialParameters:\n"
	"      - {name: a, reference: architecture}\n"
	"      - {name: c, reference: nn_config}\n"
	"    trialSpec:\n"
	FIXTURE_JOB_AT("      ", "main")
	"                image: x\n"
	"                command: [echo, \"${trialParameters.a}\", "
	"\"${trialParameters.c}\"]\n";
/* clang-format on */

static char *subst(const char *text, const char *key, const char *val)
{
	const char *p = strstr(text, key);
	char *out = malloc(strlen(text) + strlen(val) + 1);

	assert_non_null(p);
	memcpy(out, text, (size_t)(p - text));
	strcpy(out + (p - text), val);
	strcat(out, p + strlen(key));
	return out;
}

static struct experiment_spec *make_spec(const char *settings,
					 const char *layers)
{
	struct experiment_spec *spec = NULL;
	struct kb_error err;
	char *a = subst(enas_yaml, "@@SETTINGS@@", settings);
	char *b = subst(a, "@@LAYERS@@", layers);
	char msg[600];

	kb_error_clear(&err);
	if (spec_parse(b, strlen(b), "enas-test", &spec, &err)) {
		kb_error_format(&err, msg, sizeof(msg));
		fail_msg("%s", msg);
	}
	free(a);
	free(b);
	return spec;
}

static const struct algorithm_ops *enas(void)
{
	const struct algorithm_ops *o = algorithm_find("enas");

	assert_true(o->implemented);
	return o;
}

/* What Katib's trial code does: replace "'" by '"' and json.loads. */
static cJSON *katib_loads(const char *s)
{
	char *t = strdup(s), *p;
	cJSON *j;

	for (p = t; *p; p++)
		if (*p == '\'')
			*p = '"';
	j = cJSON_Parse(t);
	free(t);
	assert_non_null(j);
	return j;
}

static void test_format(void **state)
{
	struct experiment_spec *spec = make_spec(
		"      - {name: controller_train_steps, value: \"2\"}\n", "3");
	struct search_history h = { NULL, 0 };
	struct kb_error err;
	const char *names[4];
	char **out[3];
	void *priv;
	cJSON *arc, *cfg, *emb, *e;
	int i, l;

	(void)state;
	assert_int_equal(enas()->validate(spec, &err), 0);
	assert_int_equal(enas()->create(spec, NULL, &priv, &err), 0);
	assert_int_equal(enas()->assignment_names(priv, spec, names, 4), 2);
	assert_string_equal(names[0], "architecture");
	assert_string_equal(names[1], "nn_config");
	assert_int_equal(enas()->suggest(priv, spec, &h, 3, out, &err), 3);
	for (i = 0; i < 3; i++) {
		arc = katib_loads(out[i][0]);
		assert_int_equal(cJSON_GetArraySize(arc), 3);
		for (l = 0; l < 3; l++) {
			cJSON *layer = cJSON_GetArrayItem(arc, l);

			assert_int_equal(cJSON_GetArraySize(layer), l + 1);
			assert_true(cJSON_GetArrayItem(layer, 0)->valueint < 4);
		}
		cfg = katib_loads(out[i][1]);
		assert_int_equal(
			cJSON_GetObjectItem(cfg, "num_layers")->valueint, 3);
		assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(
					 cfg, "input_sizes")),
				 3);
		emb = cJSON_GetObjectItem(cfg, "embedding");
		cJSON_ArrayForEach(e, emb)
		{
			int id = atoi(e->string);

			assert_int_equal(
				cJSON_GetObjectItem(e, "opt_id")->valueint, id);
		}
		/* the layout Katib's json.dumps gives */
		assert_non_null(strstr(out[i][1], "{'num_layers': 3, "
						  "'input_sizes': [32, 32, 3], "
						  "'output_sizes': [10], "
						  "'embedding': {'"));
		assert_int_equal(out[i][0][0], '[');
		assert_int_equal(out[i][0][1], '[');
		cJSON_Delete(arc);
		cJSON_Delete(cfg);
		assignment_values_free(out[i], 2);
	}
	enas()->destroy(priv);
	spec_free(spec);
}

/* The four ops, exactly as Katib's Operation.py expands them. */
static void test_expanded_ops(void **state)
{
	static const char *const want[] = {
		"{'opt_id': 0, 'opt_type': 'convolution', 'opt_params': "
		"{'filter_size': '3', 'num_filter': '32'}}",
		"{'opt_id': 1, 'opt_type': 'convolution', 'opt_params': "
		"{'filter_size': '5', 'num_filter': '32'}}",
		"{'opt_id': 2, 'opt_type': 'reduction', 'opt_params': "
		"{'reduction_type': 'max_pooling', 'pool_size': 2}}",
		"{'opt_id': 3, 'opt_type': 'reduction', 'opt_params': "
		"{'reduction_type': 'max_pooling', 'pool_size': 3}}",
	};
	struct experiment_spec *spec = make_spec("", "1");
	struct search_history h = { NULL, 0 };
	struct kb_error err;
	char **out[40], expect[512];
	int seen[4] = { 0 }, i, op;
	void *priv;

	(void)state;
	assert_int_equal(enas()->create(spec, NULL, &priv, &err), 0);
	assert_int_equal(enas()->suggest(priv, spec, &h, 40, out, &err), 40);
	for (i = 0; i < 40; i++) {
		op = out[i][0][2] - '0';
		assert_true(op >= 0 && op < 4);
		snprintf(expect, sizeof(expect), "[[%d]]", op);
		assert_string_equal(out[i][0], expect);
		snprintf(expect, sizeof(expect),
			 "{'num_layers': 1, 'input_sizes': [32, 32, 3], "
			 "'output_sizes': [10], 'embedding': {'%d': %s}}",
			 op, want[op]);
		assert_string_equal(out[i][1], expect);
		seen[op] = 1;
		assignment_values_free(out[i], 2);
	}
	assert_true(seen[0] && seen[1] && seen[2] && seen[3]);
	enas()->destroy(priv);
	spec_free(spec);
}

/* A reward for each layer that uses op 2 must make op 2 likely. */
/*
 * One ENAS run: 40 rounds of 8 suggestions on 2 layers; a trial's
 * objective depends on how many layers chose op 2 (r of 2): accuracy
 * 0.5 + 0.25 r when maximizing, loss 1 - 0.25 r when minimizing. Returns
 * how often op 2 was chosen in the last 3 rounds (of *total), with the
 * controller saved and restored halfway.
 */
static int learn_run(struct experiment_spec *spec, int maximize, int *first,
		     int *total)
{
	struct history_trial trials[320];
	char **vals[320];
	struct search_history h = { trials, 0 };
	struct kb_error err;
	char **out[8], *saved;
	void *priv;
	int round, i, hits_last = 0;

	spec->objective.maximize = maximize;
	*first = *total = 0;
	assert_int_equal(enas()->create(spec, NULL, &priv, &err), 0);
	for (round = 0; round < 40; round++) {
		assert_int_equal(enas()->suggest(priv, spec, &h, 8, out, &err),
				 8);
		for (i = 0; i < 8; i++) {
			cJSON *arc = katib_loads(out[i][0]);
			int k, r = 0;

			for (k = 0; k < 2; k++)
				r += cJSON_GetArrayItem(
					     cJSON_GetArrayItem(arc, k), 0)
					     ->valueint == 2;
			cJSON_Delete(arc);
			if (round == 0)
				*first += r;
			if (round >= 37) {
				hits_last += r;
				*total += 2;
			}
			vals[h.ntrials] = out[i];
			trials[h.ntrials].values = out[i];
			trials[h.ntrials].state = HISTORY_SUCCEEDED;
			trials[h.ntrials].has_objective = 1;
			trials[h.ntrials].objective =
				maximize ? 0.5 + 0.25 * r : 1 - 0.25 * r;
			trials[h.ntrials].number = (int)h.ntrials + 1;
			h.ntrials++;
		}
		if (round == 20) { /* the weights survive a restart */
			saved = enas()->save(priv);
			assert_non_null(saved);
			enas()->destroy(priv);
			assert_int_equal(
				enas()->create(spec, saved, &priv, &err), 0);
			free(saved);
		}
	}
	for (i = 0; i < (int)h.ntrials; i++)
		assignment_values_free(vals[i], 2);
	enas()->destroy(priv);
	return hits_last;
}

/*
 * The controller learns which op is good, minimizing as well as
 * maximizing: the baseline follows the rewards at each training step, as
 * in Katib, so a loss (a negative reward) is judged against the others'
 * and not against 0. The sampling seed is the experiment's name.
 */
static void test_learns(void **state)
{
	static const char *const names[] = { "enas-test", "enas-seed-1",
					     "enas-seed-2" };
	struct experiment_spec *spec = make_spec(
		"      - {name: controller_learning_rate, value: \"0.01\"}\n"
		"      - {name: controller_hidden_size, value: \"16\"}\n",
		"2");
	char *name = spec->name;
	int n, maximize, first, total, last;

	(void)state;
	for (n = 0; n < 3; n++) {
		spec->name = (char *)names[n];
		for (maximize = 1; maximize >= 0; maximize--) {
			last = learn_run(spec, maximize, &first, &total);
			print_message("seed (experiment name) %s, %s: op 2 "
				      "chosen %d/16 at first, %d/%d at the "
				      "end\n",
				      names[n],
				      maximize ? "maximize" : "minimize", first,
				      last, total);
			assert_true(last > total * 7 / 10);
		}
	}
	spec->name = name;
	spec_free(spec);
}

/* Same experiment, same trials. */
static void test_reproducible(void **state)
{
	struct experiment_spec *spec = make_spec("", "4");
	struct search_history h = { NULL, 0 };
	struct kb_error err;
	char **a[2], **b[2];
	void *pa, *pb;
	int i;

	(void)state;
	assert_int_equal(enas()->create(spec, NULL, &pa, &err), 0);
	assert_int_equal(enas()->create(spec, NULL, &pb, &err), 0);
	assert_int_equal(enas()->suggest(pa, spec, &h, 2, a, &err), 2);
	assert_int_equal(enas()->suggest(pb, spec, &h, 2, b, &err), 2);
	for (i = 0; i < 2; i++) {
		assert_string_equal(a[i][0], b[i][0]);
		assert_string_equal(a[i][1], b[i][1]);
		assignment_values_free(a[i], 2);
		assignment_values_free(b[i], 2);
	}
	enas()->destroy(pa);
	enas()->destroy(pb);
	spec_free(spec);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_expanded_ops),
		cmocka_unit_test(test_learns),
		cmocka_unit_test(test_reproducible),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
