// SPDX-License-Identifier: GPL-2.0-only
/*
 * test_uapi_wg.c - the UAPI socket end to end, with Debian's stock /usr/bin/wg as the client.
 *
 *   main thread: runs `wg ...`, checks its output      loop thread: epoll -> uapi.c -> fake_ops
 *        |                                                   |
 *        +--- /var/run/wireguard/mgtest<pid>.sock -----------+--> struct fake_dev (in memory)
 *
 * The fake device applies an mg_device_update the way wireguard-go's IpcSet does, so what
 * `wg show dump` / `wg showconf` print is what the parser understood. Also drives the socket by
 * hand: several operations per connection, one byte at a time, bad framing. Skips (77) unless
 * root with /usr/bin/wg.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <pthread.h>
#include <sodium.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "check.h"
#include "evsource.h"
#include "mg.h"
#include "uapi.h"
#include "keyfmt.h"

#define MAX_PEERS 16
#define MAX_IPS 64

struct fake_peer {
	uint8_t pub[32], psk[32];
	struct mg_endpoint ep;
	uint16_t keepalive;
	uint64_t rx, tx, hs_sec;
	size_t n_ips;
	struct mg_ipprefix ips[MAX_IPS];
};

struct fake_dev {
	pthread_mutex_t mu;
	bool has_priv;
	uint8_t priv[32];
	uint16_t port;
	uint32_t fwmark;
	size_t n;
	struct fake_peer peers[MAX_PEERS];
	unsigned int sets, gets;
};

static struct fake_dev dev = { .mu = PTHREAD_MUTEX_INITIALIZER };
static _Atomic bool with_names;   /* get replies carry meshgate_name / meshgate_address */
static const char *const peer_names[] = { "lap.tail.example.", "phone.tail.example." };
static char ifname[16], sock_path[64], tmpdir[64];

static struct fake_peer *find(const uint8_t pub[32])
{
	size_t i;

	for (i = 0; i < dev.n; i++)
		if (!memcmp(dev.peers[i].pub, pub, 32))
			return &dev.peers[i];
	return NULL;
}

/* The device keeps prefixes masked, like the kernel's and wireguard-go's tables. */
static void mask(struct mg_ipprefix *p)
{
	int bits = p->cidr, i;

	for (i = 0; i < 16; i++, bits -= 8)
		p->addr[i] &= bits >= 8 ? 0xff : bits <= 0 ? 0 : (uint8_t)(0xff << (8 - bits));
}

static void apply_ip(struct fake_peer *fp, const struct mg_allowed_ip *a)
{
	struct mg_ipprefix ip = a->p;
	bool remove = a->remove;
	size_t i;

	mask(&ip);
	for (i = 0; i < fp->n_ips; i++)
		if (!memcmp(&fp->ips[i], &ip, sizeof(ip)))
			break;
	if (remove && i < fp->n_ips)
		fp->ips[i] = fp->ips[--fp->n_ips];
	else if (!remove && i == fp->n_ips && fp->n_ips < MAX_IPS)
		fp->ips[fp->n_ips++] = ip;
}

static void apply_peer(const struct mg_peer_conf *p)
{
	struct fake_peer *fp = find(p->public_key);
	size_t i;

	if (p->remove) {
		if (fp)
			*fp = dev.peers[--dev.n];
		return;
	}
	if (!fp) {
		if (p->update_only || dev.n == MAX_PEERS)
			return;
		fp = &dev.peers[dev.n++];
		memset(fp, 0, sizeof(*fp));
		memcpy(fp->pub, p->public_key, 32);
		fp->rx = 1000 + dev.n;   /* visible, recognisable counters */
		fp->tx = 2000 + dev.n;
	}
	if (p->has_preshared_key)
		memcpy(fp->psk, p->preshared_key, 32);
	if (p->has_endpoint)
		fp->ep = p->endpoint;
	if (p->persistent_keepalive >= 0)
		fp->keepalive = (uint16_t)p->persistent_keepalive;
	if (p->replace_allowed_ips)
		fp->n_ips = 0;
	for (i = 0; i < p->n_allowed_ips; i++)
		apply_ip(fp, &p->allowed_ips[i]);
}

static int fake_set(void *ctx, const struct mg_device_update *u)
{
	size_t i;

	(void)ctx;
	/* Port 1 stands for "bind failed": rejected before anything changes (one update). */
	if (u->listen_port == 1)
		return -EADDRINUSE;
	pthread_mutex_lock(&dev.mu);
	dev.sets++;
	if (u->has_private_key) {
		memcpy(dev.priv, u->private_key, 32);
		dev.has_priv = !keyfmt_is_zero(u->private_key);
	}
	if (u->listen_port >= 0)
		dev.port = (uint16_t)u->listen_port;
	if (u->fwmark >= 0)
		dev.fwmark = (uint32_t)u->fwmark;
	if (u->replace_peers)
		dev.n = 0;
	for (i = 0; i < u->n_peers; i++)
		apply_peer(&u->peers[i]);
	pthread_mutex_unlock(&dev.mu);
	return 0;
}

static int fake_get(void *ctx, struct uapi_device_view *v)
{
	size_t i;

	(void)ctx;
	pthread_mutex_lock(&dev.mu);
	dev.gets++;
	v->has_private_key = dev.has_priv;
	memcpy(v->private_key, dev.priv, 32);
	v->listen_port = dev.port;
	v->fwmark = dev.fwmark;
	v->name = with_names ? "router.tail.example." : NULL;
	v->n_peers = dev.n;
	v->peers = calloc(dev.n ? dev.n : 1, sizeof(*v->peers));
	for (i = 0; v->peers && i < dev.n; i++) {
		struct uapi_peer_view *pv = &v->peers[i];
		const struct fake_peer *fp = &dev.peers[i];

		memcpy(pv->public_key, fp->pub, 32);
		memcpy(pv->preshared_key, fp->psk, 32);
		pv->endpoint = fp->ep;
		pv->last_handshake_sec = fp->hs_sec;
		pv->rx_bytes = fp->rx;
		pv->tx_bytes = fp->tx;
		pv->persistent_keepalive = fp->keepalive;
		pv->n_allowed_ips = fp->n_ips;
		if (with_names) {
			pv->name = peer_names[i % ARRAY_SIZE(peer_names)];
			pv->n_addresses = fp->n_ips ? 1 : 0;
			pv->addresses = fp->ips;
		}
		pv->allowed_ips = malloc((fp->n_ips ? fp->n_ips : 1) * sizeof(*pv->allowed_ips));
		if (pv->allowed_ips)
			memcpy(pv->allowed_ips, fp->ips, fp->n_ips * sizeof(*pv->allowed_ips));
		else
			pv->n_allowed_ips = 0;
	}
	pthread_mutex_unlock(&dev.mu);
	return v->peers ? 0 : -ENOMEM;
}

static void fake_get_release(void *ctx, struct uapi_device_view *v)
{
	size_t i;

	(void)ctx;
	for (i = 0; i < v->n_peers; i++)
		free(v->peers[i].allowed_ips);
	free(v->peers);
}

static const struct uapi_ops fake_ops = { .get = fake_get, .get_release = fake_get_release, .set = fake_set };

/* ---- the control loop, in its own thread ---- */

struct loop {
	int epfd, stopfd;
	struct evsource stop;
	bool done;
};

static void stop_cb(struct evsource *src, uint32_t events)
{
	struct loop *l = container_of(src, struct loop, stop);

	(void)events;
	l->done = true;
}

static void *loop_main(void *arg)
{
	struct loop *l = arg;
	struct epoll_event ev[16];
	int n, i;

	while (!l->done) {
		n = epoll_wait(l->epfd, ev, 16, -1);
		for (i = 0; i < n; i++) {
			struct evsource *src = ev[i].data.ptr;

			src->cb(src, ev[i].events);
		}
	}
	return NULL;
}

/* ---- running wg ---- */

static int run(char *out, size_t cap, const char *fmt, ...)
{
	char cmd[1024];
	va_list ap;
	size_t n = 0;
	FILE *p;
	int st;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	strncat(cmd, " 2>&1", sizeof(cmd) - strlen(cmd) - 1);
	p = popen(cmd, "r");
	if (!p)
		return -1;
	if (cap) {
		n = fread(out, 1, cap - 1, p);
		out[n] = '\0';
	} else {
		while (fgetc(p) != EOF)
			;
	}
	st = pclose(p);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

static char *b64(const uint8_t k[32])
{
	static char buf[8][45];
	static int i;

	keyfmt_base64_encode(buf[i & 7], k);
	return buf[i++ & 7];
}

/* Keys: the device's own (private + derived public), peers A/B/C, one preshared key. */
static uint8_t priv[32], pub[32], ka[32], kb[32], kc[32], psk[32];

static void make_keys(void)
{
	randombytes_buf(priv, 32);
	crypto_scalarmult_base(pub, priv);
	randombytes_buf(ka, 32);
	randombytes_buf(kb, 32);
	randombytes_buf(kc, 32);
	randombytes_buf(psk, 32);
}

static void test_setconf_and_show(void)
{
	char path[128], conf[2048], out[8192], want[4096];

	snprintf(path, sizeof(path), "%s/set.conf", tmpdir);
	snprintf(conf, sizeof(conf),
		 "[Interface]\nPrivateKey = %s\nListenPort = 51820\nFwMark = 0x42\n\n"
		 "[Peer]\nPublicKey = %s\nPresharedKey = %s\nEndpoint = [2001:db8::1]:41641\n"
		 "AllowedIPs = 10.1.0.0/16, fd00:1::/64\nPersistentKeepalive = 25\n\n"
		 "[Peer]\nPublicKey = %s\nEndpoint = 198.51.100.2:51820\nAllowedIPs = 10.2.0.7/32\n",
		 b64(priv), b64(ka), b64(psk), b64(kb));
	write_file(path, conf);
	CHECK_INT(run(out, sizeof(out), "wg setconf %s %s", ifname, path), 0);
	CHECK_STR(out, "");
	pthread_mutex_lock(&dev.mu);
	CHECK_INT(dev.n, 2);
	CHECK_INT(dev.port, 51820);
	CHECK_INT(dev.fwmark, 0x42);
	CHECK(dev.has_priv && !memcmp(dev.priv, priv, 32));
	dev.peers[0].hs_sec = 1700000000;
	pthread_mutex_unlock(&dev.mu);

	/* dump: device line, then one line per peer in daemon order, tab-separated. */
	CHECK_INT(run(out, sizeof(out), "wg show %s dump", ifname), 0);
	snprintf(want, sizeof(want),
		 "%s\t%s\t51820\t0x42\n"
		 "%s\t%s\t[2001:db8::1]:41641\t10.1.0.0/16,fd00:1::/64\t1700000000\t1001\t2001\t25\n"
		 "%s\t(none)\t198.51.100.2:51820\t10.2.0.7/32\t0\t1002\t2002\toff\n",
		 b64(priv), b64(pub), b64(ka), b64(psk), b64(kb));
	CHECK_STR(out, want);
	CHECK_INT(run(out, sizeof(out), "wg show %s public-key", ifname), 0);
	snprintf(want, sizeof(want), "%s\n", b64(pub));
	CHECK_STR(out, want);
	CHECK_INT(run(out, sizeof(out), "wg show interfaces"), 0);
	CHECK(strstr(out, ifname) != NULL);
	/* Pretty output exercises the same parse; just make sure it names the peer. */
	CHECK_INT(run(out, sizeof(out), "wg show %s", ifname), 0);
	CHECK(strstr(out, b64(ka)) != NULL && strstr(out, "listening port: 51820") != NULL);
}

static void test_set(void)
{
	char out[8192], want[4096], pskpath[128];

	/* Change one peer: replace its allowed IPs, endpoint, keepalive off, PSK cleared. */
	snprintf(pskpath, sizeof(pskpath), "%s/psk", tmpdir);
	write_file(pskpath, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n");
	CHECK_INT(run(out, sizeof(out), "wg set %s peer %s allowed-ips 10.9.0.0/24,10.9.1.1 endpoint 1.2.3.4:5 "
		      "persistent-keepalive 0 preshared-key %s", ifname, b64(ka), pskpath), 0);
	CHECK_STR(out, "");
	CHECK_INT(run(out, sizeof(out), "wg show %s allowed-ips", ifname), 0);
	snprintf(want, sizeof(want), "%s\t10.9.0.0/24 10.9.1.1/32\n%s\t10.2.0.7/32\n", b64(ka), b64(kb));
	CHECK_STR(out, want);
	CHECK_INT(run(out, sizeof(out), "wg show %s endpoints", ifname), 0);
	snprintf(want, sizeof(want), "%s\t1.2.3.4:5\n%s\t198.51.100.2:51820\n", b64(ka), b64(kb));
	CHECK_STR(out, want);
	CHECK_INT(run(out, sizeof(out), "wg show %s preshared-keys", ifname), 0);
	snprintf(want, sizeof(want), "%s\t(none)\n%s\t(none)\n", b64(ka), b64(kb));
	CHECK_STR(out, want);
	/* New peer C, then remove B; device keys. */
	CHECK_INT(run(out, sizeof(out), "wg set %s listen-port 4242 fwmark off peer %s allowed-ips ::/0", ifname, b64(kc)), 0);
	CHECK_INT(run(out, sizeof(out), "wg set %s peer %s remove", ifname, b64(kb)), 0);
	CHECK_INT(run(out, sizeof(out), "wg show %s dump", ifname), 0);
	snprintf(want, sizeof(want),
		 "%s\t%s\t4242\toff\n"
		 "%s\t(none)\t1.2.3.4:5\t10.9.0.0/24,10.9.1.1/32\t1700000000\t1001\t2001\toff\n"
		 "%s\t(none)\t(none)\t::/0\t0\t1003\t2003\toff\n",
		 b64(priv), b64(pub), b64(ka), b64(kc));
	CHECK_STR(out, want);
	/* A set the device refuses: wg reports the errno text and exits non-zero. */
	CHECK(run(out, sizeof(out), "wg set %s listen-port 1", ifname) != 0);
	CHECK(strstr(out, "Address already in use") != NULL);
	if (!strstr(out, "Address already in use"))
		fprintf(stderr, "wg said: %s\n", out);
}

static void test_syncconf_showconf(void)
{
	char path[128], conf[2048], out[8192], want[4096];

	/* The file keeps A (changed), drops C, adds B back: syncconf = get, then a diffing set. */
	snprintf(path, sizeof(path), "%s/sync.conf", tmpdir);
	snprintf(conf, sizeof(conf),
		 "[Interface]\nPrivateKey = %s\nListenPort = 4242\n\n"
		 "[Peer]\nPublicKey = %s\nAllowedIPs = 10.1.0.0/16\n\n"
		 "[Peer]\nPublicKey = %s\nPresharedKey = %s\nAllowedIPs = 192.168.0.0/16\nPersistentKeepalive = 5\n",
		 b64(priv), b64(ka), b64(kb), b64(psk));
	write_file(path, conf);
	CHECK_INT(run(out, sizeof(out), "wg syncconf %s %s", ifname, path), 0);
	CHECK_STR(out, "");
	CHECK_INT(run(out, sizeof(out), "wg showconf %s", ifname), 0);
	snprintf(want, sizeof(want),
		 "[Interface]\nListenPort = 4242\nPrivateKey = %s\n\n"
		 "[Peer]\nPublicKey = %s\nAllowedIPs = 10.1.0.0/16\nEndpoint = 1.2.3.4:5\n\n"
		 "[Peer]\nPublicKey = %s\nPresharedKey = %s\nAllowedIPs = 192.168.0.0/16\nPersistentKeepalive = 5\n",
		 b64(priv), b64(ka), b64(kb), b64(psk));
	CHECK_STR(out, want);
}

/* ---- the socket by hand ---- */

static int connect_sock(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock_path);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Reads until @nblank "\n\n" terminators arrived or the server hung up (2 s at most). */
static size_t read_replies(int fd, char *buf, size_t cap, int nblank)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	size_t len = 0;
	ssize_t n;
	int seen = 0;
	char *p;

	buf[0] = '\0';
	while (seen < nblank && len + 1 < cap && poll(&pfd, 1, 2000) == 1) {
		n = read(fd, buf + len, cap - 1 - len);
		if (n <= 0)
			break;
		len += (size_t)n;
		buf[len] = '\0';
		for (seen = 0, p = buf; (p = strstr(p, "\n\n")); p += 2)
			seen++;
	}
	return len;
}

static bool hung_up(int fd)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	char c;

	return poll(&pfd, 1, 2000) == 1 && read(fd, &c, 1) == 0;
}

static void test_raw_framing(void)
{
	static const char ops[] = "set=1\nfwmark=7\n\nget=1\n\nset=1\nbogus=1\n\nset=1\nlisten_port=1\n\nset=1\n\n";
	char buf[16384], *p;
	size_t i;
	int fd;

	/* Five operations in one write: five replies, in order, on one connection. */
	fd = connect_sock();
	CHECK(fd >= 0);
	CHECK_INT(write(fd, ops, sizeof(ops) - 1), (long long)sizeof(ops) - 1);
	read_replies(fd, buf, sizeof(buf), 5);
	CHECK(!strncmp(buf, "errno=0\n\n", 9));
	p = strstr(buf + 9, "fwmark=7\n");
	CHECK(p != NULL);
	p = strstr(buf, "errno=0\n\nerrno=-22\n\nerrno=-98\n\nerrno=0\n\n");
	CHECK(p != NULL && strlen(p) == 40);
	close(fd);

	/* One byte at a time: the server waits for the blank line. */
	fd = connect_sock();
	for (i = 0; i < 7; i++) {
		CHECK_INT(write(fd, &"get=1\n\n"[i], 1), 1);
		usleep(2000);
	}
	read_replies(fd, buf, sizeof(buf), 1);
	CHECK(strstr(buf, "fwmark=7\n") != NULL && strstr(buf, "errno=0\n\n") != NULL);
	close(fd);

	/* Not an operation: hang up. "get=1" followed by anything but '\n': -EINVAL, hang up. */
	fd = connect_sock();
	CHECK_INT(write(fd, "hello\n\n", 7), 7);
	CHECK(hung_up(fd));
	close(fd);
	fd = connect_sock();
	CHECK_INT(write(fd, "get=1\nx\n", 8), 8);
	read_replies(fd, buf, sizeof(buf), 1);
	CHECK_STR(buf, "errno=-22\n\n");
	CHECK(hung_up(fd));
	close(fd);
	/* A client that half-closes after its request still gets the reply. */
	fd = connect_sock();
	CHECK_INT(write(fd, "get=1\n\n", 7), 7);
	shutdown(fd, SHUT_WR);
	read_replies(fd, buf, sizeof(buf), 1);
	CHECK(strstr(buf, "errno=0\n\n") != NULL);
	close(fd);
	/* Restore fwmark for the wg checks that follow. */
	fd = connect_sock();
	CHECK_INT(write(fd, "set=1\nfwmark=0\n\n", 16), 16);
	read_replies(fd, buf, sizeof(buf), 1);
	CHECK_STR(buf, "errno=0\n\n");
	close(fd);
}

/* meshgate's own get keys: stock wg prints exactly what it printed without them. */
static void test_names_ignored(void)
{
	char out[8192], plain[8192], conf[8192], buf[16384];
	int fd;

	CHECK_INT(run(plain, sizeof(plain), "wg show %s dump", ifname), 0);
	CHECK_INT(run(conf, sizeof(conf), "wg showconf %s", ifname), 0);
	with_names = true;
	fd = connect_sock();
	CHECK_INT(write(fd, "get=1\n\n", 7), 7);
	read_replies(fd, buf, sizeof(buf), 1);
	close(fd);
	/* the reply did carry them, so the comparison below means something */
	CHECK(strstr(buf, "\nmeshgate_name=router.tail.example.\npublic_key=") != NULL);
	CHECK(strstr(buf, "\nmeshgate_name=lap.tail.example.\nmeshgate_address=") != NULL);
	CHECK_INT(run(out, sizeof(out), "wg show %s dump", ifname), 0);
	CHECK_STR(out, plain);
	CHECK_INT(run(out, sizeof(out), "wg showconf %s", ifname), 0);
	CHECK_STR(out, conf);
	CHECK_INT(run(out, sizeof(out), "wg show %s", ifname), 0);
	CHECK(strstr(out, b64(ka)) != NULL && strstr(out, "meshgate") == NULL);
	with_names = false;
}

/* A reply far larger than the socket buffer, read slowly: flushed on EPOLLOUT, nothing lost. */
static void test_big_reply(void)
{
	static char buf[4 << 20];
	char *req, *p;
	size_t n = 0, len, i, count = 0;
	int fd;

	req = malloc(1 << 20);
	n += (size_t)sprintf(req + n, "set=1\npublic_key=%s\n", "0101010101010101010101010101010101010101010101010101010101010101");
	for (i = 0; i < MAX_IPS; i++)
		n += (size_t)sprintf(req + n, "allowed_ip=10.%zu.0.0/16\n", i);
	n += (size_t)sprintf(req + n, "\n");
	for (i = 0; i < 200; i++)       /* 200 gets queued back to back: ~900 KiB of replies */
		n += (size_t)sprintf(req + n, "get=1\n\n");
	fd = connect_sock();
	CHECK(write(fd, req, n) == (ssize_t)n);
	usleep(200000);                  /* let the server fill the socket and park on EPOLLOUT */
	len = read_replies(fd, buf, sizeof(buf), 201);
	for (p = buf; (p = strstr(p, "allowed_ip=10.63.0.0/16\n")); p++)
		count++;
	CHECK_INT(count, 200);
	CHECK(len > 0 && !strcmp(buf + len - 9, "errno=0\n\n"));
	close(fd);
	fd = connect_sock();
	n = (size_t)sprintf(req, "set=1\npublic_key=%s\nremove=true\n\n", "0101010101010101010101010101010101010101010101010101010101010101");
	CHECK(write(fd, req, n) == (ssize_t)n);
	read_replies(fd, buf, sizeof(buf), 1);
	CHECK_STR(buf, "errno=0\n\n");
	close(fd);
	free(req);
}

/* netns.sh's IPC scale case through the socket: 130,560 allowed_ip lines (~3.4 MB) in one set. */
static void test_big_request(void)
{
	static const char key[] = "0202020202020202020202020202020202020202020202020202020202020202";
	size_t cap = 8 << 20, n = 0, off = 0;
	char *req = malloc(cap), reply[256];
	ssize_t w;
	int fd, a, b;

	if (!req)
		return;
	n += (size_t)sprintf(req + n, "set=1\npublic_key=%s\n", key);
	for (a = 1; a <= 255; a++)
		for (b = 0; b < 256; b++)
			n += (size_t)sprintf(req + n, "allowed_ip=%d.%d.0.0/16\nallowed_ip=abcd:%x:%x::/48\n", a, b, a, b);
	n += (size_t)sprintf(req + n, "\nset=1\npublic_key=%s\nremove=true\n\n", key);
	fd = connect_sock();
	while (off < n && (w = write(fd, req + off, n - off)) > 0)
		off += (size_t)w;
	CHECK_INT(off, n);
	read_replies(fd, reply, sizeof(reply), 2);
	CHECK_STR(reply, "errno=0\n\nerrno=0\n\n");
	close(fd);
	free(req);
}

static void test_socket_file(struct loop *l)
{
	struct uapi *second = NULL;
	struct stat st;

	CHECK_INT(stat(sock_path, &st), 0);
	CHECK(S_ISSOCK(st.st_mode));
	CHECK_INT(st.st_mode & 0777, 0700);   /* srwx------ like wireguard-go (umask 0077) */
	/* A live socket is not taken over. */
	CHECK_INT(uapi_init(&second, ifname, l->epfd, &fake_ops, NULL), -EADDRINUSE);
	CHECK_INT(uapi_init(&second, "a/b", l->epfd, &fake_ops, NULL), -EINVAL);
	CHECK_INT(uapi_init(&second, "", l->epfd, &fake_ops, NULL), -EINVAL);
}

/* A stale socket (bound, nobody listening) is replaced. */
static void test_stale(int epfd)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char name[16];
	struct uapi *u = NULL;
	int fd;

	snprintf(name, sizeof(name), "mgst%d", (int)getpid() % 100000);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/%s.sock", UAPI_SOCKET_DIR, name);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	CHECK_INT(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	close(fd);
	CHECK_INT(uapi_init(&u, name, epfd, &fake_ops, NULL), 0);
	uapi_uninit(u);
	CHECK(access(sa.sun_path, F_OK) != 0);
}

static void cleanup(void)
{
	char cmd[128];

	unlink(sock_path);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
	/* Best effort; a (void) cast does not silence glibc's warn_unused_result under
	 * _FORTIFY_SOURCE (Debian's build flags). */
	if (tmpdir[0] && system(cmd))
		fprintf(stderr, "cleanup: %s failed\n", cmd);
}

int main(void)
{
	struct loop l = { .stop.cb = stop_cb };
	struct uapi *u = NULL;
	pthread_t th;
	char out[256];
	uint64_t one = 1;
	int r;

	if (geteuid() != 0 || access("/usr/bin/wg", X_OK)) {
		fprintf(stderr, "SKIP: needs root and /usr/bin/wg\n");
		return 77;
	}
	if (sodium_init() < 0)
		return 99;
	make_keys();
	snprintf(ifname, sizeof(ifname), "mgtest%d", (int)getpid() % 100000000);
	snprintf(sock_path, sizeof(sock_path), "%s/%s.sock", UAPI_SOCKET_DIR, ifname);
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/mg-uapi.XXXXXX");
	if (!mkdtemp(tmpdir))
		return 99;
	atexit(cleanup);
	l.epfd = epoll_create1(EPOLL_CLOEXEC);
	l.stopfd = eventfd(0, EFD_CLOEXEC);
	evsource_add(l.epfd, l.stopfd, EPOLLIN, &l.stop);
	r = uapi_init(&u, ifname, l.epfd, &fake_ops, NULL);
	if (r) {
		fprintf(stderr, "uapi_init: %s\n", strerror(-r));
		return 1;
	}
	test_socket_file(&l);
	test_stale(l.epfd);
	pthread_create(&th, NULL, loop_main, &l);
	test_raw_framing();
	test_big_reply();
	test_big_request();
	test_setconf_and_show();
	test_names_ignored();
	test_set();
	test_syncconf_showconf();
	CHECK_INT(write(l.stopfd, &one, sizeof(one)), 8);
	pthread_join(th, NULL);
	uapi_uninit(u);
	CHECK(access(sock_path, F_OK) != 0);
	/* Gone for wg too. */
	CHECK(run(out, sizeof(out), "wg show %s", ifname) != 0);
	close(l.stopfd);
	close(l.epfd);
	return check_done("test_uapi_wg");
}
