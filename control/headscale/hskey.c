// SPDX-License-Identifier: GPL-2.0-only
/*
 * hskey.c - key text forms (TS types/key/util.go: prefix + hex) and key files in StateDir.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <sodium.h>
#include "hskey.h"

static const char hexdig[] = "0123456789abcdef";

void hskey_format(char out[HSKEY_TEXT_MAX], const char *prefix, const uint8_t key[HSKEY_LEN])
{
	size_t n = strlen(prefix), i;

	if (n > HSKEY_TEXT_MAX - 2 * HSKEY_LEN - 1)
		n = HSKEY_TEXT_MAX - 2 * HSKEY_LEN - 1;
	memcpy(out, prefix, n);
	for (i = 0; i < HSKEY_LEN; i++) {
		out[n + 2 * i] = hexdig[key[i] >> 4];
		out[n + 2 * i + 1] = hexdig[key[i] & 15];
	}
	out[n + 2 * HSKEY_LEN] = '\0';
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int hskey_parse(uint8_t key[HSKEY_LEN], const char *prefix, const char *text)
{
	size_t n = strlen(prefix), i;

	if (!text || strncmp(text, prefix, n) || strlen(text + n) != 2 * HSKEY_LEN)
		goto bad;
	text += n;
	for (i = 0; i < HSKEY_LEN; i++) {
		int hi = hexval(text[2 * i]), lo = hexval(text[2 * i + 1]);

		if (hi < 0 || lo < 0)
			goto bad;
		key[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
bad:
	memset(key, 0, HSKEY_LEN);
	return -EINVAL;
}

void hskey_public(uint8_t pub[HSKEY_LEN], const uint8_t priv[HSKEY_LEN])
{
	crypto_scalarmult_curve25519_base(pub, priv);
}

void hskey_generate(uint8_t priv[HSKEY_LEN])
{
	randombytes_buf(priv, HSKEY_LEN);
	priv[0] &= 248;
	priv[31] = (priv[31] & 127) | 64;
}

bool hskey_is_zero(const uint8_t key[HSKEY_LEN])
{
	return sodium_is_zero(key, HSKEY_LEN);
}

static void set_err(char *err, size_t errlen, const char *dir, const char *name, const char *why)
{
	if (err && errlen)
		snprintf(err, errlen, "%s/%s: %s", dir, name, why);
}

static int read_keyfile(int fd, uint8_t priv[HSKEY_LEN])
{
	char buf[HSKEY_TEXT_MAX + 4];
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	int ret;

	if (n < 0)
		return -errno;
	buf[n] = '\0';
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r' || buf[n - 1] == ' '))
		buf[--n] = '\0';
	ret = hskey_parse(priv, "privkey:", buf);
	sodium_memzero(buf, sizeof(buf));
	return ret;
}

int hskey_store(const uint8_t priv[HSKEY_LEN], const char *dir, const char *name)
{
	char path[4200], tmp[4210], text[HSKEY_TEXT_MAX + 1];
	int fd, ret = 0;
	size_t len;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	unlink(tmp);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	hskey_format(text, "privkey:", priv);
	len = strlen(text);
	text[len++] = '\n';
	if (write(fd, text, len) != (ssize_t)len || fsync(fd))
		ret = errno ? -errno : -EIO;
	sodium_memzero(text, sizeof(text));
	close(fd);
	if (!ret && rename(tmp, path))
		ret = -errno;
	if (ret)
		unlink(tmp);
	return ret;
}

int hskey_load_or_create(uint8_t priv[HSKEY_LEN], const char *dir, const char *name, char *err, size_t errlen)
{
	char path[4200];
	struct stat st;
	int fd, ret;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0 && errno == ENOENT) {
		if (mkdir(dir, 0700) && errno != EEXIST) {
			ret = -errno;
			set_err(err, errlen, dir, name, strerror(-ret));
			return ret;
		}
		hskey_generate(priv);
		ret = hskey_store(priv, dir, name);
		if (ret)
			set_err(err, errlen, dir, name, strerror(-ret));
		return ret;
	}
	if (fd < 0) {
		ret = -errno;
		set_err(err, errlen, dir, name, strerror(-ret));
		return ret;
	}
	if (fstat(fd, &st) || (st.st_mode & 077)) {
		close(fd);
		set_err(err, errlen, dir, name, "refused: key file is accessible by group or others (chmod 600)");
		return -EPERM;
	}
	ret = read_keyfile(fd, priv);
	close(fd);
	if (ret)
		set_err(err, errlen, dir, name, "not a \"privkey:<64 hex>\" key file");
	return ret;
}
