/*
 * suggestion_command.c - katibfs/suggestion-command: a search algorithm of
 * one's own, as Katib's custom suggestion services are, but a program: it
 * gets one JSON document on stdin and prints a JSON array of assignments
 * (INTERFACE.md, "Beyond Katib: annotations"; the document is built by
 * core/engine/command.c).
 *
 * A run: posix_spawnp() in a process group of its own, stdin a socket (so
 * a program that exits without reading cannot SIGPIPE the daemon), stdout
 * kept whole (up to 16 MiB), stderr only its last line, everything read
 * with poll() until both outputs close, the time limit
 * (KATIBFS_SUGGESTION_TIMEOUT, default 60 s) passes (SIGKILL to the group)
 * or the experiment goes away (its cancel pipe). Runs happen in a thread of
 * their own, one at a time per experiment; the controller takes the result
 * on a later pass and checks it against the search space (sc_parse()).
 *
 * Owns: struct sc (the algorithm's priv): the run thread, its input, its
 * result and the cancel pipe. destroy() cancels and joins.
 */
#include "algorithms/suggestion_command.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "collectors/metrics.h"
#include "util/strbuf.h"

#define OUT_MAX	 (16 << 20) /* stdout kept */
#define ERR_KEEP 4096	    /* stderr tail kept to find its last line */

extern char **environ;

enum sc_phase { SC_IDLE, SC_RUNNING, SC_DONE };

struct sc {
	pthread_mutex_t mu;
	enum sc_phase phase; /* under mu */
	pthread_t thread;
	int joinable;
	int cancel[2]; /* write a byte to end a run */
	char **argv;   /* of the run under way */
	char *input;
	double timeout;
	void (*wake)(void *);
	void *wake_arg;
	struct sc_raw raw; /* when SC_DONE */
};

void sc_raw_free(struct sc_raw *r)
{
	free(r->out);
	memset(r, 0, sizeof(*r));
}

double sc_timeout(void)
{
	const char *v = getenv(SC_TIMEOUT_ENV);
	char *end;
	double t;

	if (!v || !*v)
		return SC_TIMEOUT_DEFAULT;
	t = strtod(v, &end);
	return *end || !(t > 0) || !isfinite(t) ? SC_TIMEOUT_DEFAULT : t;
}

static double mono_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Keep the last non-empty line of the stderr tail in raw->stderr_last. */
static void last_line(const char *tail, size_t len, struct sc_raw *raw)
{
	size_t end = len, start;

	while (end && (tail[end - 1] == '\n' || tail[end - 1] == '\r' ||
		       tail[end - 1] == ' '))
		end--;
	if (!end)
		return;
	start = end;
	while (start && tail[start - 1] != '\n')
		start--;
	snprintf(raw->stderr_last, sizeof(raw->stderr_last), "%.*s",
		 (int)(end - start), tail + start);
}

static int spawn(char *const *argv, int in, int out, int err, pid_t *pid)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	sigset_t none, dfl;
	int rc;

	posix_spawn_file_actions_init(&fa);
	posix_spawnattr_init(&at);
	posix_spawn_file_actions_adddup2(&fa, in, 0);
	posix_spawn_file_actions_adddup2(&fa, out, 1);
	posix_spawn_file_actions_adddup2(&fa, err, 2);
	sigemptyset(&none);
	sigemptyset(&dfl);
	sigaddset(&dfl, SIGPIPE);
	sigaddset(&dfl, SIGINT);
	sigaddset(&dfl, SIGTERM);
	sigaddset(&dfl, SIGHUP);
	posix_spawnattr_setsigmask(&at, &none);
	posix_spawnattr_setsigdefault(&at, &dfl);
	posix_spawnattr_setpgroup(&at, 0);
	posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK |
					      POSIX_SPAWN_SETSIGDEF |
					      POSIX_SPAWN_SETPGROUP);
	rc = posix_spawnp(pid, argv[0], &fa, &at, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&at);
	return -rc;
}

/*
 * Append what fd has to b, at most cap bytes in all: the first ones
 * (stdout), or with `tail` the newest ones (stderr). 0 at EOF, else 1.
 */
static int drain(int fd, struct strbuf *b, size_t cap, int tail)
{
	char chunk[65536];
	ssize_t got = read(fd, chunk, sizeof(chunk));
	const char *from = chunk;
	size_t n, drop;

	if (got < 0)
		return errno == EAGAIN || errno == EINTR ? 1 : 0;
	if (!got)
		return 0;
	n = (size_t)got;
	if (tail && n > cap) {
		from += n - cap;
		n = cap;
	}
	if (tail && b->len + n > cap) { /* drop the oldest bytes */
		drop = b->len + n - cap;
		memmove(b->data, b->data + drop, b->len - drop);
		b->len -= drop;
	} else if (b->len + n > cap) {
		n = cap - b->len; /* stdout beyond the cap is read, not kept */
	}
	strbuf_append(b, from, n); /* -ENOMEM: read, not kept */
	return 1;
}

/* The poll loop of one run: feed stdin, read both outputs. */
static void pump(int in, int out, int err, int cancel_fd, double deadline,
		 const char *input, struct sc_raw *raw, struct strbuf *out_b,
		 struct strbuf *tail, pid_t pid)
{
	size_t in_len = input ? strlen(input) : 0, in_off = 0;
	int out_open = 1, err_open = 1, timeout;
	struct pollfd p[4];
	ssize_t n;
	double left;

	if (!in_len) {
		close(in);
		in = -1;
	}
	while (out_open || err_open) {
		left = deadline - mono_now();
		if (left <= 0) {
			raw->timed_out = 1;
			break;
		}
		timeout = left > 1e6 ? -1 : (int)(left * 1000) + 1;
		p[0] = (struct pollfd){ .fd = out_open ? out : -1,
					.events = POLLIN };
		p[1] = (struct pollfd){ .fd = err_open ? err : -1,
					.events = POLLIN };
		p[2] = (struct pollfd){ .fd = in, .events = POLLOUT };
		p[3] = (struct pollfd){ .fd = cancel_fd, .events = POLLIN };
		if (poll(p, 4, timeout) < 0 && errno != EINTR)
			break;
		if (p[3].revents)
			break; /* cancelled: the experiment is going away */
		if (p[0].revents)
			out_open = drain(out, out_b, OUT_MAX, 0);
		if (p[1].revents)
			err_open = drain(err, tail, ERR_KEEP, 1);
		if (in >= 0 && p[2].revents) {
			n = send(in, input + in_off, in_len - in_off,
				 MSG_NOSIGNAL | MSG_DONTWAIT);
			if (n > 0)
				in_off += (size_t)n;
			if (n < 0 && errno != EAGAIN && errno != EINTR)
				in_off = in_len; /* it stopped reading */
			if (in_off == in_len) {
				close(in);
				in = -1;
			}
		}
	}
	if (in >= 0)
		close(in);
	if (out_open || err_open)
		kill(-pid, SIGKILL);
}

int sc_run(char *const *argv, const char *input, double timeout, int cancel_fd,
	   struct sc_raw *raw)
{
	int in[2] = { -1, -1 }, out[2] = { -1, -1 }, err[2] = { -1, -1 };
	struct strbuf out_b = { 0 }, tail = { 0 };
	pid_t pid;
	int rc, status;

	memset(raw, 0, sizeof(*raw));
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, in) ||
	    pipe2(out, O_CLOEXEC) || pipe2(err, O_CLOEXEC)) {
		rc = -errno;
		goto out;
	}
	rc = spawn(argv, in[1], out[1], err[1], &pid);
	close(in[1]);
	close(out[1]);
	close(err[1]);
	in[1] = out[1] = err[1] = -1;
	if (rc) {
		snprintf(raw->stderr_last, sizeof(raw->stderr_last),
			 "cannot run %s: %s", argv[0], strerror(-rc));
		goto out;
	}
	raw->spawned = 1;
	pump(in[0], out[0], err[0], cancel_fd, mono_now() + timeout, input, raw,
	     &out_b, &tail, pid);
	in[0] = -1;	     /* pump closed it */
	kill(-pid, SIGKILL); /* whatever it left running */
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (WIFEXITED(status))
		raw->exit_status = WEXITSTATUS(status);
	else if (WIFSIGNALED(status) && !raw->timed_out)
		raw->signal = WTERMSIG(status);
	if (tail.len)
		last_line(tail.data, tail.len, raw);
	raw->out = strbuf_take(&out_b, &raw->out_len);
out:
	strbuf_free(&out_b);
	strbuf_free(&tail);
	for (int i = 0; i < 2; i++) {
		if (in[i] >= 0)
			close(in[i]);
		if (out[i] >= 0)
			close(out[i]);
		if (err[i] >= 0)
			close(err[i]);
	}
	return rc;
}

/* ---- the run thread ---- */

static void *run_thread(void *arg)
{
	struct sc *s = arg;
	struct sc_raw raw;

	sc_run(s->argv, s->input, s->timeout, s->cancel[0], &raw);
	pthread_mutex_lock(&s->mu);
	s->raw = raw;
	s->phase = SC_DONE;
	pthread_mutex_unlock(&s->mu);
	if (s->wake)
		s->wake(s->wake_arg);
	return NULL;
}

static void argv_free(char **argv)
{
	for (size_t i = 0; argv && argv[i]; i++)
		free(argv[i]);
	free(argv);
}

/* The ended thread joined and its inputs freed (phase not RUNNING). */
static void run_reap(struct sc *s)
{
	if (s->joinable)
		pthread_join(s->thread, NULL);
	s->joinable = 0;
	argv_free(s->argv);
	s->argv = NULL;
	free(s->input);
	s->input = NULL;
}

int sc_start(void *priv, const struct experiment_spec *spec, char *input,
	     void (*wake)(void *), void *arg)
{
	struct sc *s = priv;
	size_t i;
	int rc;

	pthread_mutex_lock(&s->mu);
	rc = s->phase == SC_IDLE ? 0 : -EBUSY;
	pthread_mutex_unlock(&s->mu);
	if (rc) {
		free(input);
		return rc;
	}
	run_reap(s);
	s->argv = calloc(spec->nsuggestion_command + 1, sizeof(*s->argv));
	for (i = 0; s->argv && i < spec->nsuggestion_command; i++)
		if (!(s->argv[i] = strdup(spec->suggestion_command[i])))
			break;
	if (!s->argv || i < spec->nsuggestion_command || !input) {
		free(input);
		argv_free(s->argv);
		s->argv = NULL;
		return -ENOMEM;
	}
	s->input = input;
	s->timeout = sc_timeout();
	s->wake = wake;
	s->wake_arg = arg;
	s->phase = SC_RUNNING;
	rc = pthread_create(&s->thread, NULL, run_thread, s);
	if (rc) {
		s->phase = SC_IDLE;
		return -rc;
	}
	s->joinable = 1;
	return 0;
}

int sc_running(void *priv)
{
	struct sc *s = priv;
	int running;

	pthread_mutex_lock(&s->mu);
	running = s->phase == SC_RUNNING;
	pthread_mutex_unlock(&s->mu);
	return running;
}

int sc_take(void *priv, struct sc_raw *raw)
{
	struct sc *s = priv;
	int done;

	pthread_mutex_lock(&s->mu);
	done = s->phase == SC_DONE;
	if (done) {
		*raw = s->raw;
		memset(&s->raw, 0, sizeof(s->raw));
		s->phase = SC_IDLE;
	}
	pthread_mutex_unlock(&s->mu);
	if (done)
		run_reap(s);
	return done;
}

/* ---- checking the output ---- */

/* A JSON value as the parameter's text: numbers as katibfs writes them. */
static int value_text(const cJSON *v, char *buf, size_t size)
{
	double d;

	if (cJSON_IsString(v)) {
		snprintf(buf, size, "%s", v->valuestring);
		return 0;
	}
	if (!cJSON_IsNumber(v))
		return -1;
	d = v->valuedouble;
	if (d == nearbyint(d) && fabs(d) < 1e15)
		snprintf(buf, size, "%.0f", d);
	else
		format_double(d, buf, size);
	return 0;
}

static int parse_one(const struct experiment_spec *spec, const cJSON *obj,
		     size_t i, char ***out, struct kb_error *err)
{
	char **values =
		calloc(spec->nparams ? spec->nparams : 1, sizeof(*values));
	char text[1024], field[64];
	const cJSON *m;
	int rc = 0;

	if (!values)
		return -ENOMEM;
	snprintf(field, sizeof(field), "[%zu]", i);
	if (!cJSON_IsObject(obj))
		rc = kb_error_set(err, -EINVAL, field, 0,
				  "is not an object {\"<parameter>\": value}");
	cJSON_ArrayForEach(m, obj)
	{
		if (rc)
			break;
		if (value_text(m, text, sizeof(text)))
			rc = kb_error_set(err, -EINVAL, field, 0,
					  "%s is neither a number nor a string",
					  m->string);
		else
			rc = assignment_set_value(spec, values, m->string,
						  strlen(m->string), text, err);
	}
	if (!rc)
		rc = assignment_check_complete(spec, values, err);
	if (rc) {
		assignment_values_free(values, spec->nparams);
		return rc;
	}
	*out = values;
	return 0;
}

int sc_parse(const struct experiment_spec *spec, const char *text, size_t len,
	     size_t want, char ***out, size_t *n, size_t *extra,
	     struct kb_error *err)
{
	cJSON *j = cJSON_ParseWithLength(text, len), *item;
	size_t i = 0;
	int rc = 0;

	*n = *extra = 0;
	if (!j)
		return kb_error_set(err, -EINVAL, NULL, 0,
				    "its output is not JSON (%zu bytes%s%.60s)",
				    len, len ? ": " : "", text);
	if (!cJSON_IsArray(j)) {
		cJSON_Delete(j);
		return kb_error_set(err, -EINVAL, NULL, 0,
				    "its output is JSON but not an array of "
				    "assignments [{\"<parameter>\": value}]");
	}
	cJSON_ArrayForEach(item, j)
	{
		if (i++ >= want) {
			(*extra)++;
			continue;
		}
		rc = parse_one(spec, item, i - 1, &out[*n], err);
		if (rc)
			break;
		(*n)++;
	}
	cJSON_Delete(j);
	if (rc) {
		while (*n)
			assignment_values_free(out[--*n], spec->nparams);
		*extra = 0;
	}
	return rc;
}

/* ---- the ops ---- */

static int sc_create(const struct experiment_spec *spec, const char *state,
		     void **priv, struct kb_error *err)
{
	struct sc *s = calloc(1, sizeof(*s));

	if (!s || pthread_mutex_init(&s->mu, NULL)) {
		free(s);
		return kb_error_set(err, -ENOMEM, NULL, 0, "out of memory");
	}
	if (pipe2(s->cancel, O_CLOEXEC | O_NONBLOCK)) {
		pthread_mutex_destroy(&s->mu);
		free(s);
		return kb_error_set(err, -errno, NULL, 0,
				    "cannot make a pipe: %s", strerror(errno));
	}
	*priv = s;
	return 0;
}

static void sc_destroy(void *priv)
{
	struct sc *s = priv;
	char one = 1;

	if (!s)
		return;
	if (sc_running(s) && write(s->cancel[1], &one, 1) < 0)
		one = 0; /* the pipe is full: it was written already */
	run_reap(s);
	sc_raw_free(&s->raw);
	close(s->cancel[0]);
	close(s->cancel[1]);
	pthread_mutex_destroy(&s->mu);
	free(s);
}

const struct algorithm_ops algorithm_suggestion_command = {
	.name = "suggestion-command",
	.implemented = 1,
	.create = sc_create,
	/* no suggest(): the controller must not wait for a program under
	 * its lock; core/engine/command.c runs it with sc_start() */
	.destroy = sc_destroy,
};
