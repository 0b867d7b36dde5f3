// SPDX-License-Identifier: GPL-2.0-only
/*
 * test_config.c - the config parser: a file using every key, a plain `wg setconf` file, the
 * defaults, a numbered table of bad inputs each with its exact "FILE:LINE: Key: message", key
 * files (and their permission check), and config_sync_update (added, removed, changed, unchanged peers).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "config_sync.h"
#include "keyfmt.h"

#define K_PRIV "dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25LCo="   /* RFC 7748 Alice private */
#define K_A    "hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbTmo="   /* RFC 7748 Alice public */
#define K_B    "3p7bfXt9wbTTW2HC7OQ1Nz+DQ8hbeGdNrfx+FG+IK08="   /* RFC 7748 Bob public */
#define K_C    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
#define K_PSK  "//////////////////////////////////////////8="

static char err[512];

static const char full[] =
	"# every key, odd case and spacing on purpose\n"
	"[Interface]\n"
	"name = mg-test1\n"
	"PrivateKey=" K_PRIV "\n"
	"  LISTENPORT   =   41641   # trailing comment\n"
	"FwMark = 0x1f\n"
	"Address = 100.64.0.5/32, fd7a:115c:a1e0::5/128\n"
	"Address = 10.9.0.1/24\n"
	"MTU = 1420\n"
	"Device = eth0\n"
	"Backend = dpdk\n"
	"Queues = 4\n"
	"CPUs = 2-3, 6\n"
	"cpus = 0\n"
	"Poll = Adaptive  200\n"
	"Crypto = AVX2\n"
	"SNAT = false\n"
	"AdvertiseRoutes = 192.168.8.0/24, 192.168.20.0/24\n"
	"AdvertiseExitNode = yes\n"
	"AcceptRoutes = on\n"
	"LoginServer = https://headscale.example.com\n"
	"AuthKeyFile = /etc/meshgate/auth key\n"
	"StateDir = /var/lib/mg\n"
	"MetricsListen = [::1]:9100\n"
	"TestRekeyAfterTime = 30\n"
	"\n"
	"[Peer]\n"
	"PublicKey = " K_A "\n"
	"PresharedKey = " K_PSK "\n"
	"Endpoint = 198.51.100.2:41641\n"
	"AllowedIPs = 100.64.0.2/32, fd7a:115c:a1e0::2/128\n"
	"AllowedIPs = 192.168.30.0/24\n"
	"PersistentKeepalive = 25\n"
	"[peer]\n"
	"PublicKey = " K_B "\n"
	"Endpoint = [2001:db8::1]:51820\n"
	"AllowedIPs =\n"
	"PersistentKeepalive = off\n";

static void check_prefix(const struct mg_ipprefix *p, int family, const char *addr, int cidr)
{
	uint8_t want[16] = { 0 };

	CHECK_INT(p->family, family);
	CHECK_INT(p->cidr, cidr);
	CHECK_INT(inet_pton(family, addr, want), 1);
	CHECK(!memcmp(p->addr, want, family == AF_INET ? 4 : 16));
}

/* A config file only adds allowed IPs: never the UAPI's "-prefix" removal. */
static void check_allowed(const struct mg_allowed_ip *a, int family, const char *addr, int cidr)
{
	check_prefix(&a->p, family, addr, cidr);
	CHECK(!a->remove);
}

static void test_full(void)
{
	struct mg_config c;
	uint8_t k[32];
	char b64[45];

	CHECK_INT(config_load_string(&c, "full.conf", full, err, sizeof(err)), 0);
	CHECK_STR(err, "");
	CHECK_STR(c.path, "full.conf");
	CHECK_STR(c.name, "mg-test1");
	CHECK(c.has_private_key);
	keyfmt_base64_encode(b64, c.private_key);
	CHECK_STR(b64, K_PRIV);
	CHECK_INT(c.listen_port, 41641);
	CHECK_INT(c.fwmark, 31);
	CHECK_INT(c.n_addresses, 3);
	check_prefix(&c.addresses[0], AF_INET, "100.64.0.5", 32);
	check_prefix(&c.addresses[1], AF_INET6, "fd7a:115c:a1e0::5", 128);
	check_prefix(&c.addresses[2], AF_INET, "10.9.0.1", 24);
	CHECK_INT(c.mtu, 1420);
	CHECK_INT(c.n_devices, 1);
	CHECK_STR(c.devices[0], "eth0");
	CHECK_INT(c.backend, MG_BACKEND_DPDK);
	CHECK_INT(c.queues, 4);
	CHECK_INT(c.n_cpus, 4);
	CHECK_INT(c.cpus[0], 2);
	CHECK_INT(c.cpus[1], 3);
	CHECK_INT(c.cpus[2], 6);
	CHECK_INT(c.cpus[3], 0);
	CHECK_INT(c.poll_spin_us, 200);
	CHECK_STR(c.crypto, "avx2");
	CHECK(!c.snat && c.advertise_exit_node && c.accept_routes);
	CHECK_INT(c.n_routes, 2);
	check_prefix(&c.advertise_routes[1], AF_INET, "192.168.20.0", 24);
	CHECK_STR(c.login_server, "https://headscale.example.com");
	CHECK_STR(c.auth_key_file, "/etc/meshgate/auth key");
	CHECK_STR(c.state_dir, "/var/lib/mg");
	CHECK_STR(c.metrics_listen, "[::1]:9100");
	CHECK_INT(c.test_rekey_after_time_s, 30);
	/* The WireGuard part as one update. */
	CHECK(c.wg.has_private_key && !memcmp(c.wg.private_key, c.private_key, 32));
	CHECK_INT(c.wg.listen_port, 41641);
	CHECK_INT(c.wg.fwmark, 31);
	CHECK(c.wg.replace_peers);
	CHECK_INT(c.wg.n_peers, 2);
	keyfmt_base64_decode(k, K_A);
	CHECK(!memcmp(c.wg.peers[0].public_key, k, 32));
	CHECK(c.wg.peers[0].has_preshared_key);
	keyfmt_base64_decode(k, K_PSK);
	CHECK(!memcmp(c.wg.peers[0].preshared_key, k, 32));
	CHECK(c.wg.peers[0].has_endpoint);
	CHECK_INT(c.wg.peers[0].endpoint.family, AF_INET);
	CHECK_INT(c.wg.peers[0].endpoint.port, 41641);
	CHECK_INT(c.wg.peers[0].persistent_keepalive, 25);
	CHECK(c.wg.peers[0].replace_allowed_ips);
	CHECK_INT(c.wg.peers[0].n_allowed_ips, 3);
	check_allowed(&c.wg.peers[0].allowed_ips[1], AF_INET6, "fd7a:115c:a1e0::2", 128);
	check_allowed(&c.wg.peers[0].allowed_ips[2], AF_INET, "192.168.30.0", 24);
	CHECK(!c.wg.peers[1].has_preshared_key);
	CHECK_INT(c.wg.peers[1].endpoint.family, AF_INET6);
	CHECK_INT(c.wg.peers[1].endpoint.port, 51820);
	CHECK_INT(c.wg.peers[1].persistent_keepalive, 0);
	CHECK_INT(c.wg.peers[1].n_allowed_ips, 0);
	config_free(&c);
	CHECK(c.wg.peers == NULL && c.addresses == NULL);
}

/* What `wg showconf` prints loads unchanged, and everything not in it takes its default. */
static void test_wg_setconf_file_and_defaults(void)
{
	static const char text[] =
		"[Interface]\nListenPort = 51820\nFwMark = off\nPrivateKey = " K_PRIV "\n\n"
		"[Peer]\nPublicKey = " K_A "\nAllowedIPs = 10.0.0.0/8, ::/0\nEndpoint = 1.2.3.4:5\n\n";
	struct mg_config c;

	CHECK_INT(config_load_string(&c, "wg.conf", text, err, sizeof(err)), 0);
	CHECK_STR(c.name, "meshgate0");
	CHECK_INT(c.queues, 1);
	CHECK_INT(c.poll_spin_us, MG_POLL_SPIN_DEFAULT_US);
	CHECK_INT(c.backend, MG_BACKEND_XDP);
	CHECK_INT(c.queues, 1);
	CHECK_STR(c.crypto, "auto");
	CHECK(c.snat && !c.advertise_exit_node && !c.accept_routes);
	CHECK_STR(c.state_dir, "/var/lib/meshgate");
	CHECK_STR(c.metrics_listen, "127.0.0.1:9586");
	CHECK_STR(c.login_server, "");
	CHECK_INT(c.fwmark, 0);
	CHECK_INT(c.wg.fwmark, 0);
	CHECK_INT(c.wg.n_peers, 1);
	CHECK_INT(c.wg.peers[0].n_allowed_ips, 2);
	config_free(&c);

	CHECK_INT(config_load_string(&c, "e.conf", "", err, sizeof(err)), 0);
	CHECK_INT(c.listen_port, -1);
	CHECK_INT(c.wg.listen_port, -1);
	CHECK_INT(c.wg.fwmark, -1);
	CHECK(!c.has_private_key && !c.wg.has_private_key);
	config_free(&c);

	CHECK_INT(config_load_string(&c, "m.conf", "[Interface]\nMetricsListen = off\nMTU=576\n"
				     "Address=10.0.0.1/32\n", err, sizeof(err)), 0);
	CHECK_STR(c.metrics_listen, "");
	CHECK_INT(c.mtu, 576);
	config_free(&c);
}

static const struct { const char *text, *err; } bad[] = {
	/* 0 */ { "[Interface]\nListenPort = 70000\n", "b.conf:2: ListenPort: \"70000\" is not a port (0-65535)" },
	/* 1 */ { "[Interface]\nListenPort = -1\n", "b.conf:2: ListenPort: \"-1\" is not a port (0-65535)" },
	/* 2 */ { "[Interface]\n\n# c\nBogus = 1\n", "b.conf:4: Bogus: unknown key in [Interface]" },
	/* 3 */ { "[Peer]\nPublicKey = " K_A "\nListenPort = 1\n", "b.conf:3: ListenPort: unknown key in [Peer]" },
	/* 4 */ { "[Interfaces]\n", "b.conf:1: [Interfaces]: unknown section (expected [Interface] or [Peer])" },
	/* 5 */ { "ListenPort = 1\n", "b.conf:1: ListenPort: key outside [Interface] or [Peer]" },
	/* 6 */ { "[Interface]\njunk\n", "b.conf:2: junk: not a \"Key = Value\" line" },
	/* 7 */ { "[Interface\n", "b.conf:1: [Interface: section header without closing ']'" },
	/* 8 */ { "[Interface]\nPrivateKey = abc\n", "b.conf:2: PrivateKey: not a base64 key (44 characters ending in '=')" },
	/* 9 */ { "[Peer]\nPublicKey = " K_A "\n[Peer]\nPublicKey = " K_B "\n[Peer]\nPublicKey = " K_A "\n",
		  "b.conf:6: PublicKey: duplicate peer " K_A },
	/* 10 */ { "[Peer]\nPublicKey = " K_A "\n[Peer]\nAllowedIPs = 10.0.0.0/8\n[Peer]\nPublicKey = " K_B "\n",
		   "b.conf:3: PublicKey: [Peer] has no PublicKey" },
	/* 11 */ { "[Peer]\nEndpoint = 1.2.3.4:5\n", "b.conf:1: PublicKey: [Peer] has no PublicKey" },
	/* 12 */ { "[Peer]\nPublicKey = " K_A "\nAllowedIPs = 10.0.0.0/8, 10.0.0.0/33\n",
		   "b.conf:3: AllowedIPs: \"10.0.0.0/33\" is not an IP prefix (address[/length])" },
	/* 13 */ { "[Peer]\nPublicKey = " K_A "\nAllowedIPs = 10.0.0.0/8,,10.1.0.0/16\n", "b.conf:3: AllowedIPs: empty item in list" },
	/* 14 */ { "[Peer]\nPublicKey = " K_A "\nEndpoint = fd00::1:51820\n",
		   "b.conf:3: Endpoint: \"fd00::1:51820\" is not an endpoint (a.b.c.d:port, [v6]:port or host:port, port 1-65535)" },
	/* 15 */ { "[Peer]\nPublicKey = " K_A "\nEndpoint = no-such-host.invalid:51820\n",
		   "b.conf:3: Endpoint: cannot resolve \"no-such-host.invalid:51820\"" },
	/* 16 */ { "[Peer]\nPublicKey = " K_A "\nPersistentKeepalive = 65536\n",
		   "b.conf:3: PersistentKeepalive: \"65536\" is not a keepalive interval (0-65535 seconds, or off)" },
	/* 17 */ { "[Peer]\nPublicKey = " K_A "\nPresharedKey = " K_PSK "\nPresharedKeyFile = /dev/null\n",
		   "b.conf:4: PresharedKeyFile: PresharedKey is already set; use one of the two" },
	/* 18 */ { "[Interface]\nName = this-name-is-too-long\n",
		   "b.conf:2: Name: \"this-name-is-too-long\" is not an interface name (1-15 characters, no '/', ':' or spaces)" },
	/* 19 */ { "[Interface]\nName = a/b\n", "b.conf:2: Name: \"a/b\" is not an interface name (1-15 characters, no '/', ':' or spaces)" },
	/* 20 */ { "[Interface]\nMTU = 575\n", "b.conf:2: MTU: \"575\" is not an MTU (576-9000)" },
	/* 21 */ { "[Interface]\nMTU = 9001\n", "b.conf:2: MTU: \"9001\" is not an MTU (576-9000)" },
	/* 22 */ { "[Interface]\nMTU = 1200\nAddress = 100.64.0.5/32, fd7a::5/128\n",
		   "b.conf:2: MTU: 1200 is below 1280, the minimum with an IPv6 Address" },
	/* 23 */ { "[Interface]\nBackend = tun\n", "b.conf:2: Backend: \"tun\" is not a backend (xdp, dpdk)" },
	/* 24 */ { "[Interface]\nQueues = 0\n", "b.conf:2: Queues: \"0\" is not a queue count (1-64)" },
	/* 25 */ { "[Interface]\nQueues = 65\n", "b.conf:2: Queues: \"65\" is not a queue count (1-64)" },
	/* 26 */ { "[Interface]\nCrypto = fast\n",
		   "b.conf:2: Crypto: \"fast\" is not a crypto backend (auto, avx512, avx2, ipsecmb, sodium, generic)" },
	/* 27 */ { "[Interface]\nSNAT = maybe\n", "b.conf:2: SNAT: \"maybe\" is not a boolean (true/false, yes/no, on/off, 1/0)" },
	/* 28 */ { "[Interface]\nAcceptRoutes =\n", "b.conf:2: AcceptRoutes: \"\" is not a boolean (true/false, yes/no, on/off, 1/0)" },
	/* 29 */ { "[Interface]\nLoginServer = headscale.example.com\n",
		   "b.conf:2: LoginServer: \"headscale.example.com\" is not an http:// or https:// URL" },
	/* 30 */ { "[Interface]\nStateDir = var/lib\n", "b.conf:2: StateDir: \"var/lib\" is not an absolute path" },
	/* 31 */ { "[Interface]\nMetricsListen = 9586\n", "b.conf:2: MetricsListen: \"9586\" is not host:port or off" },
	/* 32 */ { "[Interface]\nMetricsListen = ::1:9586\n", "b.conf:2: MetricsListen: \"::1:9586\" is not host:port or off" },
	/* 33 */ { "[Interface]\nFwMark = 0x100000000\n",
		   "b.conf:2: FwMark: \"0x100000000\" is not a fwmark (0-4294967295, 0x hex, or off)" },
	/* 34 */ { "[Interface]\nTestRekeyAfterTime = 1s\n", "b.conf:2: TestRekeyAfterTime: \"1s\" is not a number of seconds" },
	/* 35 */ { "[Interface]\nAddress = 100.64.0.5/32, fd7a::5/129\n",
		   "b.conf:2: Address: \"fd7a::5/129\" is not an IP prefix (address[/length])" },
	/* 36 */ { "[Interface]\nAdvertiseRoutes = 192.168.8.0/24 192.168.9.0/24\n",
		   "b.conf:2: AdvertiseRoutes: \"192.168.8.0/24 192.168.9.0/24\" is not an IP prefix (address[/length])" },
	/* 37 */ { "[Interface]\nDevice = eth0, a b\n", "b.conf:2: Device: \"a b\" is not a device name (1-63 characters, no '/' or spaces)" },
	/* 38 */ { "[Interface]\nPrivateKeyFile = /nonexistent/key\n",
		   "b.conf:2: PrivateKeyFile: /nonexistent/key: No such file or directory" },
	/* 39: a character device is not mode-checked (its own rules apply), only its content */
	{ "[Interface]\nPrivateKeyFile = /dev/null\n",
		   "b.conf:2: PrivateKeyFile: /dev/null does not hold a base64 key (44 characters ending in '=')" },
	/* 40 */ { "[Interface]\n= 5\n", "b.conf:2: =: unknown key in [Interface]" },
	/* 41 */ { "[Peer]\nPublicKey = " K_A "\nPublicKey = " K_B "\n", "b.conf:3: PublicKey: this [Peer] already has a PublicKey" },
	/* 42 */ { "[Interface]\nAuthKeyFile =\n", "b.conf:2: AuthKeyFile: empty value" },
	/* 43 */ { "[Peer]\nPublicKey = " K_A "\nEndpoint = 1.2.3.4:0\n",
		   "b.conf:3: Endpoint: \"1.2.3.4:0\" is not an endpoint (a.b.c.d:port, [v6]:port or host:port, port 1-65535)" },
	/* 44 */ { "[Interface]\nPoll = lazy\n", "b.conf:2: Poll: \"lazy\" is not a poll policy (adaptive [SPIN_US 0-1000000], busy)" },
	/* 45 */ { "[Interface]\nPoll = busy 5\n", "b.conf:2: Poll: \"busy 5\" is not a poll policy (adaptive [SPIN_US 0-1000000], busy)" },
	/* 46 */ { "[Interface]\nPoll = adaptive 1000001\n",
		   "b.conf:2: Poll: \"adaptive 1000001\" is not a poll policy (adaptive [SPIN_US 0-1000000], busy)" },
	/* 47 */ { "[Interface]\nDevice = eth0, eth1\n",
		   "b.conf:2: Device: one device only (\"eth1\" is a second one, after \"eth0\"); run one meshgate per LAN interface" },
	/* 48 */ { "[Interface]\nDevice = eth0\n\nDevice = eth1\n",
		   "b.conf:4: Device: one device only (\"eth1\" is a second one, after \"eth0\"); run one meshgate per LAN interface" },
	/* 49 */ { "[Interface]\nCPUs = 3-1\n", "b.conf:2: CPUs: \"3-1\" is not a CPU or range (0-1023, as 2 or 2-3)" },
	/* 50 */ { "[Interface]\nCPUs = 1,x\n", "b.conf:2: CPUs: \"x\" is not a CPU or range (0-1023, as 2 or 2-3)" },
	/* 51 */ { "[Interface]\nCPUs = 1024\n", "b.conf:2: CPUs: \"1024\" is not a CPU or range (0-1023, as 2 or 2-3)" },
	/* 52 */ { "[Interface]\nCPUs = 0-3, 2\n", "b.conf:2: CPUs: CPU 2 is listed twice" },
	/* 53 */ { "[Interface]\nCPUs = 1-\n", "b.conf:2: CPUs: \"1-\" is not a CPU or range (0-1023, as 2 or 2-3)" },
};

static void test_poll(void)
{
	struct mg_config c;

	CHECK_INT(config_load_string(&c, "p.conf", "[Interface]\nPoll = busy\n", err, sizeof(err)), 0);
	CHECK_INT(c.poll_spin_us, MG_POLL_BUSY);
	config_free(&c);
	CHECK_INT(config_load_string(&c, "p.conf", "[Interface]\nPoll = adaptive\n", err, sizeof(err)), 0);
	CHECK_INT(c.poll_spin_us, MG_POLL_SPIN_DEFAULT_US);
	config_free(&c);
	CHECK_INT(config_load_string(&c, "p.conf", "[Interface]\nPoll = adaptive 0\n", err, sizeof(err)), 0);
	CHECK_INT(c.poll_spin_us, 0);
	config_free(&c);
}

static void test_bad(void)
{
	struct mg_config c;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		memset(err, 0, sizeof(err));
		if (config_load_string(&c, "b.conf", bad[i].text, err, sizeof(err)) != -1) {
			fprintf(stderr, "bad case %zu was accepted\n", i);
			check_failures++;
			config_free(&c);
			continue;
		}
		if (strcmp(err, bad[i].err))
			fprintf(stderr, "bad case %zu:\n", i);
		CHECK_STR(err, bad[i].err);
		CHECK(c.wg.peers == NULL && c.addresses == NULL);   /* freed on error */
	}
	/* A short error buffer truncates, never overflows. */
	CHECK_INT(config_load_string(&c, "b.conf", bad[0].text, err, 8), -1);
	CHECK_STR(err, "b.conf:");
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	CHECK(f != NULL);
	if (!f)
		return;
	fputs(text, f);
	fclose(f);
}

static void test_files(void)
{
	char dir[] = "/tmp/mg-conf-test.XXXXXX", path[256], key[256], text[1024];
	struct mg_config c;
	uint8_t k[32];

	CHECK(mkdtemp(dir) != NULL);
	snprintf(key, sizeof(key), "%s/priv", dir);
	write_file(key, "\n  " K_PRIV "  \n");
	CHECK_INT(chmod(key, 0600), 0);
	snprintf(path, sizeof(path), "%s/mg.conf", dir);
	snprintf(text, sizeof(text), "[Interface]\nPrivateKeyFile = %s\n[Peer]\nPublicKey = " K_A "\nPresharedKeyFile = %s\n",
		 key, key);
	write_file(path, text);
	CHECK_INT(config_load(&c, path, err, sizeof(err)), 0);
	CHECK_STR(c.path, path);
	keyfmt_base64_decode(k, K_PRIV);
	CHECK(c.has_private_key && !memcmp(c.private_key, k, 32));
	CHECK(c.wg.peers[0].has_preshared_key && !memcmp(c.wg.peers[0].preshared_key, k, 32));
	config_free(&c);

	/* A NUL byte is reported at its line. */
	{
		FILE *f = fopen(path, "w");

		fwrite("[Interface]\n\nMTU = 1\0\n", 1, 22, f);
		fclose(f);
	}
	CHECK_INT(config_load(&c, path, err, sizeof(err)), -1);
	snprintf(text, sizeof(text), "%s:3: NUL byte in the file", path);
	CHECK_STR(err, text);
	unlink(path);
	CHECK_INT(config_load(&c, path, err, sizeof(err)), -1);
	snprintf(text, sizeof(text), "%s: No such file or directory", path);
	CHECK_STR(err, text);
	unlink(key);
	rmdir(dir);
}

/*
 * Key files that group or others can read (or write) are refused with FILE:LINE, the key, the
 * path, the mode and the fix; 0600 and 0400 are accepted. Table: mode, expected error tail
 * (NULL = accepted). Runs as root in CI too: the check is on mode bits, not on access(2).
 */
static const struct {
	mode_t mode;
	const char *why;
} key_modes[] = {
	{ 0600, NULL },
	{ 0400, NULL },
	{ 0644, "is readable by others (mode 0644); chmod 600 it" },
	{ 0640, "is readable by others (mode 0640); chmod 600 it" },
	{ 0604, "is readable by others (mode 0604); chmod 600 it" },
	{ 0660, "is readable by others (mode 0660); chmod 600 it" },
	{ 0620, "is writable by others (mode 0620); chmod 600 it" },
	{ 0602, "is writable by others (mode 0602); chmod 600 it" },
	{ 04600, NULL },
};

static void test_key_file_modes(void)
{
	char dir[] = "/tmp/mg-conf-mode.XXXXXX", key[256], text[512], want[512];
	static const char *const keys[] = { "PrivateKeyFile", "PresharedKeyFile" };
	struct mg_config c;
	size_t i, j;

	CHECK(mkdtemp(dir) != NULL);
	snprintf(key, sizeof(key), "%s/key", dir);
	write_file(key, K_PRIV "\n");
	for (j = 0; j < 2; j++) {
		for (i = 0; i < sizeof(key_modes) / sizeof(*key_modes); i++) {
			CHECK_INT(chmod(key, key_modes[i].mode), 0);
			if (j == 0)
				snprintf(text, sizeof(text), "[Interface]\n%s = %s\n", keys[j], key);
			else
				snprintf(text, sizeof(text), "[Peer]\nPublicKey = " K_A "\n%s = %s\n", keys[j], key);
			memset(err, 0, sizeof(err));
			if (!key_modes[i].why) {
				if (config_load_string(&c, "k.conf", text, err, sizeof(err)))
					fprintf(stderr, "mode %04o case %zu/%zu: %s\n",
						(unsigned int)key_modes[i].mode, j, i, err);
				else
					config_free(&c);
				CHECK_STR(err, "");
				continue;
			}
			CHECK_INT(config_load_string(&c, "k.conf", text, err, sizeof(err)), -1);
			snprintf(want, sizeof(want), "k.conf:%d: %s: %s %s", j ? 3 : 2, keys[j], key,
				 key_modes[i].why);
			CHECK_STR(err, want);
		}
	}
	unlink(key);
	rmdir(dir);
}

/* ---- config_sync_update ---- */

static const struct mg_peer_conf *find_peer(const struct mg_device_update *u, const char *b64)
{
	uint8_t k[32];
	size_t i;

	keyfmt_base64_decode(k, b64);
	for (i = 0; i < u->n_peers; i++)
		if (!memcmp(u->peers[i].public_key, k, 32))
			return &u->peers[i];
	return NULL;
}

static void test_sync(void)
{
	static const char text[] =
		"[Interface]\nPrivateKey = " K_PRIV "\nListenPort = 51820\n"
		"[Peer]\nPublicKey = " K_B "\nAllowedIPs = 10.0.2.0/24\n"      /* running: changed */
		"[Peer]\nPublicKey = " K_A "\nPresharedKey = " K_PSK "\nEndpoint = 1.2.3.4:5\n"
		"PersistentKeepalive = 7\nAllowedIPs = 10.0.1.0/24, 10.0.11.0/24\n";  /* new */
	uint8_t running[3][32];
	const struct mg_peer_conf *p;
	struct mg_device_update u;
	struct mg_config c;
	size_t i;

	CHECK_INT(config_load_string(&c, "s.conf", text, err, sizeof(err)), 0);
	keyfmt_base64_decode(running[0], K_C);   /* running only: removed */
	keyfmt_base64_decode(running[1], K_B);
	memset(running[2], 0x11, 32);            /* running only: removed */
	CHECK_INT(config_sync_update(&c, (const uint8_t (*)[32])running, 3, &u), 0);
	CHECK(!u.replace_peers);
	CHECK(u.has_private_key && !memcmp(u.private_key, c.private_key, 32));
	CHECK_INT(u.listen_port, 51820);
	CHECK_INT(u.fwmark, -1);
	CHECK_INT(u.n_peers, 4);
	for (i = 1; i < u.n_peers; i++)    /* merged in key order */
		CHECK(memcmp(u.peers[i - 1].public_key, u.peers[i].public_key, 32) < 0);
	p = find_peer(&u, K_C);
	CHECK(p && p->remove && p->n_allowed_ips == 0);
	p = find_peer(&u, K_B);
	CHECK(p && !p->remove && p->replace_allowed_ips && p->has_preshared_key && keyfmt_is_zero(p->preshared_key));
	CHECK(p && p->persistent_keepalive == 0 && !p->has_endpoint && p->n_allowed_ips == 1);
	p = find_peer(&u, K_A);
	CHECK(p && !p->remove && p->has_preshared_key && !keyfmt_is_zero(p->preshared_key));
	CHECK(p && p->has_endpoint && p->endpoint.port == 5 && p->persistent_keepalive == 7 && p->n_allowed_ips == 2);
	CHECK(p && !p->update_only);
	CHECK(u.peers[0].remove && !memcmp(u.peers[0].public_key, running[0], 32));
	CHECK(u.peers[1].remove && u.peers[1].public_key[0] == 0x11);   /* 00.. < 11.. < 85..(A) < de..(B) */
	devconf_update_free(&u);
	CHECK(u.peers == NULL && u.n_peers == 0);

	/* Nothing running: every file peer, no removals. Same set running: no removals either. */
	CHECK_INT(config_sync_update(&c, NULL, 0, &u), 0);
	CHECK_INT(u.n_peers, 2);
	CHECK(!u.peers[0].remove && !u.peers[1].remove);
	devconf_update_free(&u);
	keyfmt_base64_decode(running[0], K_A);
	keyfmt_base64_decode(running[1], K_B);
	memcpy(running[2], running[0], 32);      /* a duplicate running key is tolerated */
	CHECK_INT(config_sync_update(&c, (const uint8_t (*)[32])running, 3, &u), 0);
	CHECK_INT(u.n_peers, 2);
	CHECK(!u.peers[0].remove && !u.peers[1].remove);
	devconf_update_free(&u);
	config_free(&c);

	/* An empty file removes everything running. */
	CHECK_INT(config_load_string(&c, "s.conf", "[Interface]\n", err, sizeof(err)), 0);
	CHECK_INT(config_sync_update(&c, (const uint8_t (*)[32])running, 2, &u), 0);
	CHECK_INT(u.n_peers, 2);
	CHECK(u.peers[0].remove && u.peers[1].remove);
	CHECK(!u.has_private_key && u.listen_port == -1);
	devconf_update_free(&u);
	config_free(&c);
}

int main(void)
{
	test_full();
	test_wg_setconf_file_and_defaults();
	test_poll();
	test_bad();
	test_files();
	test_key_file_modes();
	test_sync();
	return check_done("test_config");
}
