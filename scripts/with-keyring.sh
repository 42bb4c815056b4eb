#!/usr/bin/env bash
# Runs a command inside a private D-Bus session with a fresh, unlocked
# gnome-keyring (the real Linux Secret Service), under a temporary HOME so the
# user's own keyring is never touched. Used by the tests.
#   scripts/with-keyring.sh CMD ARGS...
set -euo pipefail
if [ -z "${LATCHKEY_IN_KEYRING_SESSION:-}" ]; then
    # Keep the toolchain where it is while HOME moves.
    export CARGO_HOME="${CARGO_HOME:-$HOME/.cargo}" RUSTUP_HOME="${RUSTUP_HOME:-$HOME/.rustup}"
    # The private HOME exists before the bus does, so the bus's own
    # environment is the private one and it reads our service file first
    # ($XDG_DATA_HOME/dbus-1/services): should the daemon ever go away
    # mid-run (seen under heavy parallel load), the next caller's D-Bus
    # activation starts it again unlocked, from the same private keyring
    # files (every stored item survives), instead of the system's locked
    # one whose unlock prompt nobody can answer.
    tmp_home=$(mktemp -d)
    export HOME="$tmp_home" XDG_DATA_HOME="$tmp_home/.local/share" XDG_CONFIG_HOME="$tmp_home/.config" \
        XDG_CACHE_HOME="$tmp_home/.cache" XDG_RUNTIME_DIR="$tmp_home/run"
    mkdir -p "$XDG_DATA_HOME/dbus-1/services" "$XDG_CONFIG_HOME" "$XDG_CACHE_HOME" "$XDG_RUNTIME_DIR"
    chmod 700 "$XDG_RUNTIME_DIR"
    daemon=$(command -v gnome-keyring-daemon || echo /usr/bin/gnome-keyring-daemon)
    printf '%s\n' '[D-BUS Service]' 'Name=org.freedesktop.secrets' \
        "Exec=/bin/sh -c \"printf latchkey-test | exec $daemon --replace --foreground --unlock --components=secrets\"" \
        >"$XDG_DATA_HOME/dbus-1/services/org.freedesktop.secrets.service"
    export LATCHKEY_IN_KEYRING_SESSION="$tmp_home"
    status=0
    dbus-run-session -- "$0" "$@" || status=$?
    rm -rf "$tmp_home"
    exit "$status"
fi
tmp_home="$LATCHKEY_IN_KEYRING_SESSION"
# The first call below starts the daemon through D-Bus activation, unlocked
# (our service file); one way to start it, so no second daemon races it.
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
# Belt and braces for the activation above: programs the bus starts get
# the private environment too.
dbus-update-activation-environment HOME XDG_DATA_HOME XDG_CONFIG_HOME XDG_CACHE_HOME XDG_RUNTIME_DIR \
    2>/dev/null || true
"$@"
