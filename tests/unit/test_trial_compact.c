/*
 * test_trial_compact.c - an ended trial made small (trial_compact: its
 * running part freed, its script packed, its observations, series and
 * metric summaries moved into the experiment's arena, its values in one
 * block) reads back exactly as before; an observation given to it after it
 * ended (a pushed metric, a remount) copies them out again and is kept;
 * ASan (make check) sees every byte freed with the experiment.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collectors/metrics.h"
#include "engine/controller.h"
#include "engine/daemon.h"

#include "fixtures.h"

#define SCRIPT                                                                 \
	"#!/bin/sh\n# katibfs: experiment random, trial %d\n"                  \
	"cd '/tmp/state/experiments/random/%d' || exit 1\n"                    \
	"exec python3 /opt/pytorch-mnist/mnist.py --lr=0.0%d\n"

static void observe(struct experiment *e, struct trial *t, double time,
		    const char *value)
{
	struct observation o;

	memset(&o, 0, sizeof(o));
	o.metric = 0;
	o.time = time;
	snprintf(o.value, sizeof(o.value), "%s", value);
	trial_record_observation(e, t, &o);
}

/* t's `observations` file, as a read of it returns it (caller frees). */
static char *observations_file(const struct trial *t)
{
	size_t size = trial_observations_size(t);
	char *buf = calloc(1, size + 1);

	assert_non_null(buf);
	assert_int_equal(trial_observations_read(t, buf, size + 10, 0),
			 (ssize_t)size);
	return buf;
}

static char *script_of(const struct experiment *e, const struct trial *t)
{
	struct strbuf b = { 0 };

	assert_int_equal(trial_command(e, t, &b), 0);
	return strbuf_take(&b, NULL);
}

static struct trial *new_trial(struct experiment *e, int number)
{
	struct trial *t = trial_alloc();
	char script[512], name[TRIAL_NAME_MAX];

	assert_non_null(t);
	t->number = number;
	t->state = TRIAL_RUNNING;
	snprintf(name, sizeof(name), "random-%08d", number);
	assert_int_equal(trial_set_name(e, t, name), 0);
	snprintf(script, sizeof(script), SCRIPT, number, number, number);
	t->command = strdup(script);
	t->nvalues = 2;
	t->values = calloc(2, sizeof(char *));
	assert_non_null(t->values);
	t->values[0] = strdup("0.01");
	t->values[1] = strdup("0.5");
	assert_int_equal(trial_live_new(t), 0);
	assert_int_equal(experiment_append_trial(e, t), 0);
	assert_int_equal(trial_init_metrics(e, t), 0);
	trial_values_pack(e, t);
	return t;
}

static void test_ended_trial_reads_back(void **state)
{
	struct experiment *e = calloc(1, sizeof(*e));
	char *obs, *script, *again;
	struct kb_error err;
	struct trial *t;
	int i;

	(void)state;
	assert_non_null(e);
	e->spec = fixture_parse_ok(FIXTURE_BASE_SPEC);
	kb_error_clear(&err);
	assert_int_equal(metrics_parser_new(e->spec, &e->parser, &err), 0);
	for (i = 1; i <= 3; i++)
		new_trial(e, i);
	t = e->trials[1];
	assert_string_equal(t->values[0], "0.01");
	assert_string_equal(t->values[1], "0.5");
	assert_true(t->sealed & SEALED_VALUES);
	observe(e, t, 1.0, "0.75");
	observe(e, t, 2.0, "0.5");
	obs = observations_file(t);
	assert_string_equal(obs, "timestamp,name,value\n"
				 "1970-01-01T00:00:01.000000Z,loss,0.75\n"
				 "1970-01-01T00:00:02.000000Z,loss,0.5\n");
	script = script_of(e, t);

	trial_set_state(e, t, TRIAL_SUCCEEDED);
	assert_null(t->live); /* nothing held it: freed as it ended */
	assert_true(t->command_packed);
	assert_int_equal(t->sealed & (SEALED_COMMAND | SEALED_OBSERVATIONS |
				      SEALED_SERIES | SEALED_SUMMARIES),
			 SEALED_COMMAND | SEALED_OBSERVATIONS | SEALED_SERIES |
				 SEALED_SUMMARIES);
	again = observations_file(t);
	assert_string_equal(again, obs);
	free(again);
	again = script_of(e, t);
	assert_string_equal(again, script);
	free(again);
	assert_int_equal(t->nseries, 2);
	assert_true(t->series[0] == 0.75 && t->series[1] == 0.5);
	assert_string_equal(metric_summary_latest(&t->summaries[0]), "0.5");

	/* an observation after the end: copied out of the arena, kept */
	observe(e, t, 3.0, "0.25");
	assert_false(t->sealed &
		     (SEALED_OBSERVATIONS | SEALED_SERIES | SEALED_SUMMARIES));
	again = observations_file(t);
	assert_non_null(strstr(again, "00:00:03.000000Z,loss,0.25\n"));
	assert_int_equal(strlen(again), strlen(obs) + 38);
	free(again);
	assert_int_equal(t->nseries, 3);
	assert_true(t->series[2] == 0.25);
	trial_compact(e, t); /* sealed again */
	assert_true(t->sealed & SEALED_OBSERVATIONS);
	assert_string_equal(metric_summary_latest(&t->summaries[0]), "0.25");

	/* metrics reset (a remount reloads them): nothing left in the arena */
	assert_int_equal(trial_init_metrics(e, t), 0);
	assert_int_equal(trial_observations_size(t),
			 strlen(OBSERVATIONS_HEADER));
	assert_int_equal(t->nseries, 0);

	/* the other trials: one never started, one still running */
	trial_set_state(e, e->trials[0], TRIAL_KILLED);
	assert_null(e->trials[0]->live);
	again = script_of(e, e->trials[0]);
	assert_non_null(strstr(again, "trial 1\n"));
	free(again);
	assert_non_null(e->trials[2]->live);
	free(obs);
	free(script);
	experiment_free(e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ended_trial_reads_back),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
