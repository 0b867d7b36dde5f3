// SPDX-License-Identifier: GPL-2.0-only
/*
 * replay.c - runs a libFuzzer harness without libFuzzer (gcc builds, the test suite's smoke run):
 * feeds every file named on the command line (directories are walked one level), and with
 * "-m N" also N deterministic mutations of each (byte flips, inserts, deletions, splices with
 * another corpus file), so a plain build still shakes the parser a little.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct input {
	uint8_t *data;
	size_t len;
};

static struct input inputs[512];
static size_t n_inputs;
static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static uint32_t rnd(uint32_t n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return n ? (uint32_t)(rng % n) : 0;
}

static void load(const char *path)
{
	struct input *in;
	FILE *f;
	long len;

	if (n_inputs == sizeof(inputs) / sizeof(*inputs) || !(f = fopen(path, "rb")))
		return;
	fseek(f, 0, SEEK_END);
	len = ftell(f);
	fseek(f, 0, SEEK_SET);
	in = &inputs[n_inputs];
	in->data = malloc(len > 0 ? (size_t)len : 1);
	if (in->data && len >= 0 && fread(in->data, 1, (size_t)len, f) == (size_t)len) {
		in->len = (size_t)len;
		n_inputs++;
	} else {
		free(in->data);
	}
	fclose(f);
}

static void load_arg(const char *path)
{
	char sub[4096];
	struct dirent *de;
	struct stat st;
	DIR *d;

	if (stat(path, &st) || !S_ISDIR(st.st_mode)) {
		load(path);
		return;
	}
	d = opendir(path);
	while (d && (de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(sub, sizeof(sub), "%s/%s", path, de->d_name);
		load(sub);
	}
	if (d)
		closedir(d);
}

static void mutate_and_run(const struct input *in, uint8_t *buf, size_t cap)
{
	const struct input *other = &inputs[rnd((uint32_t)n_inputs)];
	size_t len = in->len < cap ? in->len : cap, pos, k, n;

	memcpy(buf, in->data, len);
	for (k = 1 + rnd(4); k; k--) {
		pos = len ? rnd((uint32_t)len) : 0;
		switch (rnd(5)) {
		case 0:         /* flip a bit */
			if (len)
				buf[pos] ^= (uint8_t)(1u << rnd(8));
			break;
		case 1:         /* set an interesting byte */
			if (len)
				buf[pos] = (const uint8_t[]){ '\n', '=', '[', ']', '#', ',', '/', ':', '-', '0', 0, 0xff }[rnd(12)];
			break;
		case 2:         /* delete a run */
			n = rnd((uint32_t)(len - pos + 1));
			memmove(buf + pos, buf + pos + n, len - pos - n);
			len -= n;
			break;
		case 3:         /* duplicate a run */
			n = rnd((uint32_t)(len - pos + 1));
			if (len + n <= cap) {
				memmove(buf + pos + n, buf + pos, len - pos);
				len += n;
			}
			break;
		default:        /* splice in part of another input */
			n = other->len ? rnd((uint32_t)other->len) : 0;
			if (pos + n <= cap) {
				memcpy(buf + pos, other->data, n);
				len = pos + n > len ? pos + n : len;
			}
			break;
		}
	}
	LLVMFuzzerTestOneInput(buf, len);
}

int main(int argc, char **argv)
{
	unsigned long mutations = 0, m;
	static uint8_t buf[1 << 16];
	size_t i;
	int a;

	for (a = 1; a < argc; a++) {
		if (!strcmp(argv[a], "-m") && a + 1 < argc)
			mutations = strtoul(argv[++a], NULL, 10);
		else
			load_arg(argv[a]);
	}
	if (!n_inputs) {
		fprintf(stderr, "replay: no inputs\n");
		return 1;
	}
	for (i = 0; i < n_inputs; i++) {
		LLVMFuzzerTestOneInput(inputs[i].data, inputs[i].len);
		for (m = 0; m < mutations; m++)
			mutate_and_run(&inputs[i], buf, sizeof(buf));
	}
	printf("replay: %zu inputs, %lu mutations each, no crash\n", n_inputs, mutations);
	for (i = 0; i < n_inputs; i++)
		free(inputs[i].data);
	return 0;
}
