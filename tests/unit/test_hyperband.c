/* test_hyperband.c - Hyperband's brackets against Katib's arithmetic, that
 * it ends, and that its state survives save()/create(). */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "katib/algorithm.h"

#include "algo_test_util.h"

#define MAXT 256

struct hb_fixture {
	struct experiment_spec spec;
	struct param_spec params[3];
	struct algorithm_setting settings[3];
	struct tu_history th; /* the trials suggested, their values its own */
};

static void hb_init(struct hb_fixture *f, const char *r_l, const char *eta,
		    int parallel)
{
	static char *cats[] = { "a", "b", "c" };

	memset(f, 0, sizeof(*f));
	f->spec.name = "hb-test";
	f->spec.params = f->params;
	f->spec.nparams = 3;
	f->params[0].name = "x";
	f->params[0].type = PARAM_DOUBLE;
	f->params[0].min_value = 0;
	f->params[0].max_value = 1;
	f->params[1].name = "epochs";
	f->params[1].type = PARAM_INT;
	f->params[1].min_value = 1;
	f->params[1].max_value = 1;
	f->params[2].name = "c";
	f->params[2].type = PARAM_CATEGORICAL;
	f->params[2].list = cats;
	f->params[2].nlist = 3;
	f->spec.algorithm.name = "hyperband";
	f->spec.algorithm.settings = f->settings;
	f->settings[0].name = "resource_name";
	f->settings[0].value = "epochs";
	f->settings[1].name = "r_l";
	f->settings[1].value = (char *)r_l;
	f->spec.algorithm.nsettings = 2;
	if (eta) {
		f->settings[2].name = "eta";
		f->settings[2].value = (char *)eta;
		f->spec.algorithm.nsettings = 3;
	}
	f->spec.parallel_trial_count = parallel;
	f->spec.max_trial_count = -1;
	tu_history_init(&f->th, 3);
}

static void hb_free(struct hb_fixture *f)
{
	tu_history_free(&f->th);
}

/* Ask for `want`; the new trials are pending. Returns how many came. */
static int ask(struct hb_fixture *f, void *priv, size_t want)
{
	const struct algorithm_ops *ops = algorithm_find("hyperband");
	char **out[64];
	struct kb_error err;
	int n, i;

	n = ops->suggest(priv, &f->spec, &f->th.h, want, out, &err);
	assert_true(n >= 0);
	for (i = 0; i < n; i++) {
		assert_true(f->th.h.ntrials < MAXT);
		tu_add(&f->th, out[i]);
	}
	return n;
}

/* Finish every pending trial: objective = x (minimized). */
static void finish_all(struct hb_fixture *f)
{
	size_t i;

	for (i = 0; i < f->th.h.ntrials; i++) {
		struct history_trial *t = &f->th.trials[i];

		if (t->state == HISTORY_PENDING)
			tu_complete(t, strtod(t->values[0], NULL));
	}
}

/* Run to the end with `want` per request; rungs[] gets each rung's size
 * and resources[] its resource value. Returns the number of rungs. */
static int run(struct hb_fixture *f, void **priv, size_t want, int *rungs,
	       long *resources, int restart_at)
{
	const struct algorithm_ops *ops = algorithm_find("hyperband");
	struct kb_error err;
	int nr = 0, n, calls = 0;
	size_t first;
	char *state;

	for (;;) {
		first = f->th.h.ntrials;
		n = ask(f, *priv, want);
		if (++calls == restart_at) { /* unmount and mount again */
			state = ops->save(*priv);
			assert_non_null(state);
			ops->destroy(*priv);
			assert_int_equal(
				ops->create(&f->spec, state, priv, &err), 0);
			free(state);
		}
		if (!n)
			break;
		/* while a rung runs, nothing more comes */
		assert_int_equal(ask(f, *priv, want), 0);
		rungs[nr] = n;
		resources[nr++] =
			strtol(f->th.trials[first].values[1], NULL, 10);
		for (size_t k = first; k < f->th.h.ntrials; k++)
			assert_int_equal(
				strtol(f->th.trials[k].values[1], NULL, 10),
				resources[nr - 1]);
		finish_all(f);
	}
	return nr;
}

static void test_katib_numbers_9_3(void **state)
{
	const struct algorithm_ops *ops = algorithm_find("hyperband");
	/* Katib, r_l=9, eta=3: s_max=2; brackets (n, r) = (9, 1), (5, 3),
	 * (3, 9); rungs 9@1 3@3 1@9 | 5@3 2@9 | 3@9 */
	static const int want_rungs[] = { 9, 3, 1, 5, 2, 3 };
	static const long want_res[] = { 1, 3, 9, 3, 9, 9 };
	struct hb_fixture f;
	struct kb_error err;
	int rungs[16], nr, i;
	long res[16];
	void *priv;

	(void)state;
	hb_init(&f, "9", "3", 9);
	assert_true(ops->implemented);
	assert_int_equal(ops->validate(&f.spec, &err), 0);
	assert_int_equal(ops->create(&f.spec, NULL, &priv, &err), 0);
	nr = run(&f, &priv, 9, rungs, res, 0);
	assert_int_equal(nr, 6);
	for (i = 0; i < nr; i++) {
		assert_int_equal(rungs[i], want_rungs[i]);
		assert_int_equal(res[i], want_res[i]);
	}
	/* ended: 0 assignments, again and again */
	assert_int_equal(ask(&f, priv, 9), 0);
	assert_int_equal(f.th.h.ntrials, 23);
	/* the second rung is the best third of the first (smallest x) */
	{
		double xs[9];

		for (i = 0; i < 9; i++)
			xs[i] = strtod(f.th.trials[i].values[0], NULL);
		for (i = 9; i < 12; i++) {
			double x = strtod(f.th.trials[i].values[0], NULL);
			int better = 0;

			for (int k = 0; k < 9; k++)
				better += xs[k] < x;
			assert_true(better < 3);
		}
	}
	ops->destroy(priv);
	hb_free(&f);
}

static void test_small_requests_and_restart(void **state)
{
	const struct algorithm_ops *ops = algorithm_find("hyperband");
	/* Katib's example: r_l=2, eta=2: s_max=1; (2, 1), (2, 2) */
	struct hb_fixture f;
	struct kb_error err;
	void *priv;
	int n, total = 0;

	(void)state;
	hb_init(&f, "2", "2", 2);
	assert_int_equal(ops->create(&f.spec, NULL, &priv, &err), 0);
	/* one at a time: a rung is spread over requests */
	for (;;) {
		n = ask(&f, priv, 1);
		if (!n) {
			size_t pending = 0;

			for (size_t k = 0; k < f.th.h.ntrials; k++)
				pending +=
					f.th.trials[k].state == HISTORY_PENDING;
			if (!pending)
				break;
			finish_all(&f);
			continue;
		}
		total += n;
		if (total == 3) { /* save and restore mid-way */
			char *s = ops->save(priv);

			ops->destroy(priv);
			assert_int_equal(ops->create(&f.spec, s, &priv, &err),
					 0);
			free(s);
		}
	}
	assert_int_equal(total, 5);
	assert_string_equal(f.th.trials[0].values[1], "1");
	assert_string_equal(f.th.trials[1].values[1], "1");
	assert_string_equal(f.th.trials[2].values[1], "2");
	assert_string_equal(f.th.trials[3].values[1], "2");
	assert_string_equal(f.th.trials[4].values[1], "2");
	ops->destroy(priv);
	hb_free(&f);
}

static void test_restart_between_rungs(void **state)
{
	const struct algorithm_ops *ops = algorithm_find("hyperband");
	struct hb_fixture f;
	struct kb_error err;
	int rungs[16], nr;
	long res[16];
	void *priv;

	(void)state;
	hb_init(&f, "9", NULL, 9); /* eta defaults to 3 */
	assert_int_equal(ops->create(&f.spec, NULL, &priv, &err), 0);
	nr = run(&f, &priv, 9, rungs, res, 3);
	assert_int_equal(nr, 6);
	assert_int_equal(f.th.h.ntrials, 23);
	ops->destroy(priv);
	hb_free(&f);
}

static void test_reproducible_and_failures(void **state)
{
	const struct algorithm_ops *ops = algorithm_find("hyperband");
	struct hb_fixture a, b;
	struct kb_error err;
	void *pa, *pb;
	int i;

	(void)state;
	hb_init(&a, "9", "3", 9);
	hb_init(&b, "9", "3", 9);
	assert_int_equal(ops->create(&a.spec, NULL, &pa, &err), 0);
	assert_int_equal(ops->create(&b.spec, NULL, &pb, &err), 0);
	assert_int_equal(ask(&a, pa, 9), 9);
	assert_int_equal(ask(&b, pb, 9), 9);
	for (i = 0; i < 9; i++) {
		assert_string_equal(a.th.trials[i].values[0],
				    b.th.trials[i].values[0]);
		assert_string_equal(a.th.trials[i].values[2],
				    b.th.trials[i].values[2]);
		assert_true(strtod(a.th.trials[i].values[0], NULL) >= 0 &&
			    strtod(a.th.trials[i].values[0], NULL) <= 1);
	}
	/* all of the master rung failed: the bracket is dropped */
	for (i = 0; i < 9; i++)
		a.th.trials[i].state = HISTORY_FAILED;
	assert_int_equal(ask(&a, pa, 9), 5);
	assert_string_equal(a.th.trials[9].values[1], "3");
	ops->destroy(pa);
	ops->destroy(pb);
	hb_free(&a);
	hb_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_katib_numbers_9_3),
		cmocka_unit_test(test_small_requests_and_restart),
		cmocka_unit_test(test_restart_between_rungs),
		cmocka_unit_test(test_reproducible_and_failures),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
