/*
 * test_kube_collectors.c - core/backends/kube/collectors.c: what each
 * collector adds to the primary pod, and the TensorFlowEvent sidecar's
 * stream written into the trial's copy of the event directory (frames
 * taken once whole, again without doubling, bad ones reported).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backends/kube/kube.h"

#include "fixtures.h"

static const char job[] =
	"{\"apiVersion\":\"batch/v1\",\"kind\":\"Job\",\"metadata\":{},"
	"\"spec\":{\"template\":{\"spec\":{\"containers\":[{\"name\":"
	"\"training-container\",\"image\":\"x\"}]}}}}";

/* The Job above with the collector (the lines under
 * metricsCollectorSpec) of fixture_job_spec() injected. */
static cJSON *inject(const char *collector)
{
	struct experiment_spec *spec;
	struct kb_error err = { 0 };
	char text[1024];
	cJSON *obj = cJSON_Parse(job);

	snprintf(text, sizeof(text), "  metricsCollectorSpec:\n%s", collector);
	spec = fixture_job_spec(text, "");
	if (kube_inject_collector(obj, spec, &err)) {
		kb_error_format(&err, text, sizeof(text));
		fail_msg("%s", text);
	}
	spec_free(spec);
	return obj;
}

static const char *str(cJSON *obj, const char *path)
{
	cJSON *r = kube_gjson_get(obj, path);
	static char buf[512];

	if (!r)
		fail_msg("no %s in %s", path, cJSON_PrintUnformatted(obj));
	snprintf(buf, sizeof(buf), "%s",
		 cJSON_IsString(r)   ? r->valuestring
		 : cJSON_IsTrue(r)   ? "true"
		 : cJSON_IsNumber(r) ? "number"
				     : "?");
	cJSON_Delete(r);
	return buf;
}

#define POD "spec.template.spec"

static void test_custom_injected(void **state)
{
	cJSON *obj = inject("    collector:\n"
			    "      kind: Custom\n"
			    "      customCollector:\n"
			    "        name: my-collector\n"
			    "        image: example.com/c:1\n"
			    "        args: [--x]\n"
			    "    source:\n"
			    "      fileSystemPath: {path: /var/m/out.log, "
			    "kind: File}\n");

	/* a plain container, as Katib's webhook adds it */
	assert_string_equal(str(obj, POD ".containers.1.name"), "my-collector");
	assert_string_equal(str(obj, POD ".containers.1.image"),
			    "example.com/c:1");
	assert_string_equal(str(obj, POD ".containers.1.args.0"), "--x");
	assert_string_equal(str(obj, POD ".shareProcessNamespace"), "true");
	assert_null(kube_gjson_get(obj, POD ".initContainers"));
	/* the file's directory shared by both */
	assert_string_equal(
		str(obj, POD ".containers.0.volumeMounts.0.mountPath"),
		"/var/m");
	assert_string_equal(
		str(obj, POD ".containers.1.volumeMounts.0.mountPath"),
		"/var/m");
	assert_string_equal(str(obj, POD ".volumes.0.name"),
			    str(obj, POD ".containers.1.volumeMounts.0.name"));
	cJSON_Delete(obj);
}

static void test_tfevent_injected(void **state)
{
	cJSON *obj = inject("    collector: {kind: TensorFlowEvent}\n"
			    "    source:\n"
			    "      fileSystemPath: {path: /var/tb, kind: "
			    "Directory}\n");

	assert_string_equal(str(obj, POD ".initContainers.0.name"),
			    KUBE_COLLECTOR_CONTAINER);
	assert_string_equal(str(obj, POD ".initContainers.0.restartPolicy"),
			    "Always");
	assert_string_equal(str(obj, POD ".initContainers.0.env.0.value"),
			    "/var/tb");
	assert_string_equal(
		str(obj, POD ".containers.0.volumeMounts.0.mountPath"),
		"/var/tb");
	assert_null(kube_gjson_get(obj, POD ".containers.1"));
	cJSON_Delete(obj);
}

static void test_others_not_injected(void **state)
{
	cJSON *obj = inject("    collector: {kind: PrometheusMetric}\n");
	char *text = cJSON_PrintUnformatted(obj);
	cJSON *plain = cJSON_Parse(job);
	char *want = cJSON_PrintUnformatted(plain);

	assert_string_equal(text, want);
	free(text);
	free(want);
	cJSON_Delete(plain);
	cJSON_Delete(obj);
}

/* ---- the stream ---- */

struct problems {
	char text[4096];
};

static void problem(void *ctx, const char *what)
{
	struct problems *p = ctx;

	snprintf(p->text + strlen(p->text), sizeof(p->text) - strlen(p->text),
		 "%s\n", what);
}

static void append(const char *path, const char *text)
{
	FILE *f = fopen(path, "a");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static char *slurp(const char *path)
{
	static char buf[4096];
	FILE *f = fopen(path, "r");
	size_t n;

	if (!f)
		return NULL;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

/* "dHJhaW4vZXY=" is base64 of "train/ev"; "aGVsbG8g" of "hello ",
 * "d29ybGQ=" of "world". */
static void test_mirror(void **state)
{
	char dir[64] = "/tmp/katib-kcoll-XXXXXX", stream[128], copy[128],
	     file[160], cmd[200];
	struct problems pr = { "" };
	off_t done = 0;

	assert_non_null(mkdtemp(dir));
	snprintf(stream, sizeof(stream), "%s/stream", dir);
	snprintf(copy, sizeof(copy), "%s/copy", dir);
	snprintf(file, sizeof(file), "%s/train/ev", copy);
	assert_int_equal(mkdir(copy, 0755), 0);
	append(stream, "katibfs-tfevent 0 6 dHJhaW4vZXY=\naGVsbG8g\n"
		       "katibfs-tfevent-end\n"
		       "katibfs-tfevent 6 5 dHJhaW4vZXY=\nd29y");
	assert_int_equal(kube_tfevent_mirror(stream, &done, copy, problem, &pr),
			 0);
	assert_string_equal(slurp(file), "hello ");
	assert_int_equal(done, 62); /* the second frame is still arriving */
	append(stream, "bGQ=\nkatibfs-tfevent-end\n");
	assert_int_equal(kube_tfevent_mirror(stream, &done, copy, problem, &pr),
			 0);
	assert_string_equal(slurp(file), "hello world");
	/* a daemon mounted again decodes the whole stream again; a
	 * sidecar restarted sends from 0 again: nothing doubles */
	done = 0;
	append(stream, "katibfs-tfevent 0 6 dHJhaW4vZXY=\naGVsbG8g\n"
		       "katibfs-tfevent-end\n");
	assert_int_equal(kube_tfevent_mirror(stream, &done, copy, problem, &pr),
			 0);
	assert_string_equal(slurp(file), "hello world");
	assert_string_equal(pr.text, "");
	/* a name that leaves the copy, a damaged frame: reported, skipped */
	append(stream, "katibfs-tfevent 0 2 Li4vZXNj\naGk=\n"
		       "katibfs-tfevent-end\n"
		       "katibfs-tfevent 11 9 dHJhaW4vZXY=\naGk=\n"
		       "katibfs-tfevent-end\n");
	assert_int_equal(kube_tfevent_mirror(stream, &done, copy, problem, &pr),
			 0);
	assert_string_equal(slurp(file), "hello world");
	assert_non_null(strstr(pr.text, "a malformed frame header: "
					"katibfs-tfevent 0 2 Li4vZXNj"));
	assert_non_null(strstr(pr.text, "train/ev: a frame of 9 bytes at "
					"offset 11 arrived damaged"));
	assert_null(slurp("/tmp/katib-kcoll-esc"));
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_custom_injected),
		cmocka_unit_test(test_tfevent_injected),
		cmocka_unit_test(test_others_not_injected),
		cmocka_unit_test(test_mirror),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
