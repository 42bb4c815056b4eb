#!/usr/bin/env bash
# Runs every check and test of Latchkey: rustfmt, clippy, svelte-check, all
# unit and integration tests (real key service on loopback, real Secret
# Service in a private D-Bus session, real SQLite), and the end-to-end tests
# (the real app through tauri-driver + WebKitWebDriver under Xvfb); then fails
# if the generated TypeScript bindings changed. Supply-chain checks
# (cargo deny against a checked-in RustSec snapshot, npm audit): scripts/deny.sh.
# Installs what is missing first: see scripts/lib.sh (Debian packages, Rust
# via rustup, Node.js via Debian, the UI's npm packages, tauri-driver).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
apt_ensure "${base_packages[@]}" "${test_packages[@]}"
rust_ensure
node_ensure
moto_ensure
if ! command -v tauri-driver >/dev/null 2>&1; then
    echo "==> installing tauri-driver" >&2
    cargo install tauri-driver --locked --quiet
fi

echo "==> building the UI"
ui_build
echo "==> svelte-check"
(cd ui && npm run --silent check)
echo "==> cargo fmt --check"
cargo fmt --all -- --check
echo "==> supply chain: cargo deny, npm audit"
bash scripts/deny.sh
echo "==> cargo clippy --all-targets -- -D warnings"
cargo clippy --workspace --all-targets --locked -- -D warnings
echo "==> cargo test (under Xvfb, with a private gnome-keyring)"
# Every error code a test runs into is written here (debug builds only)...
LATCHKEY_ERROR_CODES_SEEN="$(mktemp -t latchkey-error-codes.XXXXXX)"
export LATCHKEY_ERROR_CODES_SEEN
# Each test binary gets its own fresh keyring (cargo's runner): gnome-keyring
# rewrites its whole keyring file on every write, so a keyring that filled
# up over the whole suite (thousands of keys) made every keychain write of
# the later binaries slower (a CLI suite took 56 s fresh, 104 s with 3,000
# items).
host=$(rustc -vV | sed -n 's/^host: //p')
runner_var="CARGO_TARGET_$(echo "$host" | tr 'a-z-' 'A-Z_')_RUNNER"
env "$runner_var=$PWD/scripts/with-keyring.sh" \
    xvfb-run -a -s "-screen 0 1280x800x24" cargo test --workspace --locked
echo "==> every error code was produced by some test"
# ...and this fails naming each code no test produced (no new build).
cargo test --workspace --locked --test error_codes -- --ignored
rm -f "$LATCHKEY_ERROR_CODES_SEEN"
echo "==> cargo fuzz: the .env editor, 100,000 runs (stable toolchain via RUSTC_BOOTSTRAP)"
if ! command -v cargo-fuzz >/dev/null 2>&1; then
    cargo install cargo-fuzz --locked --quiet
fi
# The committed seeds are read; new inputs go to corpus/ (gitignored), the
# first corpus directory, so the run never dirties the tree.
(cd fuzz && mkdir -p corpus/dotenv_set_value \
    && RUSTC_BOOTSTRAP=1 cargo fuzz run dotenv_set_value corpus/dotenv_set_value seeds/dotenv_set_value \
        -- -runs=100000 -max_len=512)
echo "==> cargo fuzz: the JSON, TOML, YAML and AWS credentials editors, 20,000 runs each"
for target in json_set_value toml_set_value yaml_set_value aws_credentials_set_value; do
    (cd fuzz && mkdir -p "corpus/$target" \
        && RUSTC_BOOTSTRAP=1 cargo fuzz run "$target" "corpus/$target" "seeds/$target" \
            -- -runs=20000 -max_len=512)
done
echo "==> generated bindings are up to date"
if [ -n "$(git status --porcelain -- ui/src/lib/bindings 2>/dev/null)" ]; then
    git status --porcelain -- ui/src/lib/bindings
    echo "TypeScript bindings are stale: run the tests and commit ui/src/lib/bindings" >&2
    exit 1
fi
