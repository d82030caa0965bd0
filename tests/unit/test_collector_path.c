/*
 * test_collector_path.c - the path arithmetic of private collector paths
 * (core/collectors/collector_path.c): normalization, containment, and which
 * directory each collector kind makes private and where it is kept.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "collectors/collector_path.h"

static void normalize_is(const char *in, const char *want)
{
	char out[COLLECTOR_PATH_SIZE];

	assert_int_equal(path_normalize(in, out, sizeof(out)), 0);
	assert_string_equal(out, want);
}

static void test_normalize(void **state)
{
	char small[8];

	(void)state;
	normalize_is("/", "/");
	normalize_is("//", "/");
	normalize_is("/var/log/katib/", "/var/log/katib");
	normalize_is("/var//log/./katib", "/var/log/katib");
	normalize_is("/var/log/../tmp/x", "/var/tmp/x");
	normalize_is("/../..", "/");
	normalize_is("/a/b/c/../../d", "/a/d");
	normalize_is("/a/..b/.c", "/a/..b/.c");
	assert_int_equal(path_normalize("var/log", small, sizeof(small)),
			 -EINVAL);
	assert_int_equal(path_normalize("", small, sizeof(small)), -EINVAL);
	assert_int_equal(path_normalize("/abcdefgh", small, sizeof(small)),
			 -ENAMETOOLONG);
	assert_int_equal(path_normalize("/abcdef", small, sizeof(small)), 0);
	assert_string_equal(small, "/abcdef");
}

static void test_within(void **state)
{
	(void)state;
	assert_true(path_within("/var/log/katib", "/var/log/katib"));
	assert_true(path_within("/var/log/katib/x", "/var/log/katib/"));
	assert_true(path_within("/anything", "/"));
	assert_true(path_within("/var/log/../log/katib", "/var/log"));
	assert_false(path_within("/var/log/katibx", "/var/log/katib"));
	assert_false(path_within("/var/log", "/var/log/katib"));
	assert_false(path_within("relative", "/"));
}

static struct collector_spec collector(enum collector_kind kind,
				       const char *path)
{
	struct collector_spec c;

	memset(&c, 0, sizeof(c));
	c.kind = kind;
	c.path = (char *)path;
	return c;
}

static void test_file_view(void **state)
{
	struct collector_spec c =
		collector(COLLECTOR_FILE, "/var/log/katib//metrics.log");
	struct collector_view v;

	(void)state;
	assert_true(collector_path_is_shared(&c));
	assert_int_equal(collector_view(&c, "/s/experiments/e/3", &v), 1);
	assert_string_equal(v.shared, "/var/log/katib/metrics.log");
	assert_string_equal(v.target, "/var/log/katib");
	assert_string_equal(v.backing, "/s/experiments/e/3/collector");
	assert_string_equal(v.file, "/s/experiments/e/3/collector/metrics.log");
	assert_string_equal(v.leftover,
			    "/s/experiments/e/3/leftover-metrics.log");
}

static void test_file_in_root(void **state)
{
	struct collector_spec c = collector(COLLECTOR_FILE, "/metrics.log");
	struct collector_view v;

	(void)state;
	/* a view of "/" is impossible: the caller refuses it */
	assert_int_equal(collector_view(&c, "/s/e/1", &v), 1);
	assert_string_equal(v.target, "/");
	assert_string_equal(v.file, "/s/e/1/collector/metrics.log");
}

static void test_tfevent_view(void **state)
{
	struct collector_spec c =
		collector(COLLECTOR_TFEVENT, "/var/log/katib/tfevent/");
	struct collector_view v;

	(void)state;
	assert_int_equal(collector_view(&c, "/s/e/2", &v), 1);
	assert_string_equal(v.target, "/var/log/katib/tfevent");
	assert_string_equal(v.backing, "/s/e/2/collector");
	assert_string_equal(v.file, "/s/e/2/collector");
}

static void test_nothing_to_do(void **state)
{
	struct collector_spec stdout_c = collector(COLLECTOR_STDOUT, NULL);
	struct collector_spec push = collector(COLLECTOR_PUSH, NULL);
	struct collector_spec rel = collector(COLLECTOR_FILE, "out/m.log");
	struct collector_spec inside =
		collector(COLLECTOR_FILE, "/s/e/2/out/m.log");
	struct collector_spec prom =
		collector(COLLECTOR_PROMETHEUS, "/var/log/x");
	struct collector_view v;

	(void)state;
	assert_false(collector_path_is_shared(&stdout_c));
	assert_false(collector_path_is_shared(&push));
	assert_false(collector_path_is_shared(&rel));
	assert_false(collector_path_is_shared(&prom));
	assert_int_equal(collector_view(&stdout_c, "/s/e/2", &v), 0);
	assert_int_equal(collector_view(&rel, "/s/e/2", &v), 0);
	/* already the trial's own (its own directory), though shared by
	 * the experiment's other trials */
	assert_true(collector_path_is_shared(&inside));
	assert_int_equal(collector_view(&inside, "/s/e/2", &v), 0);
	assert_int_equal(collector_view(&inside, "/s/e/3", &v), 1);
}

static void test_too_long(void **state)
{
	char dir[COLLECTOR_PATH_SIZE];
	struct collector_spec c = collector(COLLECTOR_FILE, "/var/log/m.log");
	struct collector_view v;

	(void)state;
	memset(dir, 'a', sizeof(dir) - 1);
	dir[0] = '/';
	dir[sizeof(dir) - 1] = '\0';
	assert_int_equal(collector_view(&c, dir, &v), -ENAMETOOLONG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_normalize),
		cmocka_unit_test(test_within),
		cmocka_unit_test(test_file_view),
		cmocka_unit_test(test_file_in_root),
		cmocka_unit_test(test_tfevent_view),
		cmocka_unit_test(test_nothing_to_do),
		cmocka_unit_test(test_too_long),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
