#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# t-dpdk.sh with the EAL on 2 MiB hugepages instead of --no-huge (reserved for the run through
# /proc/sys/vm/nr_hugepages and given back after it). Sourced, so its lines say t-dpdk-huge.
DPDK_HUGE=1
. "$(dirname "$0")/t-dpdk.sh"
