#!/usr/bin/env bash
# Mutation testing (cargo-mutants) of the code where a wrong line loses a key:
# the rotation machine and driver, the .env editor and file target, and the
# HTTP retry policy. Not part of CI (hours on two cores): run it by hand,
#   ./scripts/mutants.sh              every area below
#   ./scripts/mutants.sh machine http only those areas
# Each area mutates one file and runs only the tests that cover it, under Xvfb
# with a private gnome-keyring like the suite. Results: mutants/<area>/mutants.out
# (caught.txt, missed.txt, timeout.txt, unviable.txt).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
apt_ensure "${base_packages[@]}"
rust_ensure
if ! command -v cargo-mutants >/dev/null 2>&1; then
    cargo install cargo-mutants --locked --quiet
fi

area() {
    local name=$1 file=$2
    shift 2
    echo "==> mutants: $name ($file)" >&2
    xvfb-run -a -s "-screen 0 1280x800x24" scripts/with-keyring.sh \
        cargo mutants -p latchkey-core -f "$file" -o "mutants/$name" \
        --timeout-multiplier 3 "$@" || true
    for outcome in caught missed timeout unviable; do
        printf '%s %s: %s\n' "$name" "$outcome" \
            "$(wc -l < "mutants/$name/mutants.out/$outcome.txt" 2>/dev/null || echo 0)"
    done
}

run_area() {
    case $1 in
        machine) area machine 'crates/core/src/rotation/{machine,strategy}.rs' -- --lib ;;
        http) area http crates/core/src/http.rs -- --lib --test untrusted_answers --test http_policy \
            --test lost_answers --test loopback_proxy ;;
        dotenv) area dotenv crates/core/src/deploy/dotenv.rs -- --lib --test dotenv_props \
            --test dotenv_file ;;
        dotenv-file) area dotenv-file crates/core/src/deploy/dotenv_file.rs -- --lib \
            --test dotenv_file --test rotation ;;
        driver) area driver 'crates/core/src/rotation/driver/**/*.rs' -- --test rotation \
            --test rotation_hardening --test lost_answers ;;
        *) echo "unknown area: $1 (machine http dotenv dotenv-file driver)" >&2; exit 2 ;;
    esac
}

mkdir -p mutants
if [ $# -eq 0 ]; then
    set -- machine http dotenv dotenv-file driver
fi
for a in "$@"; do
    run_area "$a"
done
