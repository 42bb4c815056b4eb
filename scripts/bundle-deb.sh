#!/usr/bin/env bash
# Builds the .deb bundle (desktop entry + icons from icons/) with the Tauri
# CLI from the UI's npm packages. Output: target/release/bundle/deb/*.deb
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
apt_ensure "${base_packages[@]}"
rust_ensure
node_ensure
ui_build
ui/node_modules/.bin/tauri build --bundles deb --ci
