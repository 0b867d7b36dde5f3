#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Kept for old instructions: tests/fuzz/run.sh runs every fuzz target of the build (these too).
exec "$(dirname "$0")/../run.sh" "$@"
