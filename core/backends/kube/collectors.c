/*
 * collectors.c - the metrics collectors of the kubernetes backend, as
 * Katib's webhook (pkg/webhook/v1beta1/pod/inject_webhook.go) puts them
 * into a trial's primary pod, and the decoder of the TensorFlowEvent
 * sidecar's stream (kube.h).
 *
 *   File             a native sidecar (an initContainer with restartPolicy
 *                    Always, ended by the kubelet after the other
 *                    containers) sharing an emptyDir with the primary
 *                    container at the file's directory; it prints what the
 *                    file gains to its log
 *   TensorFlowEvent  the same at the event directory; it prints each
 *                    file's new bytes as frames
 *                      katibfs-tfevent OFFSET LENGTH BASE64(RELPATH)
 *                      BASE64(BYTES), wrapped over lines
 *                      katibfs-tfevent-end
 *                    which kube_tfevent_mirror() writes at OFFSET into a
 *                    copy of the directory in the trial directory
 *   Custom           collector.customCollector added to the pod's
 *                    containers as it is, shareProcessNamespace set, an
 *                    emptyDir at source.fileSystemPath (if any) in it and
 *                    the primary container, as Katib does
 *   PrometheusMetric, StdOut, None: nothing is added (the backend scrapes
 *                    through the API server's pod proxy, or reads logs)
 *
 * Owns nothing past a call.
 */
#include "backends/kube/kube.h"
#include "collectors/collector_path.h"
#include "util/strbuf.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define COLLECTOR_VOLUME "katibfs-metrics"
#define COLLECTOR_IMAGE	 "busybox:1.36"
#define CUSTOM_DEFAULT	 "metrics-collector" /* Katib's container name */
#define FRAME_HEAD	 "katibfs-tfevent "
#define FRAME_END	 "katibfs-tfevent-end"
#define FRAME_MAX	 (64 << 20) /* decoded bytes of one frame */

/*
 * The File collector's sidecar: prints what the file gains (and, on
 * SIGTERM, its last bytes) to its stdout.
 */
static const char file_script[] =
	"exec 2>/dev/null; f=\"$KATIBFS_METRICS_FILE\"; n=0\n"
	"flush() { [ -f \"$f\" ] || return 0; s=$(wc -c <\"$f\"); "
	"[ \"$s\" -gt \"$n\" ] || return 0; "
	"tail -c +$((n + 1)) \"$f\" | head -c $((s - n)); n=$s; }\n"
	"trap 'flush; exit 0' TERM INT\n"
	"while :; do flush; sleep 1 & wait $!; done\n";

/*
 * The TensorFlowEvent collector's sidecar: every second (and on SIGTERM)
 * each file under the directory that grew gets a frame with its new
 * bytes; the offset sent so far of each file is kept in a directory of
 * its own, one file per event file.
 */
static const char tfevent_script[] =
	"exec 2>/dev/null; d=\"${KATIBFS_TFEVENT_DIR%/}\"; "
	"s=$(mktemp -d) || exit 1\n"
	"flush() { find \"$d\" -type f | while IFS= read -r f; do\n"
	" r=${f#\"$d\"/}; e=$(printf %s \"$r\" | base64 | tr -d '\\n')\n"
	" k=\"$s/$(printf %s \"$e\" | tr '/+=' '_-.')\"\n"
	" n=$(cat \"$k\" 2>/dev/null || echo 0); z=$(wc -c <\"$f\")\n"
	" [ \"$z\" -gt \"$n\" ] || continue\n"
	" echo \"" FRAME_HEAD "$n $((z - n)) $e\"\n"
	" tail -c +$((n + 1)) \"$f\" | head -c $((z - n)) | base64\n"
	" echo " FRAME_END "; echo \"$z\" >\"$k\"\n"
	"done; }\n"
	"trap 'flush; rm -rf \"$s\"; exit 0' TERM INT\n"
	"while :; do flush; sleep 1 & wait $!; done\n";

/* The object holding a `containers` list with the container `name`. */
static cJSON *pod_spec_of(cJSON *v, const char *name, int depth)
{
	cJSON *c, *it, *r;

	if (!v || depth > 64)
		return NULL;
	cJSON_ArrayForEach(c, v)
	{
		if (c->string && !strcmp(c->string, "containers"))
			cJSON_ArrayForEach(it, c)
			{
				const char *n = cJSON_GetStringValue(
					cJSON_GetObjectItem(it, "name"));

				if (n && !strcmp(n, name))
					return v;
			}
		if ((cJSON_IsObject(c) || cJSON_IsArray(c)) &&
		    (r = pod_spec_of(c, name, depth + 1)))
			return r;
	}
	return NULL;
}

static cJSON *array_member(cJSON *obj, const char *key)
{
	cJSON *a = cJSON_GetObjectItem(obj, key);

	if (cJSON_IsArray(a))
		return a;
	cJSON_DeleteItemFromObject(obj, key);
	return cJSON_AddArrayToObject(obj, key);
}

static cJSON *volume_mount(const char *dir)
{
	cJSON *m = cJSON_CreateObject();

	cJSON_AddStringToObject(m, "name", COLLECTOR_VOLUME);
	cJSON_AddStringToObject(m, "mountPath", dir);
	return m;
}

/* The emptyDir at dir, mounted in the primary container (and returned
 * for the collector's container to mount too). */
static void share_dir(cJSON *pod, const char *primary, const char *dir)
{
	cJSON *c, *it;

	cJSON_ArrayForEach(c, cJSON_GetObjectItem(pod, "containers"))
	{
		const char *n =
			cJSON_GetStringValue(cJSON_GetObjectItem(c, "name"));

		if (n && !strcmp(n, primary))
			cJSON_AddItemToArray(array_member(c, "volumeMounts"),
					     volume_mount(dir));
	}
	it = cJSON_CreateObject();
	cJSON_AddStringToObject(it, "name", COLLECTOR_VOLUME);
	cJSON_AddObjectToObject(it, "emptyDir");
	cJSON_AddItemToArray(array_member(pod, "volumes"), it);
}

/* The directory a collector path is mounted at (Katib's getMountPath). */
static void mount_dir(const struct collector_spec *c, char *dir, size_t size)
{
	char *slash;

	snprintf(dir, size, "%s", c->path);
	slash = strrchr(dir, '/');
	if (c->kind != COLLECTOR_TFEVENT &&
	    c->path_kind != PATH_KIND_DIRECTORY && slash)
		*(slash == dir ? slash + 1 : slash) = '\0';
}

static void add_sidecar(cJSON *pod, const char *script, const char *env,
			const char *value, const char *dir)
{
	cJSON *sc = cJSON_CreateObject(), *c, *e;

	cJSON_AddStringToObject(sc, "name", KUBE_COLLECTOR_CONTAINER);
	cJSON_AddStringToObject(sc, "image", COLLECTOR_IMAGE);
	cJSON_AddStringToObject(sc, "restartPolicy", "Always");
	c = cJSON_AddArrayToObject(sc, "command");
	cJSON_AddItemToArray(c, cJSON_CreateString("sh"));
	cJSON_AddItemToArray(c, cJSON_CreateString("-c"));
	cJSON_AddItemToArray(c, cJSON_CreateString(script));
	e = cJSON_CreateObject();
	cJSON_AddStringToObject(e, "name", env);
	cJSON_AddStringToObject(e, "value", value);
	cJSON_AddItemToArray(cJSON_AddArrayToObject(sc, "env"), e);
	cJSON_AddItemToArray(cJSON_AddArrayToObject(sc, "volumeMounts"),
			     volume_mount(dir));
	cJSON_AddItemToArray(array_member(pod, "initContainers"), sc);
}

const char *kube_custom_container(const struct collector_spec *c)
{
	const char *n = cJSON_GetStringValue(
		cJSON_GetObjectItem(c->custom_collector, "name"));

	return n && *n ? n : CUSTOM_DEFAULT;
}

static void add_custom(cJSON *pod, const struct collector_spec *c,
		       const char *primary)
{
	cJSON *cc = cJSON_Duplicate(c->custom_collector, 1);
	char dir[1024];

	if (!cJSON_IsObject(cc)) {
		cJSON_Delete(cc);
		cc = cJSON_CreateObject();
	}
	if (!cJSON_GetStringValue(cJSON_GetObjectItem(cc, "name"))) {
		cJSON_DeleteItemFromObject(cc, "name");
		cJSON_AddStringToObject(cc, "name", CUSTOM_DEFAULT);
	}
	if (c->path && c->path[0] == '/') {
		mount_dir(c, dir, sizeof(dir));
		share_dir(pod, primary, dir);
		cJSON_AddItemToArray(array_member(cc, "volumeMounts"),
				     volume_mount(dir));
	}
	cJSON_AddItemToArray(array_member(pod, "containers"), cc);
	cJSON_DeleteItemFromObject(pod, "shareProcessNamespace");
	cJSON_AddTrueToObject(pod, "shareProcessNamespace");
}

int kube_inject_collector(cJSON *obj, const struct experiment_spec *spec,
			  struct kb_error *err)
{
	const struct collector_spec *c = &spec->collector;
	const char *primary = spec->trial_template.primary_container_name;
	cJSON *pod;
	char dir[1024];

	if (c->kind != COLLECTOR_FILE && c->kind != COLLECTOR_TFEVENT &&
	    c->kind != COLLECTOR_CUSTOM)
		return 0;
	pod = primary ? pod_spec_of(obj, primary, 0) : NULL;
	if (!pod)
		return kb_error_set(
			err, -EINVAL, "spec.trialTemplate.primaryContainerName",
			0,
			"the %s collector is added to the pod of "
			"the primary container, and no pod "
			"template of the trial has a container "
			"named '%s'",
			collector_kind_name(c->kind), primary ? primary : "");
	if (c->kind == COLLECTOR_CUSTOM) {
		add_custom(pod, c, primary);
		return 0;
	}
	if (!c->path || c->path[0] != '/')
		return kb_error_set(
			err, -EINVAL,
			"spec.metricsCollectorSpec.source.fileSystemPath.path",
			0,
			"the %s collector on the kubernetes backend needs an "
			"absolute path in the primary container",
			collector_kind_name(c->kind));
	mount_dir(c, dir, sizeof(dir));
	share_dir(pod, primary, dir);
	if (c->kind == COLLECTOR_FILE)
		add_sidecar(pod, file_script, "KATIBFS_METRICS_FILE", c->path,
			    dir);
	else
		add_sidecar(pod, tfevent_script, "KATIBFS_TFEVENT_DIR", dir,
			    dir);
	return 0;
}

/* ---- the TensorFlowEvent stream ---- */

static int b64_value(int ch)
{
	if (ch >= 'A' && ch <= 'Z')
		return ch - 'A';
	if (ch >= 'a' && ch <= 'z')
		return ch - 'a' + 26;
	if (ch >= '0' && ch <= '9')
		return ch - '0' + 52;
	if (ch == '+')
		return 62;
	if (ch == '/')
		return 63;
	return -1;
}

/* Decode base64 text[0..len) (newlines skipped) onto out. */
static int b64_decode(const char *text, size_t len, struct strbuf *out)
{
	unsigned v = 0;
	int bits = 0, d;
	char byte;
	size_t i;

	for (i = 0; i < len; i++) {
		if (text[i] == '\n' || text[i] == '\r' || text[i] == '=')
			continue;
		d = b64_value((unsigned char)text[i]);
		if (d < 0)
			return -EBADMSG;
		v = (v << 6) | (unsigned)d;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			byte = (char)((v >> bits) & 0xff);
			if (strbuf_append(out, &byte, 1))
				return -ENOMEM;
		}
	}
	return 0;
}

/* A relative path that stays inside the mirror. */
static int safe_relpath(const char *r)
{
	const char *p = r;

	if (!*r || *r == '/')
		return 0;
	while (*p) {
		size_t n = strcspn(p, "/");

		if (!n || (n == 1 && p[0] == '.') ||
		    (n == 2 && p[0] == '.' && p[1] == '.'))
			return 0;
		p += n;
		if (*p == '/')
			p++;
	}
	return 1;
}

static int mkdirs_for(const char *path)
{
	char buf[4096], *s;

	snprintf(buf, sizeof(buf), "%s", path);
	for (s = strchr(buf + 1, '/'); s; s = strchr(s + 1, '/')) {
		*s = '\0';
		if (mkdir(buf, 0755) && errno != EEXIST)
			return -errno;
		*s = '/';
	}
	return 0;
}

/* Write data (that belongs at offset `at` of dir/rel) where the copy
 * lacks it: bytes it has already are skipped, so a frame sent again
 * (a stream followed again, a sidecar restarted) adds nothing. */
static int mirror_write(const char *dir, const char *rel, long long at,
			const struct strbuf *data, kube_problem_fn problem,
			void *ctx)
{
	char path[4096], msg[600];
	struct stat st;
	long long have, skip;
	int fd, rc = 0;

	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	if (mkdirs_for(path))
		return -errno;
	fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	have = fstat(fd, &st) ? 0 : (long long)st.st_size;
	if (at > have) {
		snprintf(msg, sizeof(msg),
			 "%s: bytes %lld to %lld never arrived from the "
			 "sidecar",
			 rel, have, at);
		problem(ctx, msg);
	}
	skip = have > at ? have - at : 0;
	if (skip < (long long)data->len &&
	    pwrite(fd, data->data + skip, data->len - (size_t)skip,
		   (off_t)(at + skip)) != (ssize_t)(data->len - (size_t)skip))
		rc = -EIO;
	close(fd);
	return rc;
}

/* One whole frame: head is its first line (no newline), body the text
 * up to the end line. */
static void take_frame(const char *head, size_t hlen, const char *body,
		       size_t blen, const char *dir, kube_problem_fn problem,
		       void *ctx)
{
	char line[1200], name64[1100], msg[1400];
	struct strbuf rel = { 0 }, data = { 0 };
	long long at, len;
	int rc;

	snprintf(line, sizeof(line), "%.*s", (int)hlen, head);
	if (sscanf(line, FRAME_HEAD "%lld %lld %1099s", &at, &len, name64) !=
		    3 ||
	    at < 0 || len < 0 || b64_decode(name64, strlen(name64), &rel) ||
	    strbuf_append(&rel, "", 1) || !safe_relpath(rel.data)) {
		snprintf(msg, sizeof(msg), "a malformed frame header: %s",
			 line);
		problem(ctx, msg);
		goto out;
	}
	if (b64_decode(body, blen, &data) || (long long)data.len != len) {
		snprintf(msg, sizeof(msg),
			 "%s: a frame of %lld bytes at offset %lld arrived "
			 "damaged (%zu bytes decoded); skipped",
			 rel.data, len, at, data.len);
		problem(ctx, msg);
		goto out;
	}
	rc = mirror_write(dir, rel.data, at, &data, problem, ctx);
	if (rc) {
		snprintf(msg, sizeof(msg), "cannot write %s/%s: %s", dir,
			 rel.data, strerror(-rc));
		problem(ctx, msg);
	}
out:
	strbuf_free(&rel);
	strbuf_free(&data);
}

int kube_tfevent_mirror(const char *stream, off_t *done, const char *dir,
			kube_problem_fn problem, void *ctx)
{
	struct strbuf b = { 0 };
	char chunk[65536];
	const char *p, *end, *nl, *head = NULL, *body = NULL;
	size_t hlen = 0;
	ssize_t n;
	off_t at = *done, used = 0;
	int fd = open(stream, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	while ((n = pread(fd, chunk, sizeof(chunk), at)) > 0 &&
	       b.len < FRAME_MAX * 2) {
		if (strbuf_append(&b, chunk, (size_t)n))
			break;
		at += n;
	}
	close(fd);
	if (b.oom) {
		strbuf_free(&b);
		return -ENOMEM;
	}
	p = b.data;
	end = b.data + b.len;
	for (; p && p < end; p = nl + 1) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (!nl)
			break; /* a line still arriving */
		if (!strncmp(p, FRAME_HEAD, strlen(FRAME_HEAD))) {
			head = p;
			hlen = (size_t)(nl - p);
			body = nl + 1;
		} else if ((size_t)(nl - p) == strlen(FRAME_END) &&
			   !strncmp(p, FRAME_END, strlen(FRAME_END))) {
			if (head)
				take_frame(head, hlen, body, (size_t)(p - body),
					   dir, problem, ctx);
			head = NULL;
			used = (nl + 1) - b.data;
		} else if (!head) {
			used = (nl + 1) - b.data; /* not ours: skip */
		}
	}
	*done += used;
	strbuf_free(&b);
	return 0;
}
