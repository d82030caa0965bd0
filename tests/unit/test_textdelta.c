/*
 * test_textdelta.c - a text packed against a reference reads back exactly
 * (scripts that differ in a few places, texts unlike the reference, empty
 * ones, random ones with their seed printed), packs small when it is like
 * the reference, and a damaged form is refused, not read past.
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

#include "util/textdelta.h"

static const char script1[] =
	"#!/bin/sh\n"
	"# katibfs: experiment scale, trial 1 (scale-n6h9xfp5).\n"
	"# `sh spec` runs it again by hand, in your environment plus the "
	"trial's.\n"
	"cd '/tmp/state/experiments/scale/1' || exit 1\n"
	"export KATIB_TRIAL_SLOT='0'\n"
	"export KATIB_TRIAL_NAME='scale-n6h9xfp5'\n"
	"export KATIB_TRIAL_DIR='/tmp/state/experiments/scale/1'\n"
	"export PYTHONUNBUFFERED='1'\n"
	"exec '/bin/echo' 'objective=1' 'x=0.7027290641512489'\n";

static const char script2[] =
	"#!/bin/sh\n"
	"# katibfs: experiment scale, trial 10482 (scale-bb4n4vb5).\n"
	"# `sh spec` runs it again by hand, in your environment plus the "
	"trial's.\n"
	"cd '/tmp/state/experiments/scale/10482' || exit 1\n"
	"export KATIB_TRIAL_SLOT='6'\n"
	"export KATIB_TRIAL_NAME='scale-bb4n4vb5'\n"
	"export KATIB_TRIAL_DIR='/tmp/state/experiments/scale/10482'\n"
	"export PYTHONUNBUFFERED='1'\n"
	"exec '/bin/echo' 'objective=1' 'x=0.44948269689814235'\n";

/* Pack text against ref, unpack it, and return the packed size. */
static size_t round_trip(const char *ref, size_t reflen, const char *text,
			 size_t len)
{
	struct strbuf packed = { 0 }, out = { 0 };
	size_t n;

	assert_int_equal(textdelta_pack(ref, reflen, text, len, &packed), 0);
	assert_int_equal(textdelta_unpack(ref, reflen,
					  (const unsigned char *)packed.data,
					  &out),
			 0);
	assert_int_equal(out.len, len);
	if (len)
		assert_memory_equal(out.data, text, len);
	n = packed.len;
	strbuf_free(&packed);
	strbuf_free(&out);
	return n;
}

static void test_scripts(void **state)
{
	size_t n1 = strlen(script1), n2 = strlen(script2), n;

	n = round_trip(script1, n1, script2, n2);
	/* the differing bytes and a few per copy: a fifth of the text */
	assert_true(n < n2 / 4);
	assert_true(round_trip(script1, n1, script1, n1) <= 8);
	round_trip(script2, n2, script1, n1);
}

static void test_unlike_and_empty(void **state)
{
	const char *other = "something else entirely, nothing alike";

	assert_true(round_trip(script1, strlen(script1), other,
			       strlen(other)) <= strlen(other) + 4);
	round_trip(script1, strlen(script1), "", 0);
	round_trip("", 0, script1, strlen(script1));
	round_trip("", 0, "", 0);
	round_trip("abc", 3, "abcabcabcabc", 12); /* shorter than a hash */
}

static void test_random(void **state)
{
	unsigned seed = (unsigned)time(NULL);
	char ref[600], text[900];
	size_t i, j, rl, tl;

	printf("test_random seed %u\n", seed);
	srand(seed);
	for (i = 0; i < 300; i++) {
		rl = (size_t)rand() % sizeof(ref);
		for (j = 0; j < rl; j++)
			ref[j] = "ab\n'x01"[rand() % 7];
		tl = (size_t)rand() % sizeof(text);
		for (j = 0; j < tl; j++) /* mostly runs of ref */
			text[j] = rl && rand() % 8 ? ref[(j * 7 / 5) % rl]
						   : (char)(rand() % 256);
		round_trip(ref, rl, text, tl);
	}
}

static void test_damaged(void **state)
{
	struct strbuf packed = { 0 }, out = { 0 };
	size_t n1 = strlen(script1);

	assert_int_equal(
		textdelta_pack(script1, n1, script2, strlen(script2), &packed),
		0);
	/* against a shorter reference the copies point past its end */
	assert_int_equal(textdelta_unpack(script1, 20,
					  (const unsigned char *)packed.data,
					  &out),
			 -EINVAL);
	strbuf_free(&out);
	/* a length that its operations overrun */
	assert_int_equal(textdelta_unpack(script1, n1,
					  (const unsigned char[]){
						  2, 8, 'a', 'b', 'c', 'd' },
					  &out),
			 -EINVAL);
	strbuf_free(&out);
	strbuf_free(&packed);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_scripts),
		cmocka_unit_test(test_unlike_and_empty),
		cmocka_unit_test(test_random),
		cmocka_unit_test(test_damaged),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
