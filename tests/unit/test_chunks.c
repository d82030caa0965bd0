/*
 * test_chunks.c - append-only text in shared chunks (core/util/chunks.h):
 * snapshots read back exactly what was appended before them, in any
 * pieces, across chunk boundaries, after later appends and after the
 * owner dropped everything; the header check; and a lone text snapshot.
 * The pieces' sizes are random: the seed is printed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "katib/katib.h"
#include "util/chunks.h"

#define TOTAL (3 * CHUNK_SIZE + 1234)

static char *reference(size_t n)
{
	char *r = malloc(n);
	size_t i;

	assert_non_null(r);
	for (i = 0; i < n; i++)
		r[i] = (char)('a' + (i * 7 + i / 13) % 26);
	return r;
}

/* Read t whole in pieces of random size and compare with want. */
static void check_reads(const struct katib_text *t, const char *want,
			size_t len)
{
	char *got = malloc(len + 1);
	size_t off = 0, n;

	assert_non_null(got);
	assert_int_equal(katib_text_size(t), len);
	while ((n = katib_text_read(t, got + off, 1 + (size_t)rand() % 9000,
				    (off_t)off)))
		off += n;
	assert_int_equal(off, len);
	assert_memory_equal(got, want, len);
	assert_int_equal(katib_text_read(t, got, 10, (off_t)len), 0);
	assert_int_equal(katib_text_read(t, got, 10, (off_t)len + 5), 0);
	assert_int_equal(katib_text_read(t, got, 10, -1), 0);
	free(got);
}

static void test_snapshots(void **state)
{
	unsigned seed = (unsigned)time(NULL);
	char *ref = reference(TOTAL), *tail, *whole;
	struct katib_text *snap[64];
	size_t lens[64], nsnap = 0, len = 0, n, i;
	struct chunks c;

	printf("seed %u\n", seed);
	srand(seed);
	chunks_init(&c);
	while (len < TOTAL) {
		n = 1 + (size_t)rand() % 20000;
		if (n > TOTAL - len)
			n = TOTAL - len;
		assert_int_equal(chunks_append(&c, ref + len, n), 0);
		len += n;
		assert_int_equal(c.len, len);
		if (nsnap < 64) {
			tail = strdup("tail,1\n");
			snap[nsnap] = chunks_snapshot(&c, tail, 7);
			assert_non_null(snap[nsnap]);
			lens[nsnap++] = len;
		}
	}
	assert_true(chunks_begin_with(&c, ref, CHUNK_SIZE + 10));
	assert_false(chunks_begin_with(&c, "b", 1));
	assert_false(chunks_begin_with(&c, ref, TOTAL + 1));
	chunks_reset(&c); /* the snapshots keep their chunks */
	assert_int_equal(c.len, 0);
	for (i = 0; i < nsnap; i++) {
		whole = malloc(lens[i] + 7);
		assert_non_null(whole);
		memcpy(whole, ref, lens[i]);
		memcpy(whole + lens[i], "tail,1\n", 7);
		check_reads(snap[i], whole, lens[i] + 7);
		free(whole);
		katib_text_free(snap[i]);
	}
	free(ref);
}

/* One append larger than several chunks, then a snapshot without tail. */
static void test_big_append(void **state)
{
	char *ref = reference(TOTAL);
	struct katib_text *t;
	struct chunks c;

	chunks_init(&c);
	assert_int_equal(chunks_append(&c, ref, 10), 0);
	assert_int_equal(chunks_append(&c, ref + 10, TOTAL - 10), 0);
	t = chunks_snapshot(&c, NULL, 0);
	assert_non_null(t);
	assert_int_equal(chunks_append(&c, "more", 4), 0); /* not in t */
	check_reads(t, ref, TOTAL);
	katib_text_free(t);
	chunks_reset(&c);
	free(ref);
}

static void test_text_alone(void **state)
{
	struct katib_text *t = text_snapshot(strdup("state=Running\n"), 14);

	assert_non_null(t);
	check_reads(t, "state=Running\n", 14);
	katib_text_free(t);
	t = text_snapshot(NULL, 0);
	assert_non_null(t);
	check_reads(t, "", 0);
	katib_text_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_snapshots),
		cmocka_unit_test(test_big_append),
		cmocka_unit_test(test_text_alone),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
