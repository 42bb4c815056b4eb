#!/usr/bin/env bash
# Runs Latchkey. For now that is the reference key service (the built-in Demo
# provider): it starts on a loopback port, keeps its state in
# ~/.local/share/latchkey/keyservice.json, shows a short example session, and
# serves until Ctrl-C. Installs what is missing first (see scripts/lib.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
apt_ensure "${base_packages[@]}"
rust_ensure

cargo build --release --locked -p latchkey-keyservice
data_dir="${LATCHKEY_DATA_DIR:-${XDG_DATA_HOME:-$HOME/.local/share}/latchkey}"
mkdir -p "$data_dir"
out=$(mktemp)
trap 'kill "$pid" 2>/dev/null || true; rm -f "$out"' EXIT
target_dir="${CARGO_TARGET_DIR:-target}"
"$target_dir/release/latchkey-keyservice" --listen 127.0.0.1:0 --data "$data_dir/keyservice.json" >"$out" &
pid=$!
for _ in $(seq 50); do [ -s "$out" ] && break; sleep 0.1; done
line=$(head -n1 "$out")
addr=$(sed -E 's/.*"listening":"([^"]+)".*/\1/' <<<"$line")
token=$(sed -E 's/.*"admin_token":"([^"]+)".*/\1/' <<<"$line")
base="http://$addr"

show() { echo; echo "\$ $*"; "$@"; echo; }
echo "Latchkey key service listening on $base (admin token: $token)"
echo "Example session:"
echo
echo "\$ curl -s -X POST $base/api/projects/demo/api-keys -H 'Authorization: Bearer $token' -H 'Content-Type: application/json' -d '{\"name\":\"example\",\"permissions\":[\"read\"],\"expires_in_days\":30}'"
created=$(curl -s -X POST "$base/api/projects/demo/api-keys" -H "Authorization: Bearer $token" \
    -H 'Content-Type: application/json' -d '{"name":"example","permissions":["read"],"expires_in_days":30}')
echo "$created"
key=$(grep -o '"key":"[^"]*"' <<<"$created" | cut -d'"' -f4)
show curl -s "$base/v1/verify" -H "Authorization: Bearer $key"
show curl -s "$base/api/projects/demo/api-keys" -H "Authorization: Bearer $token"
echo
echo "Serving until Ctrl-C; state is kept in $data_dir/keyservice.json."
wait "$pid"
