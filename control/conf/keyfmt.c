// SPDX-License-Identifier: GPL-2.0-only
/*
 * keyfmt.c - key <-> text. Private and preshared keys pass through here, so the character
 * mapping is arithmetic (no table indexed by a secret, no branch on a secret): each character
 * class contributes its value only when a sign-mask says the character lies in its range.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "keyfmt.h"
#include "text.h"

/* All ones when lo <= c <= hi, else zero; c, lo, hi are small non-negative ints. */
static inline int range_mask(int c, int lo, int hi)
{
	return ((lo - 1 - c) & (c - hi - 1)) >> 8;
}

/* 0..63 for a base64 character, -1 otherwise. */
static int b64_value(int c)
{
	int v = -1;

	v += range_mask(c, 'A', 'Z') & (c - 'A' + 1);
	v += range_mask(c, 'a', 'z') & (c - 'a' + 27);
	v += range_mask(c, '0', '9') & (c - '0' + 53);
	v += range_mask(c, '+', '+') & 63;
	v += range_mask(c, '/', '/') & 64;
	return v;
}

/* Inverse of b64_value for 0..63: start from 'A' + v and shift by each class boundary passed. */
static char b64_char(int v)
{
	int c = 'A' + v;

	c += range_mask(v, 26, 63) & ('a' - 26 - 'A');
	c += range_mask(v, 52, 63) & ('0' - 52 - ('a' - 26));
	c += range_mask(v, 62, 62) & ('+' - 62 - ('0' - 52));
	c += range_mask(v, 63, 63) & ('/' - 63 - ('0' - 52));
	return (char)c;
}

int keyfmt_base64_decode(uint8_t out[32], const char *in)
{
	unsigned int bad = 0, acc;
	int i, j, v;

	if (strnlen(in, KEYFMT_BASE64_LEN + 1) != KEYFMT_BASE64_LEN || in[43] != '=') {
		memset(out, 0, 32);
		return -EINVAL;
	}
	/* 10 groups of 4 characters -> 30 bytes, then 3 characters -> 18 bits for the last 2 bytes. */
	for (i = 0; i < 11; i++) {
		acc = 0;
		for (j = 0; j < 4; j++) {
			v = i == 10 && j == 3 ? 0 : b64_value((unsigned char)in[i * 4 + j]);
			bad |= (unsigned int)v >> 31;
			acc = (acc << 6) | ((unsigned int)v & 63);
		}
		out[i * 3] = (uint8_t)(acc >> 16);
		out[i * 3 + 1] = (uint8_t)(acc >> 8);
		if (i < 10)
			out[i * 3 + 2] = (uint8_t)acc;
		else
			bad |= acc & 0xff;  /* the two spare bits of char 42 must be zero: canonical form */
	}
	if (bad) {
		memset(out, 0, 32);
		return -EINVAL;
	}
	return 0;
}

void keyfmt_base64_encode(char out[KEYFMT_BASE64_LEN + 1], const uint8_t k[32])
{
	unsigned int acc;
	int i;

	for (i = 0; i < 11; i++) {
		acc = (unsigned int)k[i * 3] << 16 | (unsigned int)k[i * 3 + 1] << 8;
		if (i < 10)
			acc |= k[i * 3 + 2];
		out[i * 4] = b64_char((acc >> 18) & 63);
		out[i * 4 + 1] = b64_char((acc >> 12) & 63);
		out[i * 4 + 2] = b64_char((acc >> 6) & 63);
		out[i * 4 + 3] = i < 10 ? b64_char(acc & 63) : '=';
	}
	out[KEYFMT_BASE64_LEN] = '\0';
}

static int hex_value(int c)
{
	int v = -1;

	v += range_mask(c, '0', '9') & (c - '0' + 1);
	v += range_mask(c, 'a', 'f') & (c - 'a' + 11);
	v += range_mask(c, 'A', 'F') & (c - 'A' + 11);
	return v;
}

int keyfmt_hex_decode(uint8_t out[32], const char *in)
{
	unsigned int bad = 0;
	int i, hi, lo;

	if (strnlen(in, KEYFMT_HEX_LEN + 1) != KEYFMT_HEX_LEN) {
		memset(out, 0, 32);
		return -EINVAL;
	}
	for (i = 0; i < 32; i++) {
		hi = hex_value((unsigned char)in[i * 2]);
		lo = hex_value((unsigned char)in[i * 2 + 1]);
		bad |= ((unsigned int)hi | (unsigned int)lo) >> 31;
		out[i] = (uint8_t)((hi & 15) << 4 | (lo & 15));
	}
	if (bad) {
		memset(out, 0, 32);
		return -EINVAL;
	}
	return 0;
}

void keyfmt_hex_encode(char out[KEYFMT_HEX_LEN + 1], const uint8_t k[32])
{
	int i, n;

	for (i = 0; i < 64; i++) {
		n = i & 1 ? k[i / 2] & 15 : k[i / 2] >> 4;
		out[i] = (char)('0' + n + (range_mask(n, 10, 15) & ('a' - 10 - '0')));
	}
	out[KEYFMT_HEX_LEN] = '\0';
}

bool keyfmt_is_zero(const uint8_t k[32])
{
	uint8_t acc = 0;
	int i;

	for (i = 0; i < 32; i++)
		acc |= k[i];
	return acc == 0;
}

int keyfmt_read_fd(uint8_t out[32], int fd)
{
	char buf[128];
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	int ret = n < 0 ? -errno : 0;

	if (!ret) {
		buf[n] = '\0';
		ret = keyfmt_base64_decode(out, text_trim(buf));
	}
	explicit_bzero(buf, sizeof(buf));
	return ret;
}

int keyfmt_read_file(uint8_t out[32], const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), ret;

	if (fd < 0)
		return -errno;
	ret = keyfmt_read_fd(out, fd);
	close(fd);
	return ret;
}
