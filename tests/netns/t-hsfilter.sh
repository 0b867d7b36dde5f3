#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# The packet filter and TSMP of a Headscale-managed router: the test lives with the test control
# server in tests/control/; this runs it on the shared lab as part of the netns suite.
exec "$(dirname "$0")/../control/t-hsfilter.sh" "$@"
