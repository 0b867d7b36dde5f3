// SPDX-License-Identifier: GPL-2.0-only
/*
 * fuzz_replay.c - the smoke run of fuzz_netmap.c without libFuzzer: every MapResponse of the
 * fixture files, each of its prefixes, and deterministic mutations (byte flips, splices of
 * JSON tokens). Passing means no crash and, under the sanitizers, no memory error.
 * Usage: fuzz_replay_netmap [-m MUTATIONS] FIXTURE.json...
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len);

static uint32_t rng = 2463534242u;

static uint32_t next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 17;
	rng ^= rng << 5;
	return rng;
}

static const char *tokens[] = { "null", "[]", "{}", "\"\"", "-1", "1e999", "\"nodekey:\"", "[null]",
				"\"0.0.0.0/0\"", "\"::/0\"", "\"127.3.3.40:7\"", "9223372036854775807", "true" };

static void mutate(const char *text, size_t len, unsigned n)
{
	char *buf = malloc(len + 64);
	unsigned i;

	for (i = 0; i < n && buf; i++) {
		size_t at = len ? next() % len : 0, k;

		memcpy(buf, text, len);
		switch (next() % 3) {
		case 0:
			buf[at] ^= (char)(1u << (next() % 8));
			LLVMFuzzerTestOneInput((const uint8_t *)buf, len);
			break;
		case 1: {
			const char *tok = tokens[next() % 13];

			k = strlen(tok);
			memmove(buf + at + k, buf + at, len - at);
			memcpy(buf + at, tok, k);
			LLVMFuzzerTestOneInput((const uint8_t *)buf, len + k);
			break;
		}
		default:
			LLVMFuzzerTestOneInput((const uint8_t *)buf, at);
			break;
		}
	}
	free(buf);
}

int main(int argc, char **argv)
{
	unsigned muts = 200, runs = 0;
	int i = 1;

	if (argc > 2 && !strcmp(argv[1], "-m")) {
		muts = (unsigned)atoi(argv[2]);
		i = 3;
	}
	for (; i < argc; i++) {
		json_t *fx = json_load_file(argv[i], 0, NULL), *step;
		size_t k;

		if (!fx)
			return fprintf(stderr, "%s: not JSON\n", argv[i]), 1;
		json_array_foreach(json_object_get(fx, "steps"), k, step) {
			char *text = json_dumps(json_object_get(step, "map"), JSON_COMPACT);
			size_t len = strlen(text), cut;

			LLVMFuzzerTestOneInput((const uint8_t *)text, len);
			for (cut = 0; cut < len; cut += 1 + len / 64)
				LLVMFuzzerTestOneInput((const uint8_t *)text, cut);
			mutate(text, len, muts);
			runs += 1 + muts;
			free(text);
		}
		json_decref(fx);
	}
	printf("fuzz_replay_netmap: %u inputs, no crash\n", runs);
	return 0;
}
