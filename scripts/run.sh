#!/usr/bin/env bash
# Builds and opens the Latchkey desktop app (release build). Installs what is
# missing first: see scripts/lib.sh (Debian packages incl. WebKitGTK and
# gnome-keyring, Rust via rustup, Node.js, the UI's npm packages).
# Data: $LATCHKEY_DATA_DIR, else ~/.local/share/latchkey. Keys: your login keyring.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
app_prerequisites
cargo build --release --locked -p latchkey
exec "${CARGO_TARGET_DIR:-target}/release/latchkey-desktop" "$@"
