#!/usr/bin/env bash
# The preload crate's own unit tests (its clippy runs in `make lint`, with the workspace's).
set -eu
cargo test --release --locked -p sesscache-preload
