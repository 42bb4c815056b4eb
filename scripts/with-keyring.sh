#!/usr/bin/env bash
# Runs a command inside a private D-Bus session with a fresh, unlocked
# gnome-keyring (the real Linux Secret Service), under a temporary HOME so the
# user's own keyring is never touched. Used by the tests.
#   scripts/with-keyring.sh CMD ARGS...
set -euo pipefail
if [ -z "${LATCHKEY_IN_KEYRING_SESSION:-}" ]; then
    # Keep the toolchain where it is while HOME moves.
    export CARGO_HOME="${CARGO_HOME:-$HOME/.cargo}" RUSTUP_HOME="${RUSTUP_HOME:-$HOME/.rustup}"
    export LATCHKEY_IN_KEYRING_SESSION=1
    exec dbus-run-session -- "$0" "$@"
fi
tmp_home=$(mktemp -d)
trap 'rm -rf "$tmp_home"' EXIT
export HOME="$tmp_home" XDG_DATA_HOME="$tmp_home/.local/share" XDG_CONFIG_HOME="$tmp_home/.config" \
    XDG_CACHE_HOME="$tmp_home/.cache" XDG_RUNTIME_DIR="$tmp_home/run"
mkdir -p "$XDG_DATA_HOME" "$XDG_CONFIG_HOME" "$XDG_CACHE_HOME" "$XDG_RUNTIME_DIR"
chmod 700 "$XDG_RUNTIME_DIR"
eval "$(printf 'latchkey-test' | gnome-keyring-daemon --unlock --components=secrets)"
export GNOME_KEYRING_CONTROL SSH_AUTH_SOCK 2>/dev/null || true
# The login keyring appears a moment after --unlock returns; a program that
# asks before then gets a "create a keyring" prompt nobody can answer.
for _ in $(seq 50); do
    dbus-send --session --print-reply --dest=org.freedesktop.secrets /org/freedesktop/secrets \
        org.freedesktop.DBus.Properties.Get string:org.freedesktop.Secret.Service string:Collections \
        2>/dev/null | grep -q collection/login && break
    sleep 0.1
done
# ...and is unlocked: a call that finds it still locked fails as
# keychain_locked (seen under load right after start).
for _ in $(seq 50); do
    dbus-send --session --print-reply --dest=org.freedesktop.secrets /org/freedesktop/secrets/collection/login \
        org.freedesktop.DBus.Properties.Get string:org.freedesktop.Secret.Collection string:Locked \
        2>/dev/null | grep -q "boolean false" && break
    sleep 0.1
done
# Should the daemon ever go away mid-run (seen once under heavy parallel
# load), D-Bus would start a fresh one for the next caller under the bus's
# own environment: the user's HOME and a locked keyring. So the bus starts
# daemons with our environment, and a watchdog restarts ours, unlocked, from
# the same private keyring files (every stored item survives) and says so.
dbus-update-activation-environment HOME XDG_DATA_HOME XDG_CONFIG_HOME XDG_CACHE_HOME XDG_RUNTIME_DIR \
    2>/dev/null || true
keyring_pid() {
    dbus-send --session --print-reply --dest=org.freedesktop.DBus / \
        org.freedesktop.DBus.GetConnectionUnixProcessID string:org.freedesktop.secrets 2>/dev/null \
        | awk '/uint32/ {print $2}'
}
daemon_pid=$(keyring_pid)
if [ -n "$daemon_pid" ]; then
    (
        while sleep 0.5; do
            kill -0 "$daemon_pid" 2>/dev/null && continue
            echo "with-keyring.sh: gnome-keyring-daemon (pid $daemon_pid) is gone; restarting it unlocked" >&2
            printf 'latchkey-test' | gnome-keyring-daemon --replace --unlock --components=secrets >/dev/null
            for _ in $(seq 50); do
                daemon_pid=$(keyring_pid)
                [ -n "$daemon_pid" ] && break
                sleep 0.1
            done
            [ -n "$daemon_pid" ] || { echo "with-keyring.sh: could not restart gnome-keyring-daemon" >&2; exit 1; }
        done
    ) &
    watchdog=$!
    trap 'kill "$watchdog" 2>/dev/null; rm -rf "$tmp_home"' EXIT
fi
"$@"
