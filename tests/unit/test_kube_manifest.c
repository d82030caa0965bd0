/*
 * test_kube_manifest.c - spec_render_manifest(): the trial manifest for a
 * cluster, also when the primary container has no command.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backends/kube/kube.h"
#include "spec/kube_manifest.h"

#include "fixtures.h"

/* fixture_job_spec() with the container lines `command`, rendered for
 * trial m-abcdefgh (lr 0.03) in namespace ml. */
static void render(const char *command, cJSON **obj, struct trial_command *c)
{
	struct experiment_spec *spec = fixture_job_spec("", command);
	struct kb_error err = { 0 };
	struct assignment a = { .name = "lr", .value = "0.03" };

	assert_int_equal(
		spec_render_manifest(spec, "m-abcdefgh", "ml", &a, 1, c, &err),
		0);
	spec_free(spec);
	*obj = cJSON_Parse(c->manifest);
	assert_non_null(*obj);
}

static const char *str(cJSON *obj, const char *path)
{
	cJSON *r = kube_gjson_get(obj, path);
	static char buf[256];

	assert_non_null(r);
	snprintf(buf, sizeof(buf), "%s",
		 cJSON_IsString(r) ? r->valuestring : "?");
	cJSON_Delete(r);
	return buf;
}

#define C0 "spec.template.spec.containers.0"

static void test_without_command(void **state)
{
	struct trial_command c;
	cJSON *obj, *cmd;

	render("", &obj, &c);
	assert_string_equal(str(obj, "metadata.name"), "m-abcdefgh");
	assert_string_equal(str(obj, "metadata.namespace"), "ml");
	assert_string_equal(str(obj, C0 ".args.0"), "--lr=0.03");
	assert_string_equal(
		str(obj, "metadata.labels.katib\\.kubeflow\\.org/experiment"),
		"m");
	assert_string_equal(
		str(obj, "metadata.labels.katib\\.kubeflow\\.org/trial"),
		"m-abcdefgh");
	cmd = kube_gjson_get(obj, C0 ".command");
	assert_null(cmd);
	assert_false(strstr(c.manifest, "placeholder"));
	cJSON_Delete(obj);
	trial_command_free(&c);
}

static void test_with_command(void **state)
{
	struct trial_command c;
	cJSON *obj;

	/* as Katib's pod webhook leaves it for the StdOut collector */
	render("                command: [python3, /opt/train.py]\n", &obj, &c);
	assert_string_equal(str(obj, C0 ".command.0"), "sh");
	assert_string_equal(str(obj, C0 ".command.1"), "-c");
	assert_null(kube_gjson_get(obj, C0 ".command.2"));
	assert_string_equal(str(obj, C0 ".args.0"),
			    "python3 /opt/train.py --lr=0.03");
	assert_null(kube_gjson_get(obj, C0 ".args.1"));
	assert_int_equal(c.argc, 3);
	assert_string_equal(c.argv[2], "python3 /opt/train.py --lr=0.03");
	cJSON_Delete(obj);
	trial_command_free(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_without_command),
		cmocka_unit_test(test_with_command),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
