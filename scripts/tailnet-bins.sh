#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Builds the real tailnet programs the interop lab (tests/interop/) runs beside meshgate, each at
# a pinned version, into a versioned cache under the build directory:
#
#   $BUILD/tailnet/headscale-v0.29.2/headscale      the current Headscale
#   $BUILD/tailnet/headscale-v0.27.1/headscale      the oldest Headscale meshgate supports
#   $BUILD/tailnet/tailscale-v1.102.5/tailscale{,d} a current client
#   $BUILD/tailnet/tailscale-v1.86.5/tailscale{,d}  an older client
#
# What is already there is kept. Static binaries (CGO_ENABLED=0) with Go's module proxy.
# Headscale is built from its downloaded module ("go mod download", then "go build" inside it)
# rather than with "go install pkg@version": go install asks the proxy for the module's version
# list to warn about retractions, and a proxy that refuses list queries fails the whole install.
#
# Usage: scripts/tailnet-bins.sh [BUILD_DIR]     (default: build, or $MG_BUILD_DIR)
# Exit status 0 when every binary is in place; 2 when Go is missing or too old (the message
# says which); 1 when a build failed. TAILNET_GO may name the go binary.

set -u
cd "$(dirname "$0")/.." || exit 1
BUILD=${1:-${MG_BUILD_DIR:-build}}
OUT=$(mkdir -p "$BUILD/tailnet" && cd "$BUILD/tailnet" && pwd) || exit 1

HEADSCALE_VERSIONS=(v0.29.2 v0.27.1)
TAILSCALE_VERSIONS=(v1.102.5 v1.86.5)
GO_MIN=1.26          # tailscale v1.102 and headscale v0.29 need Go 1.26

GO=${TAILNET_GO:-$(command -v go || echo /usr/local/go/bin/go)}
if ! [ -x "$GO" ] && ! command -v "$GO" >/dev/null 2>&1; then
	echo "tailnet-bins: Go is missing (need go >= $GO_MIN: https://go.dev/dl/, unpack to /usr/local/go)" >&2
	exit 2
fi
gov=$("$GO" env GOVERSION 2>/dev/null | sed 's/^go//')
if [ -z "$gov" ] || [ "$(printf '%s\n%s\n' "$GO_MIN" "$gov" | sort -V | head -n 1)" != "$GO_MIN" ]; then
	echo "tailnet-bins: $GO is go ${gov:-unknown}; the pinned programs need go >= $GO_MIN" >&2
	exit 2
fi
export CGO_ENABLED=0 GOTOOLCHAIN=local GOFLAGS=-buildvcs=false

rc=0
# build_tailscale VERSION: tailscale and tailscaled, with the version stamped as their release does.
build_tailscale() {
	local v=$1 dir="$OUT/tailscale-$1" ld
	[ -x "$dir/tailscale" ] && [ -x "$dir/tailscaled" ] && { echo "tailnet-bins: tailscale $v cached"; return 0; }
	echo "tailnet-bins: building tailscale + tailscaled $v"
	ld="-X tailscale.com/version.longStamp=${v#v} -X tailscale.com/version.shortStamp=${v#v}"
	mkdir -p "$dir.tmp" &&
	GOBIN="$dir.tmp" "$GO" install -ldflags "$ld" "tailscale.com/cmd/tailscale@$v" "tailscale.com/cmd/tailscaled@$v" &&
	rm -rf "$dir" && mv "$dir.tmp" "$dir"
}
# build_headscale VERSION
build_headscale() {
	local v=$1 dir="$OUT/headscale-$1" src
	[ -x "$dir/headscale" ] && { echo "tailnet-bins: headscale $v cached"; return 0; }
	echo "tailnet-bins: building headscale $v"
	"$GO" mod download "github.com/juanfont/headscale@$v" || return 1
	src="$("$GO" env GOMODCACHE)/github.com/juanfont/headscale@$v"
	mkdir -p "$dir" &&
	(cd "$src" && "$GO" build -o "$dir/headscale.tmp" ./cmd/headscale) &&
	mv "$dir/headscale.tmp" "$dir/headscale"
}

for v in "${TAILSCALE_VERSIONS[@]}"; do build_tailscale "$v" || { echo "tailnet-bins: FAILED: tailscale $v" >&2; rc=1; }; done
for v in "${HEADSCALE_VERSIONS[@]}"; do build_headscale "$v" || { echo "tailnet-bins: FAILED: headscale $v" >&2; rc=1; }; done
[ $rc = 0 ] && echo "tailnet-bins: all in $OUT"
exit $rc
