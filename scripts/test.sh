#!/usr/bin/env bash
# Runs every check and test of Latchkey: formatting, clippy, and all tests
# (unit and integration, against real servers on loopback). Installs what is
# missing first: Debian packages build-essential, pkg-config, curl,
# ca-certificates; Rust (rustup) with rustfmt and clippy when cargo is absent.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
apt_ensure "${base_packages[@]}"
rust_ensure

echo "==> cargo fmt --check"
cargo fmt --all -- --check
echo "==> cargo clippy --all-targets -- -D warnings"
cargo clippy --workspace --all-targets --locked -- -D warnings
echo "==> cargo test"
xvfb-run -a scripts/with-keyring.sh cargo test --workspace --locked
