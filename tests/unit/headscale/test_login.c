// SPDX-License-Identifier: GPL-2.0-only
/*
 * test_login.c - StateDir/registered (a node key is registered with one control server) and the
 * pre-auth key read from AuthKeyFile at login time: store / match / forget, a different key or
 * server does not match, a junk or truncated file does not, the file is 0600; the key's first
 * word is taken, an empty file gives "", a missing one -ENOENT.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include "hslogin.h"
#include "t.h"

static char dir[] = "/tmp/mg-test-login-XXXXXX";

static void put(const char *name, const char *text)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	CHECK(f != NULL);
	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

static void test_registered(void)
{
	uint8_t a[32], b[32];
	char path[256];
	struct stat st;

	memset(a, 0xa1, 32);
	memset(b, 0xb2, 32);
	CHECK(!hs_login_is_registered(dir, "https://hs.example", a));           /* 1: nothing yet */
	CHECK(hs_login_store(dir, "https://hs.example", a) == 0);
	CHECK(hs_login_is_registered(dir, "https://hs.example", a));            /* 2: stored */
	CHECK(!hs_login_is_registered(dir, "https://hs.example", b));           /* 3: another node key */
	CHECK(!hs_login_is_registered(dir, "https://other.example", a));        /* 4: another server */
	CHECK(!hs_login_is_registered(dir, "https://hs.exampl", a));            /* 5: a prefix is not it */
	snprintf(path, sizeof(path), "%s/%s", dir, HS_LOGIN_FILE);
	CHECK(!stat(path, &st) && (st.st_mode & 0777) == 0600);                  /* 6: private */
	CHECK(hs_login_store(dir, "https://hs.example", b) == 0);
	CHECK(hs_login_is_registered(dir, "https://hs.example", b) &&           /* 7: replaced */
	      !hs_login_is_registered(dir, "https://hs.example", a));
	CHECK(hs_login_forget(dir) == 0 && !hs_login_is_registered(dir, "https://hs.example", b));
	CHECK(hs_login_forget(dir) == 0);                                        /* 8: forgetting twice */
	put(HS_LOGIN_FILE, "nodekey:b2b2\nhttps://hs.example\n");                /* 9: truncated key */
	CHECK(!hs_login_is_registered(dir, "https://hs.example", b));
	CHECK(!hs_login_is_registered("", "https://hs.example", b));            /* 10: no StateDir */
	CHECK(hs_login_store("", "https://hs.example", b) == 0 && hs_login_forget("") == 0);
	CHECK(hs_login_store("/nonexistent/mg", "https://hs.example", b) == -ENOENT);
}

static void test_authkey(void)
{
	char key[64], path[256];

	put("k1", "  hskey-auth-abc \r\n# junk\n");
	snprintf(path, sizeof(path), "%s/k1", dir);
	CHECK(hs_login_read_authkey(path, key, sizeof(key)) == 0 && !strcmp(key, "hskey-auth-abc"));
	put("k2", "");
	snprintf(path, sizeof(path), "%s/k2", dir);
	CHECK(hs_login_read_authkey(path, key, sizeof(key)) == 0 && !strcmp(key, ""));
	put("k3", "\n\n");
	snprintf(path, sizeof(path), "%s/k3", dir);
	CHECK(hs_login_read_authkey(path, key, sizeof(key)) == 0 && !strcmp(key, ""));
	snprintf(path, sizeof(path), "%s/missing", dir);
	strcpy(key, "stale");
	CHECK(hs_login_read_authkey(path, key, sizeof(key)) == -ENOENT && !strcmp(key, ""));
}

int main(void)
{
	char cmd[300];

	CHECK(mkdtemp(dir) != NULL);
	test_registered();
	test_authkey();
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	CHECK(system(cmd) == 0);
	return t_done("test_login");
}
