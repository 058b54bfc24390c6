#!/usr/bin/env bash
# The preload crate's own unit tests (its clippy runs in `make lint`, with the workspace's).
set -eu
. "$(dirname "${BASH_SOURCE[0]}")/../common.sh"
cargo test --release --locked -p sesscache-preload
