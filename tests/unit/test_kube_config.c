/*
 * test_kube_config.c - kubeconfig reading (core/backends/kube/kubeconfig.c):
 * the fields kubectl reads, the file search order and the in-cluster account.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backends/kube/kube.h"

static const char two_contexts[] =
	"apiVersion: v1\n"
	"kind: Config\n"
	"clusters:\n"
	"- name: prod\n"
	"  cluster:\n"
	"    server: https://prod.example:6443/\n"
	"    certificate-authority: certs/ca.crt\n"
	"- name: dev\n"
	"  cluster:\n"
	"    server: https://127.0.0.1:1234\n"
	"    certificate-authority-data: aGVsbG8gY2E=\n"
	"    insecure-skip-tls-verify: true\n"
	"users:\n"
	"- name: alice\n"
	"  user:\n"
	"    client-certificate-data: Y2VydA==\n"
	"    client-key-data: a2V5\n"
	"- name: bob\n"
	"  user:\n"
	"    tokenFile: /var/run/token\n"
	"- name: cloud\n"
	"  user:\n"
	"    exec:\n"
	"      apiVersion: client.authentication.k8s.io/v1beta1\n"
	"      command: gke-gcloud-auth-plugin\n"
	"      args: [--flag]\n"
	"      env:\n"
	"      - name: FOO\n"
	"        value: bar\n"
	"contexts:\n"
	"- name: prod-ctx\n"
	"  context: {cluster: prod, user: alice, namespace: ml}\n"
	"- name: dev-ctx\n"
	"  context: {cluster: dev, user: bob}\n"
	"- name: cloud-ctx\n"
	"  context: {cluster: dev, user: cloud}\n"
	"- name: broken\n"
	"  context: {cluster: nowhere, user: bob}\n"
	"current-context: prod-ctx\n";

static void parse(const char *ctx, struct kube_config *c, int want)
{
	struct kb_error err = { 0 };

	assert_int_equal(kube_config_parse(two_contexts, strlen(two_contexts),
					   "/home/u/.kube", ctx, c, &err),
			 want);
}

static void test_current_context(void **state)
{
	struct kube_config c;

	parse(NULL, &c, 0);
	assert_string_equal(c.context, "prod-ctx");
	assert_string_equal(c.server, "https://prod.example:6443");
	assert_string_equal(c.ca_file, "/home/u/.kube/certs/ca.crt");
	assert_string_equal(c.namespace, "ml");
	assert_int_equal(c.cert_len, 4);
	assert_memory_equal(c.cert_data, "cert", 4);
	assert_int_equal(c.key_len, 3);
	assert_memory_equal(c.key_data, "key", 3);
	assert_null(c.token);
	assert_false(c.insecure);
	kube_config_free(&c);
}

static void test_context_flag(void **state)
{
	struct kube_config c;

	parse("dev-ctx", &c, 0);
	assert_string_equal(c.server, "https://127.0.0.1:1234");
	assert_int_equal(c.ca_len, 8);
	assert_memory_equal(c.ca_data, "hello ca", 8);
	assert_true(c.insecure);
	assert_string_equal(c.token_file, "/var/run/token");
	assert_null(c.namespace);
	kube_config_free(&c);
	parse("cloud-ctx", &c, 0);
	assert_string_equal(c.exec_argv[0], "gke-gcloud-auth-plugin");
	assert_string_equal(c.exec_argv[1], "--flag");
	assert_null(c.exec_argv[2]);
	assert_string_equal(c.exec_env[0], "FOO=bar");
	kube_config_free(&c);
}

static void test_errors(void **state)
{
	struct kube_config c;
	struct kb_error err = { 0 };

	parse("nope", &c, -EINVAL);
	parse("broken", &c, -EINVAL);
	assert_int_equal(kube_config_parse("a: [", 4, NULL, NULL, &c, &err) < 0,
			 1);
}

static void test_search_order(void **state)
{
	char dir[] = "/tmp/kubecfg-XXXXXX", path[128], cmd[160];
	struct kube_config c;
	struct kb_error err = { 0 };
	FILE *f;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/config", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(two_contexts, f);
	fclose(f);
	/* $KUBECONFIG: the first file that exists */
	snprintf(cmd, sizeof(cmd), "%s/missing:%s", dir, path);
	setenv("KUBECONFIG", cmd, 1);
	assert_int_equal(kube_config_load(NULL, "dev-ctx", &c, &err), 0);
	assert_string_equal(c.source, path);
	kube_config_free(&c);
	/* --kubeconfig wins; relative paths are against its directory */
	setenv("KUBECONFIG", "/nonexistent", 1);
	assert_int_equal(kube_config_load(path, NULL, &c, &err), 0);
	snprintf(cmd, sizeof(cmd), "%s/certs/ca.crt", dir);
	assert_string_equal(c.ca_file, cmd);
	kube_config_free(&c);
	/* nothing: the in-cluster service account */
	unsetenv("KUBECONFIG");
	setenv("HOME", dir, 1); /* no .kube/config there */
	setenv("KUBERNETES_SERVICE_HOST", "10.0.0.1", 1);
	setenv("KUBERNETES_SERVICE_PORT", "443", 1);
	setenv("KATIBFS_SERVICEACCOUNT_DIR", dir, 1);
	snprintf(path, sizeof(path), "%s/namespace", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("team-a\n", f);
	fclose(f);
	assert_int_equal(kube_config_load(NULL, NULL, &c, &err), 0);
	assert_string_equal(c.source, "in-cluster");
	assert_string_equal(c.server, "https://10.0.0.1:443");
	assert_string_equal(c.namespace, "team-a");
	snprintf(path, sizeof(path), "%s/token", dir);
	assert_string_equal(c.token_file, path);
	kube_config_free(&c);
	unsetenv("KUBERNETES_SERVICE_HOST");
	assert_int_equal(kube_config_load(NULL, NULL, &c, &err), -ENOENT);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_current_context),
		cmocka_unit_test(test_context_flag),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_search_order),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
