#!/usr/bin/env bash
# Builds the .deb bundle with the Tauri CLI pinned in ui/package.json and
# ui/package-lock.json (@tauri-apps/cli, installed and integrity-checked by
# npm ci; nothing is fetched at bundle time): the desktop app as /usr/bin/latchkey-desktop with its
# desktop entry and icons from icons/, and the command-line twin as
# /usr/bin/latchkey. Output: target/release/bundle/deb/*.deb and
# target/release/bundle/rpm/*.rpm (under $CARGO_TARGET_DIR when set). The
# bundler looks for the tray icon's library (libayatana-appindicator3) to
# ship and depend on, so its -dev package is installed first.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
app_prerequisites
apt_ensure libayatana-appindicator3-dev
target="${CARGO_TARGET_DIR:-$PWD/target}"
cargo build --release --locked -p latchkey-cli
mkdir -p src-tauri/bundle-files
cp "$target/release/latchkey" src-tauri/bundle-files/latchkey
ui/node_modules/.bin/tauri build --bundles deb,rpm --ci
