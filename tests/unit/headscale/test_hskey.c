// SPDX-License-Identifier: GPL-2.0-only
/*
 * test_hskey.c - key text forms against the vectors of TS types/key/{node,machine,disco}_test.go, and the
 * StateDir key files: create with 0600, reload the same key, refuse group/other-readable files.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include <sodium.h>
#include "hskey.h"
#include "t.h"

static const char priv_hex[] = "40ab1b58e9076c7a4d9d07291f5edf9d1aa017eb949624ba683317f48a640369";
static const char pub_hex[] = "50d20b455ecf12bc453f83c2cfdb2a24925d06cf2598dcaa54e91af82ce9f765";

static void test_vectors(void)
{
	static const char *prefixes[] = { "nodekey:", "mkey:", "discokey:" };
	uint8_t priv[32], pub[32], back[32];
	char text[HSKEY_TEXT_MAX], want[HSKEY_TEXT_MAX];
	size_t i;

	CHECK(hskey_parse(priv, "privkey:", "privkey:40ab1b58e9076c7a4d9d07291f5edf9d1aa017eb949624ba683317f48a640369") == 0);
	hskey_public(pub, priv);
	for (i = 0; i < 3; i++) {
		hskey_format(text, prefixes[i], pub);
		snprintf(want, sizeof(want), "%s%s", prefixes[i], pub_hex);
		CHECK(!strcmp(text, want));
		CHECK(hskey_parse(back, prefixes[i], text) == 0);
		CHECK_MEM(back, pub, 32);
	}
	hskey_format(text, "privkey:", priv);
	CHECK(!strcmp(text + 8, priv_hex));
	/* Upper-case hex parses; wrong prefix, short, long, non-hex and "" do not. */
	CHECK(hskey_parse(back, "nodekey:", "nodekey:50D20B455ECF12BC453F83C2CFDB2A24925D06CF2598DCAA54E91AF82CE9F765") == 0);
	CHECK_MEM(back, pub, 32);
	CHECK(hskey_parse(back, "nodekey:", "mkey:50d20b455ecf12bc453f83c2cfdb2a24925d06cf2598dcaa54e91af82ce9f765") == -EINVAL);
	CHECK(hskey_is_zero(back));
	CHECK(hskey_parse(back, "nodekey:", "nodekey:50d20b") == -EINVAL);
	CHECK(hskey_parse(back, "nodekey:", "nodekey:50d20b455ecf12bc453f83c2cfdb2a24925d06cf2598dcaa54e91af82ce9f76500") == -EINVAL);
	CHECK(hskey_parse(back, "nodekey:", "nodekey:50d20b455ecf12bc453f83c2cfdb2a24925d06cf2598dcaa54e91af82ce9f76g") == -EINVAL);
	CHECK(hskey_parse(back, "nodekey:", "") == -EINVAL);
	memset(back, 0, 32);
	hskey_format(text, "nodekey:", back);
	CHECK(!strcmp(text, "nodekey:0000000000000000000000000000000000000000000000000000000000000000"));
	/* A generated key is clamped. */
	hskey_generate(priv);
	CHECK((priv[0] & 7) == 0 && (priv[31] & 0xc0) == 0x40);
}

static void test_files(void)
{
	char dir[] = "/tmp/hskey-XXXXXX", path[256], err[512];
	uint8_t k1[32], k2[32];
	struct stat st;

	CHECK(mkdtemp(dir) != NULL);
	snprintf(path, sizeof(path), "%s/state", dir);
	/* The state dir itself is created if missing. */
	CHECK(hskey_load_or_create(k1, path, "node.key", err, sizeof(err)) == 0);
	snprintf(path, sizeof(path), "%s/state/node.key", dir);
	CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600);
	snprintf(path, sizeof(path), "%s/state", dir);
	CHECK(hskey_load_or_create(k2, path, "node.key", err, sizeof(err)) == 0);
	CHECK_MEM(k1, k2, 32);
	CHECK(!hskey_is_zero(k1));
	/* Rotation replaces the file atomically and keeps the mode. */
	hskey_generate(k2);
	CHECK(hskey_store(k2, path, "node.key") == 0);
	CHECK(hskey_load_or_create(k1, path, "node.key", err, sizeof(err)) == 0);
	CHECK_MEM(k1, k2, 32);
	snprintf(path, sizeof(path), "%s/state/node.key", dir);
	CHECK(chmod(path, 0644) == 0);
	snprintf(path, sizeof(path), "%s/state", dir);
	CHECK(hskey_load_or_create(k1, path, "node.key", err, sizeof(err)) == -EPERM);
	CHECK(strstr(err, "node.key") != NULL);
	/* Garbage is refused, not replaced. */
	snprintf(path, sizeof(path), "%s/state/bad.key", dir);
	{
		int fd = open(path, O_WRONLY | O_CREAT, 0600);

		CHECK(fd >= 0 && write(fd, "privkey:zz\n", 11) == 11);
		close(fd);
	}
	snprintf(path, sizeof(path), "%s/state", dir);
	CHECK(hskey_load_or_create(k1, path, "bad.key", err, sizeof(err)) == -EINVAL);
	snprintf(path, sizeof(path), "rm -rf %s", dir);
	CHECK(system(path) == 0);
}

int main(void)
{
	if (sodium_init() < 0)
		return 1;
	test_vectors();
	test_files();
	return t_done("test_hskey");
}
