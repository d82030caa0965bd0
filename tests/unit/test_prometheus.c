/*
 * test_prometheus.c - the PrometheusMetric collector (core/collectors/
 * prometheus.c): the text exposition format (comments, labels and their
 * escapes, +Inf/NaN, timestamps, malformed lines), and the scraper thread
 * against a small HTTP server of the test's own on 127.0.0.1 (values
 * appended once per change, nothing after forget, a target that never
 * answers).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "collectors/prometheus.h"

struct got {
	char name[16][64];
	char labels[16][128];
	double value[16];
	double ts[16];
	int n;
};

static void take(void *ctx, const struct prom_sample *s)
{
	struct got *g = ctx;

	assert_true(g->n < 16);
	snprintf(g->name[g->n], sizeof(g->name[0]), "%.*s", (int)s->name_len,
		 s->name);
	snprintf(g->labels[g->n], sizeof(g->labels[0]), "%.*s",
		 (int)s->labels_len, s->labels);
	g->value[g->n] = s->value;
	g->ts[g->n] = s->timestamp;
	g->n++;
}

static void test_parse(void **state)
{
	const char text[] =
		"# HELP accuracy The accuracy.\n"
		"# TYPE accuracy gauge\n"
		"accuracy 0.91\n"
		"\n"
		"loss{split=\"test\",note=\"a \\\"quoted\\\" \\\\ and\\nline\"}"
		" 1.5e-3 1700000000123\n"
		"up_total +Inf\n"
		"down -Inf\r\n"
		"odd NaN\n"
		"ns:sub_metric{a=\"}\",} 7\n"
		"  spaced\t 3  \n";
	struct got g = { 0 };

	(void)state;
	assert_int_equal(prom_parse(text, strlen(text), take, &g), 0);
	assert_int_equal(g.n, 7);
	assert_string_equal(g.name[0], "accuracy");
	assert_true(g.value[0] == 0.91);
	assert_true(g.ts[0] == 0);
	assert_string_equal(g.name[1], "loss");
	assert_true(g.value[1] == 1.5e-3);
	assert_true(g.ts[1] == 1700000000.123);
	assert_non_null(strstr(g.labels[1], "split=\"test\""));
	assert_true(isinf(g.value[2]) && g.value[2] > 0);
	assert_true(isinf(g.value[3]) && g.value[3] < 0);
	assert_true(isnan(g.value[4]));
	assert_string_equal(g.name[5], "ns:sub_metric");
	assert_true(g.value[5] == 7);
	assert_string_equal(g.name[6], "spaced");
}

static void test_malformed(void **state)
{
	const char text[] = "ok 1\n"
			    "no_value\n"
			    "bad_value abc\n"
			    "bad{label=unquoted} 1\n"
			    "bad{label=\"open} 1\n"
			    "bad{l=\"\\x\"} 1\n"
			    "bad 1 2.5\n"
			    "bad 1 2 3\n"
			    "bad 1 +Inf\n"
			    "9starts_with_digit 1\n"
			    "bad 0x10\n"
			    "also_ok{} 2\n";
	struct got g = { 0 };

	(void)state;
	assert_int_equal(prom_parse(text, strlen(text), take, &g), 10);
	assert_int_equal(g.n, 2);
	assert_string_equal(g.name[0], "ok");
	assert_string_equal(g.name[1], "also_ok");
}

/* ---- a server ---- */

static int server_fd = -1, server_port;
static pthread_t server_thread;
static char body[256];
static pthread_mutex_t body_lock = PTHREAD_MUTEX_INITIALIZER;

static void *serve(void *arg)
{
	char req[1024], resp[512];
	int c;

	for (;;) {
		c = accept(server_fd, NULL, NULL);
		if (c < 0)
			return arg;
		if (read(c, req, sizeof(req)) > 0) {
			pthread_mutex_lock(&body_lock);
			snprintf(resp, sizeof(resp),
				 "HTTP/1.0 200 OK\r\nContent-Type: text/plain"
				 "\r\nContent-Length: %zu\r\n\r\n%s",
				 strlen(body), body);
			pthread_mutex_unlock(&body_lock);
			if (write(c, resp, strlen(resp)) < 0)
				break;
		}
		close(c);
	}
	return arg;
}

static int start_server(void **state)
{
	struct sockaddr_in a = { 0 };
	socklen_t len = sizeof(a);

	(void)state;
	server_fd = socket(AF_INET, SOCK_STREAM, 0);
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(server_fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(server_fd, 8), 0);
	getsockname(server_fd, (struct sockaddr *)&a, &len);
	server_port = ntohs(a.sin_port);
	return pthread_create(&server_thread, NULL, serve, NULL);
}

static int stop_server(void **state)
{
	(void)state;
	prom_scraper_shutdown();
	shutdown(server_fd, SHUT_RDWR);
	close(server_fd);
	pthread_join(server_thread, NULL);
	return 0;
}

static void set_body(const char *text)
{
	pthread_mutex_lock(&body_lock);
	snprintf(body, sizeof(body), "%s", text);
	pthread_mutex_unlock(&body_lock);
}

static size_t file_text(const char *path, char *buf, size_t size)
{
	FILE *f = fopen(path, "r");
	size_t n = 0;

	buf[0] = '\0';
	if (!f)
		return 0;
	n = fread(buf, 1, size - 1, f);
	buf[n] = '\0';
	fclose(f);
	return n;
}

/* Wait (up to 15 s) until the log holds `want`; fails on the deadline. */
static void wait_for(const char *log, const char *want)
{
	char text[4096];
	int i;

	for (i = 0; i < 300; i++) {
		file_text(log, text, sizeof(text));
		if (strstr(text, want))
			return;
		usleep(50000);
	}
	fail_msg("%s never showed '%s'; it holds: %s", log, want, text);
}

static int count(const char *hay, const char *needle)
{
	int n = 0;

	for (; (hay = strstr(hay, needle)); hay++)
		n++;
	return n;
}

static void test_scrape(void **state)
{
	char dir[] = "/tmp/test_prometheus.XXXXXX", log[256], text[4096];
	char *metrics[] = { "accuracy", "loss" };
	struct prom_status st;
	struct stat sb;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(log, sizeof(log), "%s/prometheus-metrics.log", dir);
	set_body("# TYPE accuracy gauge\naccuracy 0.5\nother 1\n");
	assert_int_equal(
		prom_scraper_watch(log, server_port, "/metrics", metrics, 2),
		0);
	assert_int_equal(
		prom_scraper_watch(log, server_port, "/metrics", metrics, 2),
		0); /* idempotent */
	wait_for(log, "accuracy=0.5\n");
	set_body("accuracy 0.75\nloss{a=\"b\"} 2 1700000000000\n");
	wait_for(log, "accuracy=0.75\n");
	wait_for(log, "2023-11-14T22:13:20.000000Z loss=2\n");
	assert_int_equal(prom_scraper_forget(log, &st), 1);
	assert_true(st.answered >= 2);
	assert_int_equal(st.bad_lines, 0);
	file_text(log, text, sizeof(text));
	/* unchanged values are not written again */
	assert_int_equal(count(text, "accuracy=0.5\n"), 1);
	assert_int_equal(count(text, "accuracy=0.75\n"), 1);
	assert_int_equal(count(text, "other"), 0);
	/* nothing is written once forgotten (three scrape intervals) */
	set_body("accuracy 0.99\n");
	stat(log, &sb);
	usleep((useconds_t)(3 * PROM_SCRAPE_INTERVAL * 1e6));
	file_text(log, text, sizeof(text));
	assert_null(strstr(text, "0.99"));
	assert_int_equal(prom_scraper_forget(log, &st), 0);
	unlink(log);
	rmdir(dir);
}

static void test_never_answers(void **state)
{
	char *metrics[] = { "accuracy" };
	struct prom_status st = { 0 };
	int i, port;
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = { 0 };
	socklen_t len = sizeof(a);

	(void)state;
	/* a port nobody listens on: bind one and close it */
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	getsockname(fd, (struct sockaddr *)&a, &len);
	port = ntohs(a.sin_port);
	close(fd);
	assert_int_equal(prom_scraper_watch("/tmp/test_prometheus-none.log",
					    port, "/metrics", metrics, 1),
			 0);
	for (i = 0; i < 300 && st.tries == 0; i++) {
		usleep(50000);
		assert_int_equal(prom_scraper_status(
					 "/tmp/test_prometheus-none.log", &st),
				 1);
	}
	assert_int_equal(
		prom_scraper_forget("/tmp/test_prometheus-none.log", &st), 1);
	assert_true(st.tries > 0);
	assert_int_equal(st.answered, 0);
	assert_true(st.last_error[0] != '\0');
	unlink("/tmp/test_prometheus-none.log");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test_setup_teardown(test_scrape, start_server,
						stop_server),
		cmocka_unit_test_setup_teardown(test_never_answers,
						start_server, stop_server),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
