/* test_suggest.c - the edit distance and the "did you mean" rule. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "spec/suggest.h"

static void test_distance(void **state)
{
	assert_int_equal(suggest_distance("", ""), 0);
	assert_int_equal(suggest_distance("gamma", "gamma"), 0);
	assert_int_equal(suggest_distance("gama", "gamma"), 1);	   /* insert */
	assert_int_equal(suggest_distance("gammma", "gamma"), 1);  /* delete */
	assert_int_equal(suggest_distance("gamna", "gamma"), 1);   /* change */
	assert_int_equal(suggest_distance("gmama", "gamma"), 1);   /* swap */
	assert_int_equal(suggest_distance("Random", "random"), 0); /* case */
	assert_int_equal(suggest_distance("kitten", "sitting"), 3);
	assert_int_equal(suggest_distance("", "abc"), 3);
	assert_int_equal(suggest_distance("abc", ""), 3);
	assert_int_equal(suggest_distance("ca", "abc"), 3); /* OSA, not DL */
	/* symmetric */
	assert_int_equal(suggest_distance("sitting", "kitten"), 3);
}

static void test_too_long(void **state)
{
	char a[SUGGEST_MAX_LEN + 2];

	memset(a, 'a', sizeof(a) - 1);
	a[sizeof(a) - 1] = '\0';
	assert_int_equal(suggest_distance(a, "a"), SUGGEST_FAR);
	assert_null(suggest_from_list(a, (const char *const[]){ a, NULL }));
}

static void test_rule(void **state)
{
	static const char *const algos[] = { "random", "grid",
					     "tpe",    "multivariate-tpe",
					     "cmaes",  "bayesianoptimization",
					     NULL };
	static const char *const fields[] = { "parallelTrialCount",
					      "maxTrialCount",
					      "maxFailedTrialCount", NULL };

	assert_string_equal(suggest_from_list("randm", algos), "random");
	assert_string_equal(suggest_from_list("Random", algos), "random");
	assert_string_equal(suggest_from_list("cmaes2", algos), "cmaes");
	/* a third of the length: 4 edits in a 20-letter word */
	assert_string_equal(suggest_from_list("bayesianoptimisatin", algos),
			    "bayesianoptimization");
	assert_string_equal(suggest_from_list("paralelTrialCount", fields),
			    "parallelTrialCount");
	/* closest wins, not first */
	assert_string_equal(suggest_from_list("maxFailedTrialCont", fields),
			    "maxFailedTrialCount");
	/* too far: no suggestion */
	assert_null(suggest_from_list("hyperopt", algos));
	assert_null(suggest_from_list("x", algos));
	/* a short word never gets an unrelated one ("ab" -> "tpe" is 3) */
	assert_null(suggest_from_list("ab", algos));
	/* exact names are not suggested back */
	assert_null(suggest_from_list("grid",
				      (const char *const[]){ "grid", NULL }));
	assert_null(suggest_from_list(NULL, algos));
}

static void test_hint(void **state)
{
	static const char *const greek[] = { "beta", "gamma", NULL };
	struct suggest s;
	char buf[64];

	suggest_init(&s, "gama");
	suggest_offer(&s, "beta");
	suggest_offer(&s, NULL);
	suggest_offer(&s, "gamma");
	assert_string_equal(suggest_hint(&s, buf, sizeof(buf)),
			    "; did you mean gamma?");
	suggest_init(&s, "zzzz");
	suggest_offer(&s, "gamma");
	assert_string_equal(suggest_hint(&s, buf, sizeof(buf)), "");
	assert_string_equal(suggest_list_hint("gamm", greek, buf, sizeof(buf)),
			    "; did you mean gamma?");
	assert_string_equal(suggest_list_hint("kappa", greek, buf, sizeof(buf)),
			    "");
	/* truncates, never overflows */
	suggest_list_hint("gamm", greek, buf, 8);
	assert_int_equal(strlen(buf), 7);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_distance),
		cmocka_unit_test(test_too_long),
		cmocka_unit_test(test_rule),
		cmocka_unit_test(test_hint),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
