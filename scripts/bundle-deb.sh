#!/usr/bin/env bash
# Builds the .deb bundle (desktop entry + icons from icons/) with the Tauri
# CLI (npm package @tauri-apps/cli, fetched by npx). Output: target/release/bundle/deb/*.deb
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
app_prerequisites
npx --yes @tauri-apps/cli@2.12.5 build --bundles deb --ci
