/*
 * client.c - HTTPS requests to the API server with libcurl
 * (core/backends/kube/kube.h), behaving as client-go does: every request (and
 * every stream opened) first takes a token from a client-side bucket
 * (QPS, burst); a 429 waits what its Retry-After says; 5xx answers and
 * network errors back off exponentially with jitter; 401/403 become an
 * error naming the request. One easy handle per request, run by the
 * client's I/O thread (mux.c: one curl multi handle), so that requests,
 * watches and log streams share a few connections: with HTTP/2 (ALPN, when
 * the server offers it) all are streams of one. Owns: the mux, the share
 * (TLS sessions, DNS), the bucket, the discovery cache.
 */
#include "backends/kube/kube.h"

#include <curl/curl.h>
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "backends/kube/mux.h"
#include "util/strbuf.h"

#define KUBE_BODY_MAX (64 * 1024 * 1024)

struct kube_resource {
	char *api_version, *kind, *plural;
	int namespaced;
};

struct kube_client {
	struct kube_config cfg;
	pthread_mutex_t lock;
	pthread_mutex_t exec_lock; /* one plugin run at a time */
	pthread_mutex_t disc_lock; /* one discovery at a time (single flight) */
	atomic_int cancelled;
	atomic_ulong requests;
	struct kube_resource *res;
	size_t nres;
	char **discovered; /* group versions already fetched */
	size_t ndiscovered;
	char *exec_token; /* from the exec plugin */
	time_t exec_expiry;
	/* token bucket: tokens may go negative (reservations), each caller
	 * sleeping until its own token is due */
	pthread_mutex_t rate_lock;
	double qps, burst, tokens, rate_last;
	struct kube_mux *mux;
	CURLSH *share;
	pthread_mutex_t share_locks[CURL_LOCK_DATA_LAST];
	atomic_int outage; /* requests are failing to connect */
	double outage_since;
	void (*notify)(void *arg, const char *msg);
	void *notify_arg;
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;

static void curl_init_once(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
}

static double mono_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void share_lock(CURL *h, curl_lock_data data, curl_lock_access a,
		       void *arg)
{
	struct kube_client *c = arg;

	pthread_mutex_lock(&c->share_locks[data]);
}

static void share_unlock(CURL *h, curl_lock_data data, void *arg)
{
	struct kube_client *c = arg;

	pthread_mutex_unlock(&c->share_locks[data]);
}

static void share_new(struct kube_client *c)
{
	int i;

	for (i = 0; i < CURL_LOCK_DATA_LAST; i++)
		pthread_mutex_init(&c->share_locks[i], NULL);
	c->share = curl_share_init();
	if (!c->share)
		return;
	curl_share_setopt(c->share, CURLSHOPT_LOCKFUNC, share_lock);
	curl_share_setopt(c->share, CURLSHOPT_UNLOCKFUNC, share_unlock);
	curl_share_setopt(c->share, CURLSHOPT_USERDATA, c);
	curl_share_setopt(c->share, CURLSHOPT_SHARE,
			  CURL_LOCK_DATA_SSL_SESSION);
	curl_share_setopt(c->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
}

void kube_client_set_rate(struct kube_client *c, double qps, double burst)
{
	pthread_mutex_lock(&c->rate_lock);
	c->qps = qps > 0 ? qps : KUBE_DEFAULT_QPS;
	c->burst = burst >= 1 ? burst : KUBE_DEFAULT_BURST;
	c->tokens = c->burst;
	c->rate_last = mono_now();
	pthread_mutex_unlock(&c->rate_lock);
}

void kube_client_set_notify(struct kube_client *c,
			    void (*notify)(void *arg, const char *msg),
			    void *arg)
{
	c->notify = notify;
	c->notify_arg = arg;
}

/* Sleep up to seconds, returning early when the client is cancelled. */
static void client_sleep(struct kube_client *c, double seconds)
{
	struct timespec ts;

	while (seconds > 0 && !c->cancelled) {
		double d = seconds > 0.1 ? 0.1 : seconds;

		ts.tv_sec = 0;
		ts.tv_nsec = (long)(d * 1e9);
		nanosleep(&ts, NULL);
		seconds -= d;
	}
}

/* Take a token from the bucket, waiting for it when there is none. */
static void rate_wait(struct kube_client *c)
{
	double now, wait;

	pthread_mutex_lock(&c->rate_lock);
	now = mono_now();
	c->tokens += (now - c->rate_last) * c->qps;
	if (c->tokens > c->burst)
		c->tokens = c->burst;
	c->rate_last = now;
	c->tokens -= 1;
	wait = c->tokens < 0 ? -c->tokens / c->qps : 0;
	pthread_mutex_unlock(&c->rate_lock);
	client_sleep(c, wait);
}

int kube_client_new(struct kube_config *cfg, struct kube_client **out,
		    struct kb_error *err)
{
	struct kube_client *c = calloc(1, sizeof(*c));

	if (!c)
		return kb_error_set(err, -ENOMEM, "", 0, "out of memory");
	pthread_once(&curl_once, curl_init_once);
	if (kube_mux_new(&c->mux)) {
		free(c);
		return kb_error_set(err, -ENOMEM, "", 0,
				    "cannot start the Kubernetes client's I/O "
				    "thread");
	}
	pthread_mutex_init(&c->rate_lock, NULL);
	kube_client_set_rate(c, KUBE_DEFAULT_QPS, KUBE_DEFAULT_BURST);
	share_new(c);
	c->cfg = *cfg;
	memset(cfg, 0, sizeof(*cfg));
	pthread_mutex_init(&c->lock, NULL);
	pthread_mutex_init(&c->exec_lock, NULL);
	pthread_mutex_init(&c->disc_lock, NULL);
	*out = c;
	return 0;
}

void kube_client_free(struct kube_client *c)
{
	size_t i;

	if (!c)
		return;
	for (i = 0; i < c->nres; i++) {
		free(c->res[i].api_version);
		free(c->res[i].kind);
		free(c->res[i].plural);
	}
	free(c->res);
	for (i = 0; i < c->ndiscovered; i++)
		free(c->discovered[i]);
	free(c->discovered);
	free(c->exec_token);
	kube_mux_free(c->mux);
	if (c->share)
		curl_share_cleanup(c->share);
	for (i = 0; i < CURL_LOCK_DATA_LAST; i++)
		pthread_mutex_destroy(&c->share_locks[i]);
	pthread_mutex_destroy(&c->rate_lock);
	kube_config_free(&c->cfg);
	pthread_mutex_destroy(&c->lock);
	pthread_mutex_destroy(&c->exec_lock);
	pthread_mutex_destroy(&c->disc_lock);
	free(c);
}

void kube_client_cancel(struct kube_client *c)
{
	c->cancelled = 1;
	kube_mux_cancel(c->mux);
}

unsigned long kube_client_requests(struct kube_client *c)
{
	return c->requests;
}

void kube_response_free(struct kube_response *r)
{
	free(r->body);
	memset(r, 0, sizeof(*r));
}

/* ---- credentials ---- */

static char *read_token_file(const char *path)
{
	char buf[16384];
	FILE *f = fopen(path, "r");
	size_t n;

	if (!f)
		return NULL;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	while (n &&
	       (buf[n - 1] == '\n' || buf[n - 1] == '\r' || buf[n - 1] == ' '))
		n--;
	buf[n] = '\0';
	return strdup(buf);
}

static time_t parse_rfc3339(const char *s)
{
	struct tm tm;

	memset(&tm, 0, sizeof(tm));
	if (!s || !strptime(s, "%Y-%m-%dT%H:%M:%S", &tm))
		return 0;
	return timegm(&tm);
}

/* Run the exec plugin; its stdout is an ExecCredential. */
static char *run_exec(const struct kube_config *cfg, time_t *expiry)
{
	char buf[65536], info[256];
	size_t len = 0;
	ssize_t n;
	int fd[2], status;
	pid_t pid;
	cJSON *j, *st;
	char *tok = NULL;
	size_t i;

	if (pipe(fd))
		return NULL;
	snprintf(info, sizeof(info),
		 "{\"apiVersion\":\"%s\",\"kind\":\"ExecCredential\","
		 "\"spec\":{\"interactive\":false}}",
		 cfg->exec_api_version
			 ? cfg->exec_api_version
			 : "client.authentication.k8s.io/v1beta1");
	pid = fork();
	if (pid < 0) {
		close(fd[0]);
		close(fd[1]);
		return NULL;
	}
	if (!pid) {
		dup2(fd[1], 1);
		close(fd[0]);
		close(fd[1]);
		setenv("KUBERNETES_EXEC_INFO", info, 1);
		for (i = 0; cfg->exec_env && cfg->exec_env[i]; i++)
			putenv(cfg->exec_env[i]);
		execvp(cfg->exec_argv[0], cfg->exec_argv);
		_exit(127);
	}
	close(fd[1]);
	while (len < sizeof(buf) - 1 &&
	       (n = read(fd[0], buf + len, sizeof(buf) - 1 - len)) > 0)
		len += (size_t)n;
	buf[len] = '\0';
	close(fd[0]);
	waitpid(pid, &status, 0);
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		return NULL;
	j = cJSON_Parse(buf);
	st = cJSON_GetObjectItem(j, "status");
	if (cJSON_IsString(cJSON_GetObjectItem(st, "token"))) {
		tok = strdup(cJSON_GetObjectItem(st, "token")->valuestring);
		*expiry = parse_rfc3339(cJSON_GetStringValue(
			cJSON_GetObjectItem(st, "expirationTimestamp")));
	}
	cJSON_Delete(j);
	return tok;
}

/* The bearer token to send now (heap), or NULL for none. */
/* The exec plugin's token: cached until it expires. Heap, or NULL. */
static char *exec_token(struct kube_client *c, struct kb_error *err)
{
	char *tok = NULL;
	time_t exp = 0;

	pthread_mutex_lock(&c->exec_lock);
	pthread_mutex_lock(&c->lock);
	if (c->exec_token &&
	    (!c->exec_expiry || c->exec_expiry > time(NULL) + 10))
		tok = strdup(c->exec_token);
	pthread_mutex_unlock(&c->lock);
	if (!tok && (tok = run_exec(&c->cfg, &exp))) {
		pthread_mutex_lock(&c->lock);
		free(c->exec_token);
		c->exec_token = strdup(tok);
		c->exec_expiry = exp;
		pthread_mutex_unlock(&c->lock);
	}
	pthread_mutex_unlock(&c->exec_lock);
	if (!tok)
		kb_error_set(err, -EACCES, "users[].user.exec", 0,
			     "the credential plugin %s failed or gave no "
			     "status.token",
			     c->cfg.exec_argv[0]);
	return tok;
}

/* The bearer token to send now (heap), or NULL for none. */
static char *current_token(struct kube_client *c, struct kb_error *err)
{
	char *tok;

	if (c->cfg.token_file && (tok = read_token_file(c->cfg.token_file)))
		return tok;
	if (c->cfg.exec_argv)
		return exec_token(c, err);
	return c->cfg.token ? strdup(c->cfg.token) : NULL;
}

static void forget_exec_token(struct kube_client *c)
{
	pthread_mutex_lock(&c->lock);
	free(c->exec_token);
	c->exec_token = NULL;
	pthread_mutex_unlock(&c->lock);
}

/* ---- handles ---- */

static int progress_cb(void *arg, curl_off_t a, curl_off_t b, curl_off_t x,
		       curl_off_t y)
{
	struct kube_client *c = arg;

	return c->cancelled ? 1 : 0;
}

static void set_tls(struct kube_client *c, CURL *h)
{
	const struct kube_config *cfg = &c->cfg;
	struct curl_blob blob;

	if (cfg->insecure) {
		curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	if (cfg->ca_file)
		curl_easy_setopt(h, CURLOPT_CAINFO, cfg->ca_file);
	if (cfg->ca_data) {
		blob.data = cfg->ca_data;
		blob.len = cfg->ca_len;
		blob.flags = CURL_BLOB_COPY;
		curl_easy_setopt(h, CURLOPT_CAINFO_BLOB, &blob);
	}
	if (cfg->cert_file)
		curl_easy_setopt(h, CURLOPT_SSLCERT, cfg->cert_file);
	if (cfg->key_file)
		curl_easy_setopt(h, CURLOPT_SSLKEY, cfg->key_file);
	if (cfg->cert_data) {
		blob.data = cfg->cert_data;
		blob.len = cfg->cert_len;
		blob.flags = CURL_BLOB_COPY;
		curl_easy_setopt(h, CURLOPT_SSLCERT_BLOB, &blob);
		curl_easy_setopt(h, CURLOPT_SSLCERTTYPE, "PEM");
	}
	if (cfg->key_data) {
		blob.data = cfg->key_data;
		blob.len = cfg->key_len;
		blob.flags = CURL_BLOB_COPY;
		curl_easy_setopt(h, CURLOPT_SSLKEY_BLOB, &blob);
		curl_easy_setopt(h, CURLOPT_SSLKEYTYPE, "PEM");
	}
}

static CURL *new_handle(struct kube_client *c, const char *path,
			struct curl_slist **hdrs, struct kb_error *err)
{
	char url[8192], *tok, *auth;
	CURL *h;

	rate_wait(c);
	h = curl_easy_init();
	if (!h)
		return NULL;
	if (c->share)
		curl_easy_setopt(h, CURLOPT_SHARE, c->share);
	curl_easy_setopt(h, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2TLS);
	curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
	snprintf(url, sizeof(url), "%s%s", c->cfg.server, path);
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, (long)KUBE_CONNECT_TIMEOUT);
	curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, progress_cb);
	curl_easy_setopt(h, CURLOPT_XFERINFODATA, c);
	curl_easy_setopt(h, CURLOPT_USERAGENT, "katibfs/" KATIBFS_VERSION);
	set_tls(c, h);
	*hdrs = curl_slist_append(NULL, "Accept: application/json");
	tok = current_token(c, err);
	if (tok && asprintf(&auth, "Authorization: Bearer %s", tok) >= 0) {
		*hdrs = curl_slist_append(*hdrs, auth);
		free(auth);
	}
	free(tok);
	c->requests++;
	return h;
}

/* ---- requests ---- */

/* curl's write callback: the body into a strbuf, at most KUBE_BODY_MAX. */
static size_t body_write(char *p, size_t size, size_t n, void *arg)
{
	struct strbuf *b = arg;
	size_t len = size * n;

	if (b->len + len + 1 > KUBE_BODY_MAX || strbuf_append(b, p, len))
		return 0;
	return len;
}

void kube_status_message(const char *body, char *buf, size_t size)
{
	cJSON *j = body ? cJSON_Parse(body) : NULL;
	const char *m = cJSON_GetStringValue(cJSON_GetObjectItem(j, "message"));

	snprintf(buf, size, "%s", m ? m : body ? body : "");
	cJSON_Delete(j);
	buf[strcspn(buf, "\n")] = '\0';
}

static int retryable(CURLcode cc, long status)
{
	if (cc == CURLE_ABORTED_BY_CALLBACK)
		return 0;
	return cc != CURLE_OK || status == 429 || status >= 500;
}

/*
 * Before retry number attempt (0-based): Retry-After when the server said
 * (capped), else exponential from 250 ms to 16 s with full jitter (half
 * fixed, half random), as client-go's backoff manager.
 */
static void backoff(struct kube_client *c, int attempt, long retry_after,
		    double cap)
{
	double base = 0.25 * (double)(1L << (attempt < 6 ? attempt : 6)), d;

	if (retry_after > 0)
		d = retry_after > 60 ? 60 : (double)retry_after;
	else
		d = base / 2 + base / 2 * (rand() / (RAND_MAX + 1.0));
	client_sleep(c, d < cap ? d : cap);
}

/* Record that the server could (not) be reached; say so once each way. */
static void note_reach(struct kube_client *c, int reached)
{
	char msg[300];

	if (reached == !c->outage)
		return;
	if (!reached) {
		if (atomic_exchange(&c->outage, 1))
			return;
		c->outage_since = mono_now();
		snprintf(msg, sizeof(msg),
			 "the Kubernetes API server %s is unreachable; "
			 "retrying with backoff",
			 c->cfg.server);
	} else {
		if (!atomic_exchange(&c->outage, 0))
			return;
		snprintf(msg, sizeof(msg),
			 "the Kubernetes API server %s answers again (after "
			 "%.0f s)",
			 c->cfg.server, mono_now() - c->outage_since);
	}
	if (c->notify)
		c->notify(c->notify_arg, msg);
}

/*
 * The RBAC rule a request needs, from its verb and path:
 * {apiGroups: ["batch"], resources: ["jobs"], verbs: ["create"]}.
 */
static void rbac_rule(const char *verb, const char *path, char *buf,
		      size_t size)
{
	char p[1024], *part[12], *save = NULL, *q, *tok;
	const char *group = "", *res = NULL, *sub = NULL, *v;
	int n = 0, i = 0, named = 0;

	snprintf(p, sizeof(p), "%s", path);
	q = strchr(p, '?');
	if (q)
		*q = '\0';
	for (tok = strtok_r(p, "/", &save); tok && n < 12;
	     tok = strtok_r(NULL, "/", &save))
		part[n++] = tok;
	if (n >= 2 && !strcmp(part[0], "api"))
		i = 2;
	else if (n >= 3 && !strcmp(part[0], "apis"))
		group = part[1], i = 3;
	if (i && i + 1 < n && !strcmp(part[i], "namespaces"))
		i += 2;
	if (i && i < n) {
		res = part[i];
		named = i + 1 < n;
		sub = i + 2 < n ? part[i + 2] : NULL;
	}
	if (!res) {
		snprintf(buf, size, "access to %s", path);
		return;
	}
	if (!strcmp(verb, "POST"))
		v = "create";
	else if (!strcmp(verb, "DELETE"))
		v = "delete";
	else if (!strcmp(verb, "PATCH"))
		v = "patch";
	else if (!strcmp(verb, "PUT"))
		v = "update";
	else if (strstr(path, "watch=1") || strstr(path, "watch=true"))
		v = "watch";
	else
		v = named ? "get" : "list";
	snprintf(buf, size,
		 "{apiGroups: [\"%s\"], resources: [\"%s%s%s\"], verbs: "
		 "[\"%s\"]}",
		 group, res, sub ? "/" : "", sub ? sub : "", v);
}

static int auth_error(const char *verb, const char *path, const char *what,
		      long status, const char *body, struct kb_error *err)
{
	char msg[300], rule[300];

	kube_status_message(body, msg, sizeof(msg));
	if (status == 401)
		return kb_error_set(err, -EACCES, "kubernetes", 0,
				    "%s: 401 Unauthorized (%s): the token or "
				    "client certificate of the kubeconfig is "
				    "not accepted",
				    what, msg);
	rbac_rule(verb, path, rule, sizeof(rule));
	return kb_error_set(err, -EACCES, "kubernetes", 0,
			    "%s: 403 Forbidden (%s): the account needs the "
			    "RBAC rule %s (see contrib/kubernetes/rbac.yaml)",
			    what, msg, rule);
}

/* Retry-After: N (seconds) of an answer. */
static size_t header_cb(char *p, size_t size, size_t n, void *arg)
{
	long *retry_after = arg;
	size_t len = size * n;

	if (len > 12 && !strncasecmp(p, "Retry-After:", 12))
		*retry_after = strtol(p + 12, NULL, 10);
	return len;
}

static CURLcode perform_once(struct kube_client *c, const char *verb,
			     const char *path, const char *body,
			     const char *ctype, long timeout, struct strbuf *b,
			     long *status, long *retry_after,
			     struct kb_error *err)
{
	struct curl_slist *hdrs = NULL;
	char hdr[128];
	CURLcode cc;
	CURL *h = new_handle(c, path, &hdrs, err);

	if (!h)
		return CURLE_OUT_OF_MEMORY;
	curl_easy_setopt(h, CURLOPT_TIMEOUT, timeout);
	curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, verb);
	if (body) {
		snprintf(hdr, sizeof(hdr), "Content-Type: %s",
			 ctype ? ctype : "application/json");
		hdrs = curl_slist_append(hdrs, hdr);
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
	}
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, body_write);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, b);
	*retry_after = 0;
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, header_cb);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, retry_after);
	cc = kube_mux_perform(c->mux, h, NULL, NULL);
	*status = 0;
	if (cc == CURLE_OK)
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, status);
	if (cc == CURLE_COULDNT_CONNECT || cc == CURLE_OPERATION_TIMEDOUT ||
	    cc == CURLE_COULDNT_RESOLVE_HOST)
		note_reach(c, 0);
	else if (cc == CURLE_OK)
		note_reach(c, 1);
	curl_easy_cleanup(h);
	curl_slist_free_all(hdrs);
	return cc;
}

static int request(struct kube_client *c, const char *verb, const char *path,
		   const char *body, const char *content_type, const char *what,
		   int answers_5xx, double budget, struct kube_response *resp,
		   struct kb_error *err);

int kube_request(struct kube_client *c, const char *verb, const char *path,
		 const char *body, const char *content_type, const char *what,
		 struct kube_response *resp, struct kb_error *err)
{
	return request(c, verb, path, body, content_type, what, 0, 0, resp,
		       err);
}

int kube_get_within(struct kube_client *c, const char *path, const char *what,
		    double seconds, struct kube_response *resp,
		    struct kb_error *err)
{
	return request(c, "GET", path, NULL, NULL, what, 0, seconds, resp, err);
}

int kube_get_through(struct kube_client *c, const char *path, const char *what,
		     struct kube_response *resp, struct kb_error *err)
{
	return request(c, "GET", path, NULL, NULL, what, 1, 0, resp, err);
}

/* Seconds left before deadline (0: none, KUBE_REQUEST_TIMEOUT). */
static double left(double deadline)
{
	return deadline > 0 ? deadline - mono_now() : KUBE_REQUEST_TIMEOUT;
}

static int request(struct kube_client *c, const char *verb, const char *path,
		   const char *body, const char *content_type, const char *what,
		   int answers_5xx, double budget, struct kube_response *resp,
		   struct kb_error *err)
{
	struct strbuf b = { 0 };
	long status = 0, retry_after = 0;
	CURLcode cc = CURLE_OK;
	double deadline = budget > 0 ? mono_now() + budget : 0;
	int attempt, reauth = 0, rc;

	memset(resp, 0, sizeof(*resp));
	for (attempt = 0; attempt < KUBE_RETRIES && !c->cancelled; attempt++) {
		if (attempt)
			backoff(c, attempt - 1,
				status == 429 || status == 503 ? retry_after
							       : 0,
				left(deadline) - 1);
		if (attempt && left(deadline) < 1)
			break; /* out of time: the last answer stands */
		strbuf_free(&b);
		cc = perform_once(c, verb, path, body, content_type,
				  (long)(left(deadline) < KUBE_REQUEST_TIMEOUT
						 ? left(deadline)
						 : KUBE_REQUEST_TIMEOUT),
				  &b, &status, &retry_after, err);
		if (status == 401 && c->cfg.exec_argv && !reauth++) {
			forget_exec_token(c);
			attempt--;
			continue;
		}
		if (!retryable(cc, status) || (answers_5xx && status >= 500))
			break;
	}
	if (c->cancelled || cc != CURLE_OK) {
		strbuf_free(&b);
		return kb_error_set(err, c->cancelled ? -ECANCELED : -EIO,
				    "kubernetes", 0, "%s: %s (%s)", what,
				    c->cancelled ? "cancelled"
						 : curl_easy_strerror(cc),
				    c->cfg.server);
	}
	resp->status = status;
	resp->body = strbuf_take(&b, &resp->len);
	if (status == 401 || status == 403) {
		rc = auth_error(verb, path, what, status, resp->body, err);
		kube_response_free(resp); /* an error: no response */
		return rc;
	}
	return 0;
}

/* ---- streams ---- */

struct stream {
	long status;
	int (*data)(void *arg, const char *buf, size_t len);
	void *arg;
	struct strbuf errbody;
};

/* A piece of a stream's body, on the caller's thread (mux.c). */
static int stream_piece(void *arg, long status, const char *p, size_t len)
{
	struct stream *s = arg;

	if (!s->status)
		s->status = status;
	if (s->status < 200 || s->status >= 300)
		return body_write((char *)p, 1, len, &s->errbody) != len;
	return s->data(s->arg, p, len);
}

int kube_stream(struct kube_client *c, const char *path, long max_seconds,
		int (*data)(void *arg, const char *buf, size_t len), void *arg,
		long *status, struct kb_error *err)
{
	struct curl_slist *hdrs = NULL;
	struct stream s = { .data = data, .arg = arg };
	char msg[300];
	CURLcode cc;
	CURL *h;

	*status = 0;
	h = new_handle(c, path, &hdrs, err);
	if (!h)
		return -ENOMEM;
	if (max_seconds > 0)
		curl_easy_setopt(h, CURLOPT_TIMEOUT, max_seconds);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
	/* a silent stream for 3 minutes is a dead one (watches get
	 * bookmarks, logs may be quiet: the caller reconnects) */
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, 180L);
	cc = kube_mux_perform(c->mux, h, stream_piece, &s);
	if (!s.status)
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &s.status);
	if (cc == CURLE_COULDNT_CONNECT)
		note_reach(c, 0);
	else if (s.status)
		note_reach(c, 1);
	curl_easy_cleanup(h);
	curl_slist_free_all(hdrs);
	*status = s.status;
	if (s.status == 401 || s.status == 403) {
		auth_error("GET", path, path, s.status, s.errbody.data, err);
		strbuf_free(&s.errbody);
		return -EACCES;
	}
	if (s.status >= 300) {
		kube_status_message(s.errbody.data, msg, sizeof(msg));
		kb_error_set(err, -EIO, "kubernetes", 0, "GET %s: %ld %s", path,
			     s.status, msg);
	}
	strbuf_free(&s.errbody);
	if (cc == CURLE_OK || cc == CURLE_WRITE_ERROR ||
	    (cc == CURLE_OPERATION_TIMEDOUT && s.status == 200))
		return 0;
	if (c->cancelled)
		return -ECANCELED;
	return kb_error_set(err, -EIO, "kubernetes", 0, "GET %s: %s", path,
			    curl_easy_strerror(cc));
}

/* ---- discovery ---- */

void kube_urlencode(const char *s, char *buf, size_t size)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0;

	for (; *s && o + 4 < size; s++) {
		unsigned char ch = (unsigned char)*s;

		if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		    (ch >= '0' && ch <= '9') || strchr("-_.~", ch)) {
			buf[o++] = (char)ch;
		} else {
			buf[o++] = '%';
			buf[o++] = hex[ch >> 4];
			buf[o++] = hex[ch & 15];
		}
	}
	buf[o] = '\0';
}

static const struct kube_resource *find_res(struct kube_client *c,
					    const char *av, const char *kind)
{
	size_t i;

	for (i = 0; i < c->nres; i++)
		if (!strcmp(c->res[i].api_version, av) &&
		    !strcmp(c->res[i].kind, kind))
			return &c->res[i];
	return NULL;
}

static int discovered(struct kube_client *c, const char *av)
{
	size_t i;

	for (i = 0; i < c->ndiscovered; i++)
		if (!strcmp(c->discovered[i], av))
			return 1;
	return 0;
}

static void add_resources(struct kube_client *c, const char *av,
			  const cJSON *list)
{
	const cJSON *r;
	struct kube_resource *n;
	char **d;

	cJSON_ArrayForEach(r, cJSON_GetObjectItem(list, "resources"))
	{
		const char *name =
			cJSON_GetStringValue(cJSON_GetObjectItem(r, "name"));
		const char *kind =
			cJSON_GetStringValue(cJSON_GetObjectItem(r, "kind"));

		if (!name || !kind || strchr(name, '/') ||
		    find_res(c, av, kind))
			continue;
		n = realloc(c->res, (c->nres + 1) * sizeof(*n));
		if (!n)
			return;
		c->res = n;
		n = &c->res[c->nres++];
		n->api_version = strdup(av);
		n->kind = strdup(kind);
		n->plural = strdup(name);
		n->namespaced =
			cJSON_IsTrue(cJSON_GetObjectItem(r, "namespaced"));
	}
	d = realloc(c->discovered, (c->ndiscovered + 1) * sizeof(*d));
	if (d) {
		c->discovered = d;
		d[c->ndiscovered++] = strdup(av);
	}
}

static int discover(struct kube_client *c, const char *av, struct kb_error *err)
{
	struct kube_response r;
	char path[512], what[600];
	long status;
	cJSON *j;
	int rc;

	snprintf(path, sizeof(path), strchr(av, '/') ? "/apis/%s" : "/api/%s",
		 av);
	snprintf(what, sizeof(what), "discover API %s", av);
	rc = kube_request(c, "GET", path, NULL, NULL, what, &r, err);
	if (rc)
		return rc;
	if (r.status == 404) {
		kube_response_free(&r);
		return kb_error_set(err, -ENOENT, "kubernetes", 0,
				    "the cluster does not serve %s (is its "
				    "operator or CRD installed?)",
				    av);
	}
	status = r.status;
	j = status == 200 ? cJSON_Parse(r.body) : NULL;
	kube_response_free(&r);
	if (!j)
		return kb_error_set(err, -EIO, "kubernetes", 0,
				    "%s: bad answer (HTTP %ld)", what, status);
	pthread_mutex_lock(&c->lock);
	if (!discovered(c, av))
		add_resources(c, av, j);
	pthread_mutex_unlock(&c->lock);
	cJSON_Delete(j);
	return 0;
}

int kube_collection_path(struct kube_client *c, const char *api_version,
			 const char *kind, const char *ns, char *buf,
			 size_t size, char *plural, size_t plural_size,
			 struct kb_error *err)
{
	const struct kube_resource *r;
	char pl[256];
	int namespaced, rc, tried = 0;

again:
	pthread_mutex_lock(&c->lock);
	r = find_res(c, api_version, kind);
	if (r) {
		snprintf(pl, sizeof(pl), "%s", r->plural);
		namespaced = r->namespaced;
	}
	pthread_mutex_unlock(&c->lock);
	if (!r) {
		if (tried++)
			return kb_error_set(err, -ENOENT, "kubernetes", 0,
					    "the cluster serves %s but no kind "
					    "%s in it",
					    api_version, kind);
		/* threads that miss together: the first asks, the others
		 * wait for its answer instead of asking again */
		pthread_mutex_lock(&c->disc_lock);
		pthread_mutex_lock(&c->lock);
		rc = discovered(c, api_version);
		pthread_mutex_unlock(&c->lock);
		if (!rc)
			rc = discover(c, api_version, err);
		else
			rc = 0;
		pthread_mutex_unlock(&c->disc_lock);
		if (rc)
			return rc;
		goto again;
	}
	if (plural)
		snprintf(plural, plural_size, "%s", pl);
	snprintf(buf, size, "%s%s%s%s%s/%s",
		 strchr(api_version, '/') ? "/apis/" : "/api/", api_version,
		 namespaced ? "/namespaces/" : "", namespaced ? ns : "", "",
		 pl);
	return 0;
}
