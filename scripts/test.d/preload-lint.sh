#!/usr/bin/env bash
# The preload crate's own unit tests and clippy (the main steps cover -p sesscache only).
set -eu
cargo test --release --locked -p sesscache-preload
cargo clippy --release --locked -p sesscache-preload --all-targets -- -D warnings
