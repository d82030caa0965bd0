/*
 * test_backend_collectors.c - which metrics collectors each backend takes
 * (backend_ops.collectors): every Katib kind on the local backend; on
 * kubernetes all but Push (a pod cannot reach the mount), named in the
 * refusal's message; of those, the kinds the kubernetes backend collects
 * itself (PrometheusMetric through the pod proxy, Custom's container log).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "katib/backend.h"

static void test_local(void **state)
{
	const struct backend_ops *b = backend_find("local");
	enum collector_kind k;
	char names[256];

	(void)state;
	assert_non_null(b);
	for (k = COLLECTOR_STDOUT; k <= COLLECTOR_KIND_LAST; k++)
		assert_true(backend_collects(b, k));
	backend_collector_names(b, names, sizeof(names));
	assert_string_equal(names, "StdOut, File, TensorFlowEvent, "
				   "PrometheusMetric, Custom, Push or None");
}

static void test_kubernetes(void **state)
{
	const struct backend_ops *b = backend_find("kubernetes");
	char names[256];

	(void)state;
	assert_non_null(b);
	assert_true(backend_collects(b, COLLECTOR_STDOUT));
	assert_true(backend_collects(b, COLLECTOR_FILE));
	assert_true(backend_collects(b, COLLECTOR_TFEVENT));
	assert_true(backend_collects(b, COLLECTOR_PROMETHEUS));
	assert_true(backend_collects(b, COLLECTOR_CUSTOM));
	assert_true(backend_collects(b, COLLECTOR_NONE));
	assert_false(backend_collects(b, COLLECTOR_PUSH));
	backend_collector_names(b, names, sizeof(names));
	assert_string_equal(names, "StdOut, File, TensorFlowEvent, "
				   "PrometheusMetric, Custom or None");
	assert_int_equal(b->collects_itself,
			 BACKEND_COLLECTOR(COLLECTOR_PROMETHEUS) |
				 BACKEND_COLLECTOR(COLLECTOR_CUSTOM));
	assert_int_equal(backend_find("local")->collects_itself, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_local),
		cmocka_unit_test(test_kubernetes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
