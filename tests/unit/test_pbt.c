/* test_pbt.c - PBT generations (exploit, explore, re-queue) and the
 * checkpoint copy and command rewrite of prepare_trial. */
#include <fcntl.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "katib/algorithm.h"

#include "algo_test_util.h"

#define MAXT 128

struct pbt_fixture {
	struct experiment_spec spec;
	struct param_spec params[3];
	struct algorithm_setting settings[4];
	struct tu_history th; /* the trials suggested, their values its own */
	void *priv;
};

static const struct algorithm_ops *pbt(void)
{
	const struct algorithm_ops *o = algorithm_find("pbt");

	assert_non_null(o);
	assert_true(o->implemented);
	return o;
}

static void pbt_init(struct pbt_fixture *f, const char *resample)
{
	static char *cats[] = { "sgd", "adam", "rmsprop" };
	struct kb_error err;

	memset(f, 0, sizeof(*f));
	f->spec.name = "pbt-test";
	f->spec.objective.maximize = 1;
	f->spec.params = f->params;
	f->spec.nparams = 3;
	f->params[0].name = "lr";
	f->params[0].type = PARAM_DOUBLE;
	f->params[0].min_value = 0.01;
	f->params[0].max_value = 0.1;
	f->params[0].step_value = 0.01;
	f->params[1].name = "layers";
	f->params[1].type = PARAM_INT;
	f->params[1].min_value = 1;
	f->params[1].max_value = 10;
	f->params[1].step_value = 1;
	f->params[2].name = "opt";
	f->params[2].type = PARAM_CATEGORICAL;
	f->params[2].list = cats;
	f->params[2].nlist = 3;
	f->spec.algorithm.name = "pbt";
	f->spec.algorithm.settings = f->settings;
	f->settings[0].name = "suggestion_trial_dir";
	f->settings[0].value = "/var/log/katib/checkpoints/";
	f->settings[1].name = "n_population";
	f->settings[1].value = "5";
	f->settings[2].name = "truncation_threshold";
	f->settings[2].value = "0.2";
	f->spec.algorithm.nsettings = 3;
	if (resample) {
		f->settings[3].name = "resample_probability";
		f->settings[3].value = (char *)resample;
		f->spec.algorithm.nsettings = 4;
	}
	f->spec.parallel_trial_count = 5;
	f->spec.max_trial_count = -1;
	tu_history_init(&f->th, 3);
	assert_int_equal(pbt()->validate(&f->spec, &err), 0);
	assert_int_equal(pbt()->create(&f->spec, NULL, &f->priv, &err), 0);
}

static void pbt_fini(struct pbt_fixture *f)
{
	pbt()->destroy(f->priv);
	tu_history_free(&f->th);
}

static int ask(struct pbt_fixture *f, size_t want)
{
	char **out[16];
	struct kb_error err;
	int n, i;

	n = pbt()->suggest(f->priv, &f->spec, &f->th.h, want, out, &err);
	assert_int_equal(n, (int)want); /* never fewer */
	for (i = 0; i < n; i++) {
		assert_true(f->th.h.ntrials < MAXT);
		tu_add(&f->th, out[i]);
	}
	return n;
}

/* objective: lr * layers (maximized) */
static void finish_all(struct pbt_fixture *f)
{
	size_t i;

	for (i = 0; i < f->th.h.ntrials; i++) {
		struct history_trial *t = &f->th.trials[i];

		if (t->state == HISTORY_PENDING)
			tu_complete(t, strtod(t->values[0], NULL) *
					       strtod(t->values[1], NULL));
	}
}

static double objective(char **v)
{
	return strtod(v[0], NULL) * strtod(v[1], NULL);
}

static int same(char **a, char **b)
{
	return !strcmp(a[0], b[0]) && !strcmp(a[1], b[1]) &&
	       !strcmp(a[2], b[2]);
}

static int is_perturbation(char **child, char **parent)
{
	double lr = strtod(child[0], NULL), plr = strtod(parent[0], NULL);
	long l = strtol(child[1], NULL, 10), pl = strtol(parent[1], NULL, 10);
	int lr_ok, l_ok;

	lr_ok = fabs(lr - fmin(0.1, fmax(0.01, plr * 0.8))) < 1e-9 ||
		fabs(lr - fmin(0.1, fmax(0.01, plr * 1.2))) < 1e-9;
	l_ok = l == (long)fmin(10, fmax(1, (double)(long)(pl * 0.8))) ||
	       l == (long)fmin(10, fmax(1, (double)(long)(pl * 1.2)));
	return lr_ok && l_ok && strcmp(child[2], parent[2]);
}

static void test_generations(void **state)
{
	struct pbt_fixture f;
	size_t i, k;
	int exploit = 0, explore = 0;

	(void)state;
	pbt_init(&f, NULL);
	ask(&f, 5); /* generation 0 from the space */
	for (i = 0; i < 5; i++) {
		double lr = strtod(f.th.trials[i].values[0], NULL);
		double steps = (lr - 0.01) / 0.01;

		assert_true(lr >= 0.01 - 1e-12 && lr <= 0.1 + 1e-12);
		assert_true(fabs(steps - nearbyint(steps)) < 1e-9);
	}
	finish_all(&f);
	ask(&f, 5); /* the pool holds only 5: more from the space */
	finish_all(&f);
	ask(&f, 5); /* 10 > 5: generation 1 from the pool of 10 */
	for (i = 10; i < 15; i++) {
		int found = 0;

		for (k = 0; k < 10; k++) {
			if (same(f.th.trials[i].values,
				 f.th.trials[k].values) &&
			    objective(f.th.trials[k].values) >= 0) {
				found = 1;
				exploit++;
				break;
			}
		}
		if (found)
			continue;
		for (k = 0; k < 10 && !found; k++)
			found = is_perturbation(f.th.trials[i].values,
						f.th.trials[k].values);
		assert_true(found);
		explore++;
	}
	/* int(5 * 0.2) = 1 exploits (copies of a top member), 4 explore;
	 * a perturbation can coincide with a copy only by chance */
	assert_true(exploit >= 1);
	assert_int_equal(exploit + explore, 5);
	pbt_fini(&f);
}

/* Katib perturbs an int as int(int(v) * 0.8 or 1.2), off its step grid:
 * width 32 with step 16 becomes 25 or 38 (it would never move if the
 * result snapped back to the grid). */
static void test_int_perturbs_off_grid(void **state)
{
	struct pbt_fixture f;
	struct kb_error err;
	size_t i, k, gen_start;
	int g, off_grid = 0;

	(void)state;
	pbt_init(&f, NULL);
	pbt()->destroy(f.priv);
	f.params[1].name = "width";
	f.params[1].min_value = 16;
	f.params[1].max_value = 64;
	f.params[1].step_value = 16;
	assert_int_equal(pbt()->create(&f.spec, NULL, &f.priv, &err), 0);
	ask(&f, 5);
	finish_all(&f);
	ask(&f, 5);
	finish_all(&f);
	for (g = 0; g < 4; g++) {
		gen_start = f.th.h.ntrials;
		ask(&f, 5);
		for (i = gen_start; i < f.th.h.ntrials; i++) {
			long w = strtol(f.th.trials[i].values[1], NULL, 10);
			int from_parent = 0;

			assert_true(w >= 16 && w <= 64);
			off_grid += w % 16 != 0;
			/* a copy of an earlier trial, or int(int(pw) * f) */
			for (k = 0; k < gen_start && !from_parent; k++) {
				long pw = strtol(f.th.trials[k].values[1], NULL,
						 10);

				from_parent =
					w == pw ||
					w == (long)fmin(
						     64,
						     fmax(16,
							  (double)(long)(pw *
									 0.8))) ||
					w == (long)fmin(
						     64,
						     fmax(16,
							  (double)(long)(pw *
									 1.2)));
			}
			assert_true(from_parent);
		}
		finish_all(&f);
	}
	print_message("%d of 20 explored widths off the step-16 grid\n",
		      off_grid);
	assert_true(off_grid > 0);
	pbt_fini(&f);
}

static void test_requeue_and_restore(void **state)
{
	struct pbt_fixture f;
	struct kb_error err;
	char *s;

	(void)state;
	pbt_init(&f, "0.5");
	ask(&f, 3);
	f.th.trials[1].state = HISTORY_FAILED;
	/* the failed trial is queued again (after the rest of the first
	 * population), with the same values */
	ask(&f, 3);
	assert_true(same(f.th.trials[5].values, f.th.trials[1].values));
	s = pbt()->save(f.priv);
	assert_non_null(s);
	pbt()->destroy(f.priv);
	assert_int_equal(pbt()->create(&f.spec, s, &f.priv, &err), 0);
	free(s);
	finish_all(&f);
	ask(&f, 4);
	pbt_fini(&f);
}

static void write_file(const char *path, const char *text)
{
	FILE *fp = fopen(path, "w");

	assert_non_null(fp);
	fputs(text, fp);
	fclose(fp);
}

static void read_file(const char *path, char *buf, size_t size)
{
	FILE *fp = fopen(path, "r");
	size_t n;

	assert_non_null(fp);
	n = fread(buf, 1, size - 1, fp);
	buf[n] = '\0';
	fclose(fp);
}

static const char *env_get(const struct trial_command *c, const char *name)
{
	size_t i, len = strlen(name);

	for (i = 0; i < c->nenv; i++)
		if (!strncmp(c->env[i], name, len) && c->env[i][len] == '=')
			return c->env[i] + len + 1;
	return NULL;
}

static void test_prepare_trial_copies_checkpoint(void **state)
{
	struct pbt_fixture f;
	struct trial_command cmd;
	struct kb_error err;
	char tmpl[] = "/tmp/pbt-test.XXXXXX", path[512], dir[512], buf[256],
	     expect[512];
	int parent, n;
	size_t i;

	(void)state;
	assert_non_null(mkdtemp(tmpl));
	pbt_init(&f, NULL);
	ask(&f, 5);
	finish_all(&f);
	ask(&f, 5);
	finish_all(&f);
	ask(&f, 5); /* trials 11..15 have parents */
	/* every trial of the first generations saved a checkpoint */
	for (n = 1; n <= 10; n++) {
		snprintf(path, sizeof(path), "%s/%d", tmpl, n);
		mkdir(path, 0755);
		snprintf(path, sizeof(path), "%s/%d/checkpoint", tmpl, n);
		mkdir(path, 0755);
		snprintf(path, sizeof(path), "%s/%d/checkpoint/model.txt", tmpl,
			 n);
		snprintf(buf, sizeof(buf), "weights of %d\n", n);
		write_file(path, buf);
		snprintf(path, sizeof(path), "%s/%d/checkpoint/sub", tmpl, n);
		mkdir(path, 0755);
		snprintf(path, sizeof(path), "%s/%d/checkpoint/sub/deep", tmpl,
			 n);
		write_file(path, "deep\n");
	}
	snprintf(dir, sizeof(dir), "%s/11", tmpl);
	mkdir(dir, 0755);
	memset(&cmd, 0, sizeof(cmd));
	cmd.argc = 3;
	cmd.argv = calloc(4, sizeof(char *));
	cmd.argv[0] = strdup("python3");
	cmd.argv[1] = strdup("--checkpoint=/var/log/katib/checkpoints/m.pt");
	cmd.argv[2] = strdup("/var/log/katib/checkpoints");
	cmd.nenv = 1;
	cmd.env = calloc(2, sizeof(char *));
	cmd.env[0] = strdup("CKPT=/var/log/katib/checkpoints/");
	assert_int_equal(pbt()->prepare_trial(f.priv, &f.spec, 11,
					      f.th.trials[10].values, dir, &cmd,
					      &err),
			 0);
	parent = atoi(env_get(&cmd, "KATIB_PBT_PARENT"));
	assert_true(parent >= 1 && parent <= 10);
	assert_string_equal(env_get(&cmd, "KATIB_PBT_GENERATION"), "1");
	snprintf(path, sizeof(path), "%s/checkpoint/model.txt", dir);
	read_file(path, buf, sizeof(buf));
	snprintf(expect, sizeof(expect), "weights of %d\n", parent);
	assert_string_equal(buf, expect);
	snprintf(path, sizeof(path), "%s/checkpoint/sub/deep", dir);
	read_file(path, buf, sizeof(buf));
	assert_string_equal(buf, "deep\n");
	snprintf(expect, sizeof(expect), "--checkpoint=%s/checkpoint/m.pt",
		 dir);
	assert_string_equal(cmd.argv[1], expect);
	snprintf(expect, sizeof(expect), "%s/checkpoint", dir);
	assert_string_equal(cmd.argv[2], expect);
	assert_string_equal(env_get(&cmd, "KATIB_PBT_CHECKPOINT_DIR"), expect);
	snprintf(expect, sizeof(expect), "%s/checkpoint/", dir);
	assert_string_equal(env_get(&cmd, "CKPT"), expect);
	trial_command_free(&cmd);

	/* a first-generation trial gets an empty checkpoint dir */
	snprintf(dir, sizeof(dir), "%s/1", tmpl);
	memset(&cmd, 0, sizeof(cmd));
	cmd.argc = 1;
	cmd.argv = calloc(2, sizeof(char *));
	cmd.argv[0] = strdup("true");
	assert_int_equal(pbt()->prepare_trial(f.priv, &f.spec, 1,
					      f.th.trials[0].values, dir, &cmd,
					      &err),
			 0);
	assert_string_equal(env_get(&cmd, "KATIB_PBT_PARENT"), "");
	assert_string_equal(env_get(&cmd, "KATIB_PBT_GENERATION"), "0");
	snprintf(path, sizeof(path), "%s/checkpoint/model.txt", dir);
	assert_int_equal(access(path, F_OK), -1);
	trial_command_free(&cmd);
	pbt_fini(&f);
	snprintf(buf, sizeof(buf), "rm -rf '%s'", tmpl);
	assert_int_equal(system(buf), 0);
	(void)i;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_generations),
		cmocka_unit_test(test_int_perturbs_off_grid),
		cmocka_unit_test(test_requeue_and_restore),
		cmocka_unit_test(test_prepare_trial_copies_checkpoint),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
