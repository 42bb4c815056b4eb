#!/usr/bin/env bash
# Mutation testing (cargo-mutants) of the code where a wrong line loses a key:
# the rotation machine and driver, the .env editor and file target, and the
# HTTP retry policy. Not part of CI (hours on two cores): run it by hand,
#   ./scripts/mutants.sh                      every area below
#   ./scripts/mutants.sh machine http         only those areas
#   ./scripts/mutants.sh driver -- --in-place --shard 0/4
# Options after `--` go to `cargo mutants` for every area: `--in-place`
# mutates this tree and builds incrementally in its CARGO_TARGET_DIR (much
# faster than the default cold build of a copy; do not edit or commit the tree
# while it runs, and check `git status` after), `--shard k/n` runs one part,
# `-F REGEX` only the matching mutants, `--list` counts them.
# Each area mutates its files and runs only the tests that cover them, under
# Xvfb, each test binary with its own private gnome-keyring like the suite.
# The .env property test runs LK_DOTENV_CASES cases per mutant (2,000 here,
# 20,000 in the suite): re-run a survivor with LK_DOTENV_CASES=20000 before
# calling it missed.
# Results: mutants/<area>/mutants.out (caught.txt, missed.txt, timeout.txt,
# unviable.txt).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
apt_ensure "${base_packages[@]}"
rust_ensure
# The driver's tests start moto (AWS's APIs on loopback) for AWS rotations.
moto_ensure
host=$(rustc -vV | sed -n 's/^host: //p')
runner_var="CARGO_TARGET_$(echo "$host" | tr 'a-z-' 'A-Z_')_RUNNER"
if ! command -v cargo-mutants >/dev/null 2>&1; then
    cargo install cargo-mutants --locked --quiet
fi

# area NAME FILES TEST-TARGET...: the targets (`--lib`, `--test=NAME`) go to
# both the build and the test run (`--cargo-arg`): after `--` they would only
# reach the test run, and every mutant would build every test of the crate.
area() {
    local name=$1 file=$2
    shift 2
    local targets=()
    for t in "$@"; do
        targets+=("--cargo-arg=$t")
    done
    echo "==> mutants: $name ($file)" >&2
    # Each test binary of each mutant gets its own fresh keyring (cargo's
    # runner, as in scripts/test.sh): one keyring for the whole run fills up
    # with every mutant's keys, and gnome-keyring rewrites its file on each
    # write (the driver's tests took 101 s for the baseline, 295 s by the
    # fifth mutant on a busy machine: near the 305 s timeout the baseline set).
    env "$runner_var=$PWD/scripts/with-keyring.sh" xvfb-run -a -s "-screen 0 1280x800x24" \
        cargo mutants -p latchkey-core -f "$file" -o "mutants/$name" "${targets[@]}" \
        --timeout-multiplier 3 "${mutants_options[@]}" || true
    for outcome in caught missed timeout unviable; do
        printf '%s %s: %s\n' "$name" "$outcome" \
            "$(wc -l < "mutants/$name/mutants.out/$outcome.txt" 2>/dev/null || echo 0)"
    done
}

run_area() {
    case $1 in
        machine) area machine 'crates/core/src/rotation/{machine,strategy}.rs' --lib ;;
        http) area http crates/core/src/http.rs --lib --test=untrusted_answers --test=http_policy \
            --test=lost_answers --test=loopback_proxy ;;
        # The editor and its line reader (deploy/dotenv/{mod,parse}.rs).
        dotenv) LK_DOTENV_CASES="${LK_DOTENV_CASES:-2000}" area dotenv \
            'crates/core/src/deploy/dotenv/*.rs' --lib --test=dotenv_props --test=dotenv_file \
            --test=mutants_dotenv ;;
        # The file target every file kind shares (deploy/file/{mod,atomic,
        # target}.rs; deploy/dotenv_file.rs is only a type alias over it).
        # rotation (1 min) and rotation_hardening (2.5 min) cover it too, but
        # make a run of its 105 mutants take hours: add `-- --cargo-arg=--test=rotation`.
        dotenv-file) area dotenv-file 'crates/core/src/deploy/file/*.rs' --lib \
            --test=dotenv_file --test=same_file_targets --test=yaml_aws_files --test=mutants_file ;;
        driver) area driver 'crates/core/src/rotation/driver/**/*.rs' --lib --test=rotation \
            --test=rotation_hardening --test=roll_rotation --test=same_file_targets \
            --test=lost_answers --test=mutants_driver --test=mutants_driver_create --test=mutants_driver_services ;;
        # The driver against its fast tests only (no rotation and
        # rotation_hardening, 3.5 min a mutant): a first pass, e.g.
        # `driver-fast -- --in-place --shard 0/10`; re-run what it missed
        # with `driver -- --in-place -F REGEX` before calling it missed.
        driver-fast) area driver-fast 'crates/core/src/rotation/driver/**/*.rs' --lib \
            --test=roll_rotation --test=same_file_targets --test=lost_answers \
            --test=mutants_driver --test=mutants_driver_create --test=mutants_driver_services ;;
        *) echo "unknown area: $1 (machine http dotenv dotenv-file driver driver-fast)" >&2; exit 2 ;;
    esac
}

areas=()
while [ $# -gt 0 ] && [ "$1" != -- ]; do
    areas+=("$1")
    shift
done
[ $# -gt 0 ] && shift
mutants_options=("$@")
if [ ${#areas[@]} -eq 0 ]; then
    areas=(machine http dotenv dotenv-file driver)
fi
mkdir -p mutants
for a in "${areas[@]}"; do
    run_area "$a"
done
