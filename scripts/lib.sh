# Shared by scripts/run.sh and scripts/test.sh: installs what is missing.
# shellcheck shell=bash

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

# apt_ensure PKG...: installs the Debian/Ubuntu packages that are not installed yet.
apt_ensure() {
    local missing=()
    for pkg in "$@"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
    done
    if [ "${#missing[@]}" -gt 0 ]; then
        echo "==> installing Debian packages: ${missing[*]}" >&2
        as_root apt-get update -qq
        DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    fi
}

# rust_ensure: a Rust toolchain with rustfmt and clippy (rustup when cargo is missing).
rust_ensure() {
    [ -f "$HOME/.cargo/env" ] && . "$HOME/.cargo/env"
    if ! command -v cargo >/dev/null 2>&1; then
        echo "==> installing Rust with rustup" >&2
        curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh -s -- -y --profile minimal -c rustfmt,clippy
        . "$HOME/.cargo/env"
    fi
    if command -v rustup >/dev/null 2>&1; then
        for component in rustfmt clippy; do
            rustup component list --installed 2>/dev/null | grep -q "^$component" || rustup component add "$component"
        done
    fi
}

# node_ensure: Node.js and npm (Debian's when missing), then the UI's packages.
node_ensure() {
    command -v npm >/dev/null 2>&1 || apt_ensure nodejs npm
    if [ ! -d ui/node_modules ] || [ ui/package-lock.json -nt ui/node_modules ]; then
        echo "==> installing the UI's npm packages" >&2
        (cd ui && npm ci --no-audit --no-fund --loglevel=error)
    fi
}

# ui_build: the Svelte UI the app embeds (ui/dist).
ui_build() {
    (cd ui && npm run --silent build -- --logLevel warn)
}

# app_prerequisites: everything a build of the desktop app needs, UI included.
app_prerequisites() {
    apt_ensure "${base_packages[@]}"
    rust_ensure
    node_ensure
    ui_build
}

# moto_ensure: moto_server (PyPI moto[server]), the AWS emulator the AWS
# tests start on loopback, in a virtualenv outside the clone; exported as
# LATCHKEY_MOTO_SERVER for the tests.
moto_ensure() {
    local venv="${LATCHKEY_MOTO_VENV:-/var/tmp/latchkey-moto-venv}"
    if [ ! -x "$venv/bin/moto_server" ]; then
        apt_ensure python3 python3-venv
        echo "==> installing moto[server] (AWS emulator for the tests)" >&2
        rm -rf "$venv"
        python3 -m venv "$venv"
        "$venv/bin/pip" install --quiet --disable-pip-version-check 'moto[server]>=5.1,<6'
    fi
    export LATCHKEY_MOTO_SERVER="$venv/bin/moto_server"
}

# Build and runtime needs: compilers, the Secret Service (gnome-keyring) and
# D-Bus, WebKitGTK for Tauri, the AppIndicator library the tray icon loads
# at run time (without it the app runs with no tray), Xvfb + xclip for
# headless tests.
base_packages=(build-essential pkg-config curl ca-certificates file
    dbus dbus-x11 gnome-keyring libdbus-1-dev
    libwebkit2gtk-4.1-dev librsvg2-dev libxdo-dev libayatana-appindicator3-1
    xvfb xauth xclip)
# End-to-end tests (xdotool answers GTK's file chooser); the shells,
# appstreamcli and script(1) for the CLI's completions, packaging and
# NO_COLOR tests.
test_packages=(webkit2gtk-driver xdotool zsh fish appstream bsdutils)
