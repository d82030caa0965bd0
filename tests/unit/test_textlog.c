/*
 * test_textlog.c - an append-only text with its older blocks deflated
 * reads back exactly: any byte range (across blocks and the plain tail),
 * the whole text, after each of many appends (random lines, seed printed);
 * the sealed part is much smaller than the text it holds.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "util/textlog.h"

/* Every range the reader may ask for reads back as the plain copy. */
static void check_ranges(struct textlog *l, const struct strbuf *tail,
			 const struct strbuf *plain, unsigned *seed)
{
	static char got[3 * TEXTLOG_BLOCK];
	size_t total = textlog_sealed_len(l) + tail->len;
	int i;

	assert_int_equal(total, plain->len);
	for (i = 0; i < 20; i++) {
		size_t off = total ? (size_t)rand_r(seed) % (total + 10) : 0;
		size_t n = (size_t)rand_r(seed) % sizeof(got);
		size_t want = off >= total	? 0
			      : total - off < n ? total - off
						: n;
		ssize_t r = textlog_pread(l, tail, got, n, (off_t)off);

		assert_int_equal(r, (ssize_t)want);
		assert_memory_equal(got, plain->data + (off < total ? off : 0),
				    want);
	}
	assert_int_equal(textlog_pread(l, tail, got, 1, -1), -EINVAL);
}

static void test_reads_back(void **state)
{
	struct strbuf tail = { 0 }, plain = { 0 }, whole = { 0 };
	struct textlog l = { 0 };
	unsigned seed = (unsigned)time(NULL);
	int i;

	printf("seed %u\n", seed);
	for (i = 0; i < 12000; i++) {
		char line[200];
		int n = snprintf(line, sizeof(line),
				 "2026-12-03T14:%02d:%02d.%06dZ trial %d "
				 "Succeeded after %d.%ds: objective=%d\n",
				 rand_r(&seed) % 60, rand_r(&seed) % 60,
				 rand_r(&seed) % 1000000, i, rand_r(&seed) % 10,
				 rand_r(&seed) % 10, rand_r(&seed) % 100);

		assert_int_equal(strbuf_append(&tail, line, (size_t)n), 0);
		assert_int_equal(strbuf_append(&plain, line, (size_t)n), 0);
		assert_int_equal(textlog_seal(&l, &tail), 0);
		assert_true(tail.len < 2 * TEXTLOG_BLOCK);
		if (i % 1000 == 0)
			check_ranges(&l, &tail, &plain, &seed);
	}
	check_ranges(&l, &tail, &plain, &seed);
	assert_true(l.nblocks >= 5);
	{
		size_t i2, z = 0;

		for (i2 = 0; i2 < l.nblocks; i2++)
			z += l.blocks[i2].zlen;
		assert_true(z * 4 < textlog_sealed_len(&l));
	}
	assert_int_equal(textlog_append_to(&l, &tail, &whole), 0);
	assert_int_equal(whole.len, plain.len);
	assert_memory_equal(whole.data, plain.data, plain.len);
	strbuf_free(&whole);
	strbuf_free(&tail);
	strbuf_free(&plain);
	textlog_free(&l);
}

static void test_empty(void **state)
{
	struct strbuf tail = { 0 }, whole = { 0 };
	struct textlog l = { 0 };
	char c;

	assert_int_equal(textlog_seal(&l, &tail), 0);
	assert_int_equal(textlog_pread(&l, &tail, &c, 1, 0), 0);
	assert_int_equal(textlog_append_to(&l, &tail, &whole), 0);
	assert_int_equal(whole.len, 0);
	strbuf_free(&whole);
	textlog_free(&l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reads_back),
		cmocka_unit_test(test_empty),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
