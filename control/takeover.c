// SPDX-License-Identifier: GPL-2.0-only
/*
 * takeover.c - the NIC's IP configuration on the exception TAP while Backend = dpdk runs, the
 * state file that survives a crash, and the restore (takeover.h).
 *
 * The state file is JSON, one moved item a line, each with its description (for people and the
 * logs) and its rtnetlink request as hex (for the restore):
 *   {
 *     "version": 1,
 *     "pid": 1234,
 *     "boot_id": "6b0d...",
 *     "nic": "eth0",
 *     "tap": "meshgate0-lan",
 *     "moved": [
 *       {"what": "inet 192.168.8.105/24", "netlink": "4c000000140000..."},
 *       ...
 *     ]
 *   }
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <linux/rtnetlink.h>
#include <libmnl/libmnl.h>

#include "takeover.h"
#include "atomicfile.h"
#include "netlink/nlsock.h"

#define VERSION 1

static void boot_id(char *out, size_t len)
{
	FILE *f = fopen("/proc/sys/kernel/random/boot_id", "re");

	out[0] = 0;
	if (f) {
		if (fgets(out, (int)len, f))
			out[strcspn(out, "\n")] = 0;
		fclose(f);
	}
}

/* ---- the file's text --------------------------------------------------------------------------- */

static bool json_safe(const char *s)
{
	return !strpbrk(s, "\"\\\n");
}

int takeover_format(const struct takeover *t, int pid, const char *boot, char **out)
{
	size_t cap = 512 + t->moved.n * (160 + 2 * sizeof(t->moved.v[0].msg)), off;
	char *b = malloc(cap);

	if (!b)
		return -ENOMEM;
	if (!json_safe(t->nic) || !json_safe(t->tap) || !json_safe(boot)) {
		free(b);
		return -EINVAL;
	}
	off = (size_t)snprintf(b, cap, "{\n  \"version\": %d,\n  \"pid\": %d,\n  \"boot_id\": \"%s\",\n"
			       "  \"nic\": \"%s\",\n  \"tap\": \"%s\",\n  \"moved\": [\n",
			       VERSION, pid, boot, t->nic, t->tap);
	for (size_t i = 0; i < t->moved.n; i++) {
		const struct nlmove_item *it = &t->moved.v[i];
		char what[160];

		nlmove_describe(it, what, sizeof(what));
		off += (size_t)snprintf(b + off, cap - off, "    {\"what\": \"%s\", \"netlink\": \"", what);
		for (unsigned k = 0; k < it->len; k++)
			off += (size_t)snprintf(b + off, cap - off, "%02x", it->msg[k]);
		off += (size_t)snprintf(b + off, cap - off, "\"}%s\n", i + 1 < t->moved.n ? "," : "");
	}
	snprintf(b + off, cap - off, "  ]\n}\n");
	*out = b;
	return 0;
}

/* The string value of "key" on this line, into out; false if the line has none. */
static bool str_field(const char *line, const char *key, char *out, size_t len)
{
	char pat[32];
	const char *p, *e;

	snprintf(pat, sizeof(pat), "\"%s\": \"", key);
	p = strstr(line, pat);
	if (!p)
		return false;
	p += strlen(pat);
	e = strchr(p, '"');
	if (!e || (size_t)(e - p) >= len)
		return false;
	memcpy(out, p, (size_t)(e - p));
	out[e - p] = 0;
	return true;
}

static int hex_item(struct takeover *t, const char *hex)
{
	uint8_t msg[sizeof(t->moved.v[0].msg)];
	size_t n = strlen(hex) / 2;

	if (strlen(hex) % 2 || n > sizeof(msg))
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		unsigned v;

		if (sscanf(hex + 2 * i, "%2x", &v) != 1)
			return -EINVAL;
		msg[i] = (uint8_t)v;
	}
	return nlmove_add(&t->moved, msg, n);
}

int takeover_parse(struct takeover *t, const char *text, int *pid, char *boot, size_t boot_len)
{
	char line[4096], hex[2 * sizeof(t->moved.v[0].msg) + 1];
	int version = 0, ret;

	*pid = 0;
	boot[0] = 0;
	t->nic[0] = t->tap[0] = 0;
	t->moved.n = 0;
	for (const char *p = text; *p;) {
		size_t n = strcspn(p, "\n");

		if (n >= sizeof(line))
			return -EINVAL;
		memcpy(line, p, n);
		line[n] = 0;
		p += n + (p[n] == '\n');
		if (sscanf(line, " \"version\": %d", &version) == 1 || sscanf(line, " \"pid\": %d", pid) == 1)
			continue;
		if (str_field(line, "boot_id", boot, boot_len) || str_field(line, "nic", t->nic, sizeof(t->nic)) ||
		    str_field(line, "tap", t->tap, sizeof(t->tap)))
			continue;
		if (str_field(line, "netlink", hex, sizeof(hex)) && (ret = hex_item(t, hex)))
			return ret;
	}
	return version == VERSION && t->nic[0] && t->tap[0] ? 0 : -EINVAL;
}

/* ---- the file ------------------------------------------------------------------------------------ */

static char *read_all(const char *path, int *err)
{
	FILE *f = fopen(path, "re");
	char *b = NULL;
	size_t cap = 0, n = 0, got;

	if (!f) {
		*err = -errno;
		return NULL;
	}
	do {
		if (cap - n < 4096) {
			char *nb = realloc(b, cap += 65536);

			if (!nb) {
				free(b);
				fclose(f);
				*err = -ENOMEM;
				return NULL;
			}
			b = nb;
		}
		got = fread(b + n, 1, cap - n - 1, f);
		n += got;
	} while (got);
	fclose(f);
	b[n] = 0;
	*err = 0;
	return b;
}

/* "3 addresses, 5 routes, 2 neighbours" */
static void counts(const struct nlmove *m, char *out, size_t len)
{
	unsigned c[3] = { 0 };

	for (size_t i = 0; i < m->n; i++)
		c[m->v[i].kind]++;
	snprintf(out, len, "%u address%s, %u route%s, %u neighbour%s", c[NLMOVE_ADDR], c[NLMOVE_ADDR] == 1 ? "" : "es",
		 c[NLMOVE_ROUTE], c[NLMOVE_ROUTE] == 1 ? "" : "s", c[NLMOVE_NEIGH], c[NLMOVE_NEIGH] == 1 ? "" : "s");
}

/* Every item's description, "; "-separated. */
static void list(const struct nlmove *m, char *out, size_t len)
{
	size_t off = 0;

	out[0] = 0;
	for (size_t i = 0; i < m->n && off < len; i++) {
		char d[160];

		nlmove_describe(&m->v[i], d, sizeof(d));
		off += (size_t)snprintf(out + off, len - off, "%s%s", i ? "; " : "", d);
	}
}

static bool meshgate_alive(int pid)
{
	char path[64], comm[32] = "";
	FILE *f;

	if (pid <= 0 || pid == getpid())
		return false;
	snprintf(path, sizeof(path), "/proc/%d/comm", pid);
	f = fopen(path, "re");
	if (!f)
		return false;
	if (!fgets(comm, sizeof(comm), f))
		comm[0] = 0;
	fclose(f);
	return !strncmp(comm, "meshgate", 8);
}

int takeover_recover(const char *state_dir)
{
	struct takeover t = { 0 };
	char boot[64], now[64], *text, all[4096], what[128];
	int pid, err, nic, ret;

	snprintf(t.path, sizeof(t.path), "%s/%s", state_dir, TAKEOVER_FILE);
	text = read_all(t.path, &err);
	if (!text)
		return err == -ENOENT ? 0 : (fprintf(stderr, "meshgate: %s: %s\n", t.path, strerror(-err)), err);
	err = takeover_parse(&t, text, &pid, boot, sizeof(boot));
	free(text);
	if (err) {
		fprintf(stderr, "meshgate: %s: not a takeover state file this meshgate can read (%s); remove it "
			"once the NIC's configuration is checked\n", t.path, strerror(-err));
		nlmove_free(&t.moved);
		return err;
	}
	boot_id(now, sizeof(now));
	if (strcmp(boot, now)) {
		fprintf(stderr, "meshgate: %s is from an earlier boot: the system configured %s itself, nothing "
			"to restore\n", t.path, t.nic);
		unlink(t.path);
		nlmove_free(&t.moved);
		return 0;
	}
	if (meshgate_alive(pid)) {
		fprintf(stderr, "meshgate: %s's configuration is on %s, held by meshgate pid %d, which still runs\n",
			t.nic, t.tap, pid);
		nlmove_free(&t.moved);
		return -EBUSY;
	}
	nic = (int)if_nametoindex(t.nic);
	if (!nic) {
		fprintf(stderr, "meshgate: cannot restore %s (no such interface now); %s keeps what it had\n",
			t.nic, t.path);
		nlmove_free(&t.moved);
		return 0;
	}
	ret = nlmove_apply(&t.moved, (int)if_nametoindex(t.tap), nic);
	counts(&t.moved, what, sizeof(what));
	list(&t.moved, all, sizeof(all));
	fprintf(stderr, "meshgate: restored to %s what meshgate pid %d moved to %s and could not give back "
		"(it did not exit cleanly): %s%s: %s\n", t.nic, pid, t.tap, what,
		ret > 0 ? " (some failed, see above)" : "", all);
	if (ret == 0)
		unlink(t.path);          /* else kept: the next start tries the rest again */
	nlmove_free(&t.moved);
	return 0;
}

/* The TAP: the NIC's MTU, link up (so routes through it can be added now). */
static int tap_prepare(int tap, const char *nic)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct ifreq ifr = { 0 };
	struct ifinfomsg *ifi;
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", nic);
	if (s < 0 || ioctl(s, SIOCGIFMTU, &ifr))
		ifr.ifr_mtu = 0;
	if (s >= 0)
		close(s);
	nlh->nlmsg_type = RTM_NEWLINK;
	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = tap;
	ifi->ifi_flags = IFF_UP;
	ifi->ifi_change = IFF_UP;
	if (ifr.ifr_mtu > 0)
		mnl_attr_put_u32(nlh, IFLA_MTU, (uint32_t)ifr.ifr_mtu);
	return nlsock_request_once(nlh);
}

int takeover_start(struct takeover *t, const char *state_dir, const char *nic, const char *tap)
{
	int nic_idx = (int)if_nametoindex(nic), tap_idx = (int)if_nametoindex(tap), ret;
	char boot[64], *text, what[128];

	memset(t, 0, sizeof(*t));
	if (!nic_idx) {
		fprintf(stderr, "meshgate: %s: no kernel interface to take an IP configuration from; configure %s "
			"yourself\n", nic, tap);
		return 0;
	}
	if (!tap_idx) {
		fprintf(stderr, "meshgate: the exception TAP %s has no kernel interface\n", tap);
		return -ENODEV;
	}
	snprintf(t->nic, sizeof(t->nic), "%s", nic);
	snprintf(t->tap, sizeof(t->tap), "%s", tap);
	snprintf(t->path, sizeof(t->path), "%s/%s", state_dir, TAKEOVER_FILE);
	ret = nlmove_capture(&t->moved, nic_idx);
	if (ret) {
		fprintf(stderr, "meshgate: reading %s's addresses, routes and neighbours: %s\n", nic, strerror(-ret));
		nlmove_free(&t->moved);
		return ret;
	}
	if (!t->moved.n) {
		fprintf(stderr, "meshgate: %s has no addresses, routes or neighbours to move to %s\n", nic, tap);
		return 0;
	}
	boot_id(boot, sizeof(boot));
	if (mkdir(state_dir, 0700) && errno != EEXIST)
		ret = -errno;
	if (!ret)
		ret = takeover_format(t, getpid(), boot, &text);
	if (!ret) {
		ret = atomicfile_write(t->path, text, strlen(text), 0600);
		free(text);
	}
	if (ret) {
		fprintf(stderr, "meshgate: writing %s (what moves from %s to %s, for a restore after a crash): %s\n",
			t->path, nic, tap, strerror(-ret));
		nlmove_free(&t->moved);
		return ret;
	}
	t->active = true;
	ret = tap_prepare(tap_idx, nic);
	if (ret)
		fprintf(stderr, "meshgate: %s: MTU and link up: %s\n", tap, strerror(-ret));
	ret = nlmove_apply(&t->moved, nic_idx, tap_idx);
	counts(&t->moved, what, sizeof(what));
	fprintf(stderr, "meshgate: moved %s's %s to %s (given back at exit; recorded in %s)%s\n", nic, what, tap,
		t->path, ret > 0 ? "; some failed, see above" : "");
	return ret < 0 ? ret : 0;
}

void takeover_finish(struct takeover *t)
{
	int nic, ret;
	char what[128];

	if (!t->active)
		return;
	t->active = false;
	nic = (int)if_nametoindex(t->nic);
	if (!nic) {
		fprintf(stderr, "meshgate: %s is gone: its configuration stays recorded in %s\n", t->nic, t->path);
		nlmove_free(&t->moved);
		return;
	}
	ret = nlmove_apply(&t->moved, (int)if_nametoindex(t->tap), nic);
	counts(&t->moved, what, sizeof(what));
	fprintf(stderr, "meshgate: gave %s back its %s%s\n", t->nic, what, ret ? " (some failed, see above)" : "");
	if (ret == 0 && unlink(t->path))
		fprintf(stderr, "meshgate: removing %s: %s (the next start restores %s again, harmlessly)\n", t->path,
			strerror(errno), t->nic);
	nlmove_free(&t->moved);
}
