// SPDX-License-Identifier: GPL-2.0-only
/*
 * test_frame.c - early payload fed in Headscale's three writes and byte by byte;
 * its absence (an HTTP/2 SETTINGS header first) replays the 9 bytes; the 10 MiB cap. MapResponse
 * framing: uint32 LE lengths, messages split at every possible point, zero-length
 * messages, the size cap, a callback that stops the feed.
 */
#include <errno.h>
#include "hsframe.h"
#include "t.h"

static const char challenge[] = "{\"nodeKeyChallenge\":\"chalpub:c0c1c2c3c4c5c6c7c8c9cacbcccdcecfd0d1d2d3d4d5d6d7d8d9dadbdcdddedf\"}";

static void test_early(void)
{
	uint8_t stream[256];
	size_t len = 0, blen = strlen(challenge), i;
	struct hs_early e;
	const uint8_t *rep;
	size_t replen;
	static const uint8_t settings[] = { 0, 0, 0, 4, 0, 0, 0, 0, 0, 0xaa };

	memcpy(stream, HS_EARLY_MAGIC, 5);
	stream[5] = 0; stream[6] = 0; stream[7] = 0; stream[8] = (uint8_t)blen;
	memcpy(stream + 9, challenge, blen);
	len = 9 + blen;
	CHECK(blen == 95);
	memcpy(stream + len, settings, sizeof(settings));

	/* Three writes (magic, length, JSON) plus the HTTP/2 bytes behind it. */
	memset(&e, 0, sizeof(e));
	CHECK(hs_early_feed(&e, stream, 5) == 5);
	CHECK(hs_early_feed(&e, stream + 5, 4) == 4 && e.present && e.body_len == 95);
	CHECK(hs_early_feed(&e, stream + 9, blen + sizeof(settings)) == (long)blen);
	CHECK(e.state == HS_EARLY_DONE && !strcmp(e.body, challenge));
	CHECK(!hs_early_passthrough(&e, &rep, &replen));

	/* One byte at a time. */
	memset(&e, 0, sizeof(e));
	for (i = 0; i < len; i++)
		CHECK(hs_early_feed(&e, stream + i, 1) == 1);
	CHECK(e.state == HS_EARLY_DONE && !strcmp(e.body, challenge));

	/* No early payload: the first 9 bytes go back to HTTP/2, once. */
	memset(&e, 0, sizeof(e));
	CHECK(hs_early_feed(&e, settings, 4) == 4);
	CHECK(hs_early_feed(&e, settings + 4, 6) == 5);
	CHECK(e.state == HS_EARLY_DONE && !e.present);
	CHECK(hs_early_passthrough(&e, &rep, &replen) && replen == 9 && !memcmp(rep, settings, 9));
	CHECK(!hs_early_passthrough(&e, &rep, &replen));

	/* Over the 10 MiB cap. */
	memset(&e, 0, sizeof(e));
	stream[5] = 0; stream[6] = 0xa0; stream[7] = 0; stream[8] = 1;
	CHECK(hs_early_feed(&e, stream, 9) == -EMSGSIZE);
}

struct sink {
	int n;
	char msgs[8][64];
	size_t lens[8];
	int stop_at;
};

static int on_msg(void *arg, const uint8_t *msg, size_t len)
{
	struct sink *s = arg;

	if (s->n < 8) {
		memcpy(s->msgs[s->n], msg, len < 63 ? len : 63);
		s->msgs[s->n][len < 63 ? len : 63] = '\0';
		s->lens[s->n] = len;
	}
	s->n++;
	return s->n == s->stop_at ? -EINTR : 0;
}

static size_t put(uint8_t *out, const char *msg)
{
	uint32_t n = (uint32_t)strlen(msg);

	out[0] = (uint8_t)n; out[1] = (uint8_t)(n >> 8); out[2] = (uint8_t)(n >> 16); out[3] = (uint8_t)(n >> 24);
	memcpy(out + 4, msg, n);
	return 4 + n;
}

static void test_mapframe(void)
{
	static const char *msgs[] = { "{\"KeepAlive\":true}", "", "{\"Node\":{\"ID\":1}}" };
	uint8_t stream[128];
	size_t len = 0, cut, i;

	for (i = 0; i < 3; i++)
		len += put(stream + len, msgs[i]);
	/* Every split point in two pieces, and byte by byte. */
	for (cut = 0; cut <= len; cut++) {
		struct hs_mapframe f = { 0 };
		struct sink s = { 0 };

		CHECK(hs_mapframe_feed(&f, stream, cut, on_msg, &s) == 0);
		CHECK(hs_mapframe_feed(&f, stream + cut, len - cut, on_msg, &s) == 0);
		CHECK(s.n == 3);
		for (i = 0; i < 3; i++)
			CHECK(s.lens[i] == strlen(msgs[i]) && !strcmp(s.msgs[i], msgs[i]));
		hs_mapframe_reset(&f);
	}
	{
		struct hs_mapframe f = { 0 };
		struct sink s = { .stop_at = 1 };

		/* A callback error stops the feed right there. */
		CHECK(hs_mapframe_feed(&f, stream, len, on_msg, &s) == -EINTR && s.n == 1);
		hs_mapframe_reset(&f);
	}
	{
		struct hs_mapframe f = { 0 };
		struct sink s = { 0 };
		static const uint8_t huge[4] = { 0, 0, 0, 0x10 };      /* 256 MiB, little-endian */
		static const uint8_t le[6] = { 2, 0, 0, 0, '{', '}' }; /* LE, not BE: length 2 */

		CHECK(hs_mapframe_feed(&f, huge, 4, on_msg, &s) == -EMSGSIZE);
		hs_mapframe_reset(&f);
		CHECK(hs_mapframe_feed(&f, le, 6, on_msg, &s) == 0 && s.n == 1 && !strcmp(s.msgs[0], "{}"));
		hs_mapframe_reset(&f);
	}
}

int main(void)
{
	test_early();
	test_mapframe();
	return t_done("test_frame");
}
