/*
 * test_kube_gjson.c - the GJSON subset of core/backends/kube/gjson.c, one test
 * per form Katib's defaults and examples use.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "backends/kube/kube.h"

static const char job_complete[] =
	"{\"status\":{\"succeeded\":1,\"conditions\":["
	"{\"type\":\"Suspended\",\"status\":\"False\"},"
	"{\"type\":\"Complete\",\"status\":\"True\"}]}}";
static const char job_running[] =
	"{\"status\":{\"active\":1,\"conditions\":[]}}";
static const char job_complete_false[] =
	"{\"status\":{\"conditions\":["
	"{\"type\":\"Complete\",\"status\":\"False\"}]}}";
static const char pytorch_succeeded[] =
	"{\"status\":{\"conditions\":["
	"{\"type\":\"Created\",\"status\":\"True\"},"
	"{\"type\":\"Running\",\"status\":\"False\"},"
	"{\"type\":\"Succeeded\",\"status\":\"True\"}]}}";
static const char argo_ok[] = "{\"status\":{\"phase\":\"Succeeded\"}}";
static const char argo_running[] = "{\"status\":{\"phase\":\"Running\"}}";

#define JOB_OK	 "status.conditions.#(type==\"Complete\")#|#(status==\"True\")#"
#define JOB_FAIL "status.conditions.#(type==\"Failed\")#|#(status==\"True\")#"
#define TRAIN_OK                                                               \
	"status.conditions.#(type==\"Succeeded\")#|#(status==\"True\")#"
#define ARGO_OK "status.[@this].#(phase==\"Succeeded\")#"

static int match(const char *json, const char *path)
{
	cJSON *o = cJSON_Parse(json);
	int r;

	assert_non_null(o);
	r = kube_gjson_match(o, path);
	cJSON_Delete(o);
	return r;
}

static char *get(const char *json, const char *path)
{
	cJSON *o = cJSON_Parse(json), *r;
	char *s;

	assert_non_null(o);
	r = kube_gjson_get(o, path);
	cJSON_Delete(o);
	if (!r)
		return NULL;
	s = cJSON_PrintUnformatted(r);
	cJSON_Delete(r);
	return s;
}

static void assert_get(const char *json, const char *path, const char *want)
{
	char *s = get(json, path);

	if (!want) {
		assert_null(s);
		return;
	}
	assert_non_null(s);
	assert_string_equal(s, want);
	free(s);
}

static void test_job_default(void **state)
{
	assert_true(match(job_complete, JOB_OK));
	assert_false(match(job_complete, JOB_FAIL));
	assert_false(match(job_running, JOB_OK));
	assert_false(match(job_running, JOB_FAIL));
	assert_false(match(job_complete_false, JOB_OK));
	assert_false(match("{}", JOB_OK));
	assert_get(job_running, JOB_OK, "[]");
	assert_get("{\"status\":{}}", JOB_OK, NULL);
	assert_get(job_complete_false, JOB_OK, "[]");
}

static void test_training_default(void **state)
{
	assert_true(match(pytorch_succeeded, TRAIN_OK));
	assert_false(match(pytorch_succeeded,
			   "status.conditions.#(type==\"Failed\")#|"
			   "#(status==\"True\")#"));
	assert_false(match(pytorch_succeeded,
			   "status.conditions.#(type==\"Running\")#|"
			   "#(status==\"True\")#"));
}

static void test_this_multipath(void **state)
{
	assert_true(match(argo_ok, ARGO_OK));
	assert_false(match(argo_running, ARGO_OK));
	assert_get(argo_ok, "status.[@this]", "[{\"phase\":\"Succeeded\"}]");
	assert_get(argo_ok, "@this.status.phase", "\"Succeeded\"");
}

static void test_first_match_and_map(void **state)
{
	assert_get(pytorch_succeeded, "status.conditions.#(type==\"Running\")",
		   "{\"type\":\"Running\",\"status\":\"False\"}");
	assert_get(pytorch_succeeded,
		   "status.conditions.#(type==\"Running\").status",
		   "\"False\"");
	assert_get(pytorch_succeeded,
		   "status.conditions.#(status==\"True\")#.type",
		   "[\"Created\",\"Succeeded\"]");
	assert_get(pytorch_succeeded, "status.conditions.#.type",
		   "[\"Created\",\"Running\",\"Succeeded\"]");
	assert_get(pytorch_succeeded, "status.conditions.#", "3");
	assert_get(pytorch_succeeded, "status.conditions.1.type",
		   "\"Running\"");
	assert_get(pytorch_succeeded, "status.conditions.#(type==\"Nope\")",
		   NULL);
}

static void test_operators(void **state)
{
	const char *j = "{\"a\":[{\"n\":1,\"s\":\"abc\",\"b\":true},"
			"{\"n\":5,\"s\":\"xyz\",\"b\":false}]}";

	assert_get(j, "a.#(n>2).s", "\"xyz\"");
	assert_get(j, "a.#(n<=1).s", "\"abc\"");
	assert_get(j, "a.#(n!=1).s", "\"xyz\"");
	assert_get(j, "a.#(n>=1)#.n", "[1,5]");
	assert_get(j, "a.#(s%\"x*\").n", "5");
	assert_get(j, "a.#(s!%\"x*\").n", "1");
	assert_get(j, "a.#(b==true).n", "1");
	assert_get(j, "a.#(s)#.n", "[1,5]");
	assert_true(match(j, "a.#(n==5)"));
	assert_false(match(j, "a.#(n==6)"));
	assert_false(match(j, "a.0.b.c"));
	assert_get("{\"a.b\":1}", "a\\.b", "1");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_job_default),
		cmocka_unit_test(test_training_default),
		cmocka_unit_test(test_this_multipath),
		cmocka_unit_test(test_first_match_and_map),
		cmocka_unit_test(test_operators),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
