// SPDX-License-Identifier: GPL-2.0-only
/*
 * test_netcheck.c - `meshgate netcheck`'s conclusions and probes, and the daemon discovery of
 * `meshgate status`:
 *  1. the report rules on made-up answers: MappingVariesByDestIP unknown with one server, false
 *     when two servers saw the same address, true when a port differs; the nearest region by
 *     latency, never a NoMeasureNoHome one, TCP only where STUN is silent, the lower id on a tie;
 *     the listing order;
 *  2. nc_probe over loopback against two STUN responders in a thread that answer with made-up
 *     mapped addresses (as a NAT would), one 40 ms late: region order and the mapping verdict
 *     follow, and a silent third region is listed without latency;
 *  3. cli_discover on a directory of sockets: a live one served by a process named "meshgate"
 *     is found with its pid, one served by another program is counted apart, a stale one is
 *     passed over, and (as root) a user who may not connect is counted as denied.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include "netcheck_report.h"
#include "netcheck_probe.h"
#include "discover.h"
#include "stun.h"

static int failures, checks;
#define CHECK(c) do { checks++; if (!(c)) { failures++; fprintf(stderr, "%s:%d: FAIL: %s\n", __FILE__, __LINE__, #c); } } while (0)

static struct mg_endpoint ep4(uint8_t a, uint8_t b, uint8_t c, uint8_t d, uint16_t port)
{
	struct mg_endpoint e = { .family = AF_INET, .port = port, .addr = { a, b, c, d } };

	return e;
}

static void region(struct derp_region *g, int id, const char *code, bool no_home)
{
	memset(g, 0, sizeof(*g));
	g->id = id;
	snprintf(g->code, sizeof(g->code), "%s", code);
	g->no_home = no_home;
}

static void test_rules(void)
{
	struct derp_region g[4];
	struct nc_report r;
	struct mg_endpoint s1 = ep4(198, 18, 1, 2, 3478), s2 = ep4(198, 18, 2, 2, 3478);
	struct mg_endpoint m1 = ep4(203, 0, 113, 7, 40000), m2 = ep4(203, 0, 113, 7, 40001);
	size_t order[4];

	region(&g[0], 900, "a", false);
	region(&g[1], 901, "b", false);
	region(&g[2], 902, "c", true);
	region(&g[3], 903, "d", false);
	nc_report_init(&r, g, 4);
	CHECK(r.mapping_varies == -1 && !r.udp && !r.preferred);
	nc_report_finish(&r);
	CHECK(r.preferred == 0);
	/* One server, asked twice with the same answer: still unknown. */
	nc_note_stun(&r, 0, &s1, &m1, 30000000);
	nc_note_stun(&r, 0, &s1, &m1, 20000000);
	CHECK(r.udp && r.mapping_varies == -1 && r.res[0].v4_ns == 20000000);
	CHECK(r.global_v4.family == AF_INET && r.global_v4.port == 40000);
	/* A second server sees the same address: the mapping does not vary. */
	nc_note_stun(&r, 1, &s2, &m1, 10000000);
	CHECK(r.mapping_varies == 0);
	/* The nearest region is 901; 902 may not be home even if faster; TCP counts only without STUN. */
	nc_note_stun(&r, 2, &s2, &m1, 1000000);
	nc_note_tcp(&r, 3, 5000000);
	nc_note_tcp(&r, 1, 1000);
	nc_report_finish(&r);
	CHECK(r.preferred == 901);                       /* not 903: its 5 ms are TCP, and UDP works */
	bool tcp;
	CHECK(nc_latency(&r, 1, &tcp) == 10000000 && !tcp);
	CHECK(nc_latency(&r, 3, &tcp) == 5000000 && tcp);
	nc_report_order(&r, order);
	CHECK(order[0] == 2 && order[1] == 3 && order[2] == 1 && order[3] == 0);
	/* A tie goes to the lower id. */
	nc_note_stun(&r, 0, &s1, &m1, 10000000);
	nc_report_finish(&r);
	CHECK(r.preferred == 900);
	/* No STUN answer anywhere (UDP blocked): the TCP times decide. */
	nc_report_init(&r, g, 4);
	nc_note_tcp(&r, 0, 9000);
	nc_note_tcp(&r, 3, 8000);
	nc_report_finish(&r);
	CHECK(!r.udp && r.preferred == 903);

	/* Another report: two servers, two ports - the NAT maps per destination. */
	nc_report_init(&r, g, 4);
	nc_note_stun(&r, 0, &s1, &m1, 1000);
	nc_note_stun(&r, 1, &s2, &m2, 1000);
	CHECK(r.mapping_varies == 1);
	nc_note_stun(&r, 3, &s1, &m1, 1000);           /* a later agreement does not undo it */
	CHECK(r.mapping_varies == 1);
	/* IPv6 answers do not take part in the IPv4 mapping question. */
	struct mg_endpoint s6 = { .family = AF_INET6, .port = 3478, .addr = { 0xfd, 0x99, [15] = 2 } };
	struct mg_endpoint m6 = { .family = AF_INET6, .port = 5, .addr = { 0xfd, 0x99, [15] = 9 } };
	nc_report_init(&r, g, 4);
	nc_note_stun(&r, 0, &s6, &m6, 1000);
	CHECK(r.mapping_varies == -1 && r.global_v6.family == AF_INET6 && !r.global_v4.family && r.res[0].v6_ns == 1000);
}

/* ---- nc_probe on loopback ------------------------------------------------------------------ */

struct responder {
	int fd[2];
	uint16_t port[2];
	struct mg_endpoint mapped[2];    /* what each claims to have seen */
	unsigned delay_ms[2];
	volatile int stop;
};

static size_t make_response(uint8_t *out, const uint8_t *req, const struct mg_endpoint *m)
{
	uint16_t xport = m->port ^ (STUN_MAGIC_COOKIE >> 16);

	out[0] = 0x01, out[1] = 0x01, out[2] = 0, out[3] = 12;
	memcpy(out + 4, req + 4, 16);                    /* cookie + TxID */
	out[20] = 0x00, out[21] = 0x20, out[22] = 0, out[23] = 8;
	out[24] = 0, out[25] = 1, out[26] = xport >> 8, out[27] = xport & 0xff;
	for (int i = 0; i < 4; i++)
		out[28 + i] = m->addr[i] ^ out[4 + i];
	return 32;
}

struct one {                         /* one server of the responder, in its own thread */
	struct responder *rs;
	int i;
};

static void *respond(void *arg)
{
	struct one *o = arg;
	struct responder *rs = o->rs;
	int i = o->i;

	while (!rs->stop) {
		struct pollfd pf = { .fd = rs->fd[i], .events = POLLIN };
		uint8_t req[512], resp[64];
		struct sockaddr_in from;
		socklen_t fl = sizeof(from);
		ssize_t n;

		if (poll(&pf, 1, 50) <= 0)
			continue;
		n = recvfrom(rs->fd[i], req, sizeof(req), 0, (struct sockaddr *)&from, &fl);
		if (n != STUN_REQUEST_LEN || !stun_looks_like(req, (size_t)n))
			continue;
		if (rs->delay_ms[i])
			usleep(rs->delay_ms[i] * 1000);
		sendto(rs->fd[i], resp, make_response(resp, req, &rs->mapped[i]), 0, (struct sockaddr *)&from, fl);
	}
	return NULL;
}

static int udp_bound(uint16_t *port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t l = sizeof(sa);
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) || getsockname(fd, (struct sockaddr *)&sa, &l))
		return -1;
	*port = ntohs(sa.sin_port);
	return fd;
}

static void node(struct derp_region *g, int id, const char *code, uint16_t stun_port)
{
	region(g, id, code, false);
	g->n_nodes = 1;
	snprintf(g->nodes[0].ipv4, sizeof(g->nodes[0].ipv4), "127.0.0.1");
	snprintf(g->nodes[0].ipv6, sizeof(g->nodes[0].ipv6), "none");
	g->nodes[0].stun_port = stun_port;
	g->nodes[0].derp_port = 9;               /* nothing listens: the TCP probe fails */
}

static void probe_once(struct responder *rs, struct nc_report *r, struct derp_region *g)
{
	struct nc_probe_opts o = { .timeout_ns = 1500000000ull, .no_ipv6 = true };

	nc_report_init(r, g, 3);
	CHECK(nc_probe(r, &o) == 0);
	nc_report_finish(r);
	fprintf(stderr, "# probe: 900 %lu ns, 901 %lu ns, 902 %lu ns; mapping %d, nearest %d\n",
		(unsigned long)r->res[0].v4_ns, (unsigned long)r->res[1].v4_ns, (unsigned long)r->res[2].v4_ns,
		r->mapping_varies, r->preferred);
	(void)rs;
}

static void test_probe(void)
{
	struct responder rs = { 0 };
	struct derp_region g[3];
	struct nc_report r;
	pthread_t th[2];
	struct one ones[2] = { { &rs, 0 }, { &rs, 1 } };
	uint16_t silent;
	int sfd;

	rs.fd[0] = udp_bound(&rs.port[0]);
	rs.fd[1] = udp_bound(&rs.port[1]);
	sfd = udp_bound(&silent);                        /* bound, never answers */
	CHECK(rs.fd[0] >= 0 && rs.fd[1] >= 0 && sfd >= 0);
	rs.mapped[0] = ep4(203, 0, 113, 7, 41000);
	rs.mapped[1] = ep4(203, 0, 113, 7, 41000);
	rs.delay_ms[0] = 40;                             /* region 900 is far */
	node(&g[0], 900, "far", rs.port[0]);
	node(&g[1], 901, "near", rs.port[1]);
	node(&g[2], 902, "dead", silent);
	CHECK(pthread_create(&th[0], NULL, respond, &ones[0]) == 0);
	CHECK(pthread_create(&th[1], NULL, respond, &ones[1]) == 0);

	probe_once(&rs, &r, g);
	CHECK(r.udp && r.preferred == 901);
	CHECK(r.res[0].v4_ns >= 40000000 && r.res[1].v4_ns && r.res[1].v4_ns < r.res[0].v4_ns);
	CHECK(!r.res[2].v4_ns && !nc_latency(&r, 2, NULL));
	CHECK(r.mapping_varies == 0 && r.global_v4.port == 41000);
	CHECK(!r.res[0].tcp_ns);                         /* port 9: refused */

	/* The near region's server now sees another port: a NAT mapping per destination. */
	rs.mapped[1] = ep4(203, 0, 113, 7, 41001);
	rs.delay_ms[0] = 0;
	rs.delay_ms[1] = 40;                             /* and 901 is the far one */
	probe_once(&rs, &r, g);
	CHECK(r.mapping_varies == 1 && r.preferred == 900);

	rs.stop = 1;
	pthread_join(th[0], NULL);
	pthread_join(th[1], NULL);
	close(rs.fd[0]);
	close(rs.fd[1]);
	close(sfd);
}

/* ---- discovery ----------------------------------------------------------------------------- */

static int listen_at(const char *path)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sun, sizeof(sun)) || listen(fd, 4))
		return -1;
	return fd;
}

/* A child named @comm that listens on @path until killed; its pid. */
static pid_t serve_as(const char *comm, const char *path)
{
	int ready[2];
	pid_t pid;
	char c;

	if (pipe(ready))
		return -1;
	pid = fork();
	if (pid == 0) {
		prctl(PR_SET_NAME, comm);
		int fd = listen_at(path);

		if (write(ready[1], fd >= 0 ? "y" : "n", 1) != 1)
			_exit(1);
		for (;;) {
			int c2 = accept(fd, NULL, NULL);

			if (c2 >= 0)
				close(c2);
		}
	}
	close(ready[1]);
	if (read(ready[0], &c, 1) != 1 || c != 'y')
		pid = -1;
	close(ready[0]);
	return pid;
}

static void test_discover(void)
{
	char dir[] = "/tmp/test_discover.XXXXXX", p1[128], p2[128], p3[128];
	struct cli_daemon d[4];
	size_t others = 99;
	pid_t mg, other;
	int stale;

	CHECK(mkdtemp(dir) != NULL);
	CHECK(cli_discover(dir, d, 4, &others, NULL) == 0 && others == 0);
	snprintf(p1, sizeof(p1), "%s/mgtest1.sock", dir);
	snprintf(p2, sizeof(p2), "%s/wggo1.sock", dir);
	snprintf(p3, sizeof(p3), "%s/stale1.sock", dir);
	mg = serve_as("meshgate", p1);
	other = serve_as("wireguard-go", p2);
	stale = listen_at(p3);
	close(stale);                                    /* the file stays, nobody listens */
	CHECK(mg > 0 && other > 0);
	CHECK(cli_discover(dir, d, 4, &others, NULL) == 1);
	CHECK(!strcmp(d[0].name, "mgtest1") && d[0].pid == mg && others == 1);
	/* Its -c FILE comes from its command line: this test has none. */
	CHECK(d[0].config[0] == '\0');
	/* Someone who may not connect (the daemon's socket is 0700, they are not root) is told so. */
	if (getuid() == 0) {
		pid_t c;
		int st = -1;

		chmod(dir, 0755);
		chmod(p1, 0700);
		chmod(p2, 0777);                         /* the others open to all: only p1 refuses */
		chmod(p3, 0777);
		c = fork();
		if (c == 0) {
			size_t den = 0;
			int n;

			if (setgid(65534) || setuid(65534))
				_exit(2);
			n = cli_discover(dir, d, 4, NULL, &den);
			if (n != 0 || den != 1)
				fprintf(stderr, "as uid 65534: %d found, %zu denied\n", n, den);
			_exit(n == 0 && den == 1 ? 0 : 1);
		}
		waitpid(c, &st, 0);
		CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	}
	kill(mg, SIGKILL);
	kill(other, SIGKILL);
	waitpid(mg, NULL, 0);
	waitpid(other, NULL, 0);
	CHECK(cli_discover(dir, d, 4, &others, NULL) == 0 && others == 0);
	unlink(p1), unlink(p2), unlink(p3);
	rmdir(dir);
	CHECK(cli_discover(dir, d, 4, NULL, NULL) == -ENOENT);
}

int main(void)
{
	test_rules();
	test_probe();
	test_discover();
	printf("%d checks, %d failures\n", checks, failures);
	return failures ? 1 : 0;
}
