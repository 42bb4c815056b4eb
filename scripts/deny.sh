#!/usr/bin/env bash
# Supply-chain checks, run by scripts/test.sh: `cargo deny` (advisories,
# licences, sources, bans; deny.toml) against the checked-in RustSec snapshot
# (supply-chain/advisory-db.tar.gz, unpacked where deny.toml's db-path says,
# never fetched: CI cannot reach the database's git host), then `npm audit`
# of the UI's shipped (non-dev) packages.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v cargo-deny >/dev/null 2>&1; then
    echo "==> installing cargo-deny" >&2
    cargo install cargo-deny --version 0.20.2 --locked --quiet
fi
# cargo-deny keys its database directory by the URL in deny.toml (this name
# is the one cargo-deny 0.20 derives from https://github.com/rustsec/advisory-db).
db="target/advisory-dbs/advisory-db-3157b0e258782691"
snapshot=supply-chain/advisory-db.tar.gz
stamp=$(cat supply-chain/advisory-db.date)
if [ ! -f "$db/.snapshot" ] || [ "$(cat "$db/.snapshot")" != "$stamp" ]; then
    rm -rf "$db"
    mkdir -p "$db/.git"
    tar -xzf "$snapshot" -C "$db"
    # cargo-deny dates the database by .git/FETCH_HEAD: the snapshot's date.
    touch -d "$stamp" "$db/.git/FETCH_HEAD"
    echo "$stamp" >"$db/.snapshot"
fi
echo "==> cargo deny (RustSec snapshot of $stamp)"
cargo fetch --locked --quiet
cargo deny --offline --locked check advisories licenses sources bans
echo "==> npm audit --omit=dev (the UI's shipped packages)"
if out=$(cd ui && npm audit --omit=dev 2>&1); then
    echo "$out"
elif echo "$out" | grep -qiE "audit endpoint returned an error|ENOAUDIT|EAI_AGAIN|ENOTFOUND|ECONNREFUSED|405 Method Not Allowed"; then
    echo "$out" | tail -3
    echo "npm audit: SKIPPED, the registry's audit endpoint cannot be reached from here (the advisory lookup is not served); not a pass." >&2
else
    echo "$out"
    exit 1
fi
