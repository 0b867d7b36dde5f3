# SPDX-License-Identifier: GPL-2.0-only
# The Debian 12 packages meshgate needs to build, test and demo; sourced by
# scripts/quickstart.sh and scripts/test.sh (one list, so they cannot drift).

MG_DEBIAN_PACKAGES=(
	# build
	build-essential meson ninja-build pkg-config clang llvm linux-libc-dev
	libbpf-dev libxdp-dev libsodium-dev libb2-dev liburcu-dev libmnl-dev libdpdk-dev
	libssl-dev libipsec-mb-dev libmicrohttpd-dev libsystemd-dev libnghttp2-dev libjansson-dev
	libzstd-dev
	# the emulated AVX-512 test build (tests/unit/crypto): SIMDe headers
	libsimde-dev
	# the lab, the integration tests and the benchmark
	wireguard-go wireguard-tools iperf3 iproute2 nftables ethtool tcpdump gnuplot-nox
	iputils-ping netcat-openbsd python3 python3-scapy curl xdp-tools procps openssl
	# operability checks and the test control server
	prometheus nix-bin jq python3-h2 python3-cryptography python3-nacl systemd valgrind python3-zstandard
	# least privilege: the UAPI directory ACL of t-privdrop (as configs/systemd/meshgate.tmpfiles)
	acl
	# the Debian package (debian/, tests/netns/t-deb.sh): its build, man pages and check
	debhelper go-md2man lintian
)

# mg_install_deps: install the list; refresh the package index only if the
# first attempt fails (a fresh image may have no index at all).
mg_install_deps() {
	local apt=(apt-get install -y --no-install-recommends "${MG_DEBIAN_PACKAGES[@]}")
	export DEBIAN_FRONTEND=noninteractive
	local have
	have=$(dpkg-query -W -f '${Status}\n' "${MG_DEBIAN_PACKAGES[@]}" 2>/dev/null |
		grep -c 'install ok installed')
	if [ "$have" = "${#MG_DEBIAN_PACKAGES[@]}" ]; then
		echo "deps: all ${#MG_DEBIAN_PACKAGES[@]} Debian packages already installed"
		return 0
	fi
	echo "deps: apt-get install ${MG_DEBIAN_PACKAGES[*]}"
	"${apt[@]}" >/tmp/mg-apt.log 2>&1 ||
		{ apt-get update >>/tmp/mg-apt.log 2>&1 && "${apt[@]}" >>/tmp/mg-apt.log 2>&1; } ||
		{ echo "deps: apt-get failed; see /tmp/mg-apt.log" >&2; tail -n 20 /tmp/mg-apt.log >&2; return 1; }
}
