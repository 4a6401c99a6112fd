#!/usr/bin/env bash
# Installs what building, running and testing LRS Wizard needs on Debian 12 (bookworm):
# the Tauri/WebKitGTK build and runtime libraries, Xvfb and WebKitWebDriver for the GUI tests,
# gnome-keyring and D-Bus for the keychain tests, and the front end's npm packages.
# Idempotent: packages already present are skipped. Runs apt through sudo when not root.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(
  # Tauri 2 build prerequisites (toolchain-notes §1.1)
  libwebkit2gtk-4.1-dev build-essential curl wget file libxdo-dev libssl-dev
  libayatana-appindicator3-dev librsvg2-dev pkg-config
  # headless GUI runs and WebDriver tests
  xvfb xauth webkit2gtk-driver xdotool imagemagick x11-utils
  # keychain (Secret Service) in tests
  gnome-keyring dbus-x11 libsecret-tools
  # self-signed certificates for the HTTPS tests (Azurite --oauth basic, the emulator's TLS)
  openssl
)
# The front end's compiler runs on Node; one from elsewhere (nodesource, nvm) is used as it is.
command -v node >/dev/null && command -v npm >/dev/null || APT_PACKAGES+=(nodejs npm)

missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if ((${#missing[@]})); then
  echo "setup: installing Debian packages: ${missing[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if ! command -v cargo >/dev/null; then
  echo "setup: cargo is missing. Install Rust from https://rustup.rs (stable toolchain), then run this again." >&2
  exit 1
fi

# npm packages: the front end's compiler (./package.json), and Azurite with the Node 22 it needs
# (tools/azurite: Azurite 3.37 declares node >= 22; the machine's Node may be older).
for dir in . tools/azurite; do
  if [ ! -d "$dir/node_modules" ] || [ "$dir/package-lock.json" -nt "$dir/node_modules" ]; then
    echo "setup: installing npm packages in $dir"
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error --engine-strict=false)
  fi
done
