/*
 * fuzz_kube.c - libFuzzer harness for what the kubernetes backend reads
 * from outside (core/backends/kube/): the kubeconfig, GJSON success/failure
 * conditions applied to API objects, and Status bodies.
 *
 * Byte 0 picks the parser, the rest is its input:
 *   0: kube_config_parse() (bit 2 of byte 0: with --context "alt");
 *   1: kube_gjson_get() / kube_gjson_match(): the GJSON path is the bytes
 *      up to the first NUL, the JSON object follows it;
 *   2: kube_status_message() on a response body.
 * Nothing here opens a network connection or reads a file the input names
 * (relative paths resolve against a directory that does not exist).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "backends/kube/kube.h"

static void die(const char *what)
{
	fprintf(stderr, "fuzz_kube: %s\n", what);
	abort();
}

static void kubeconfig(const char *text, size_t len, int alt)
{
	struct kube_config c;
	struct kb_error err;
	size_t i;

	kb_error_clear(&err);
	if (kube_config_parse(text, len, "/nonexistent-katibfs-fuzz",
			      alt ? "alt" : NULL, &c, &err)) {
		if (!err.message[0])
			die("kubeconfig refused without a message");
		return;
	}
	if (!c.server || strncmp(c.server, "http", 4))
		; /* the parser decides what a server may be */
	for (i = 0; c.exec_argv && c.exec_argv[i]; i++)
		;
	if (c.exec_argv && !i)
		die("empty exec argv");
	if (c.ca_data && strlen(c.ca_data) > c.ca_len)
		die("ca_data longer than ca_len");
	kube_config_free(&c);
}

static void gjson(const char *data, size_t size)
{
	const char *nul = memchr(data, '\0', size);
	cJSON *root, *v;
	char *path;
	int m;

	if (!nul)
		return;
	root = cJSON_ParseWithLength(nul + 1, size - (size_t)(nul - data) - 1);
	if (!root)
		return;
	path = strndup(data, (size_t)(nul - data));
	if (path) {
		v = kube_gjson_get(root, path);
		m = kube_gjson_match(root, path);
		if (m != 0 && m != 1)
			die("kube_gjson_match is not 0 or 1");
		if (!v && m)
			die("matched without a value");
		if (v) {
			char *s = cJSON_PrintUnformatted(v);

			free(s);
			cJSON_Delete(v);
		}
		free(path);
	}
	cJSON_Delete(root);
}

static void status(const char *data, size_t size)
{
	char *body = strndup(data, size), buf[256], tiny[2];

	if (!body)
		return;
	kube_status_message(body, buf, sizeof(buf));
	if (strchr(buf, '\n'))
		die("status message has a newline");
	kube_status_message(body, tiny, sizeof(tiny));
	free(body);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data + 1;

	if (size < 1)
		return 0;
	switch (data[0] % 3) {
	case 0: kubeconfig(text, size - 1, data[0] & 4); break;
	case 1: gjson(text, size - 1); break;
	default: status(text, size - 1); break;
	}
	return 0;
}
