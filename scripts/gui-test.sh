#!/usr/bin/env bash
# GUI end-to-end test: builds the UI and the app, makes sure tauri-driver (pinned 2.x) is there,
# then drives the real app under Xvfb with WebKitWebDriver (tests/gui, `node --test`), inside a
# private D-Bus session with an unlocked gnome-keyring (the app keeps keys in the Secret Service).
# The rehearsal part starts Azurite from tools/azurite (scripts/setup.sh installs it).
# Screenshots: target/gui-screenshots/*.png. Exits non-zero when anything fails.
# Needs: node + npm, cargo, and the Debian packages xvfb xauth webkit2gtk-driver dbus-x11
# gnome-keyring (plus the Tauri build packages: libwebkit2gtk-4.1-dev build-essential libxdo-dev
# libssl-dev librsvg2-dev libayatana-appindicator3-dev).
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
target="${CARGO_TARGET_DIR:-$repo/target}"
tauri_driver_version="2.1.0"

for tool in xvfb-run WebKitWebDriver node npm cargo dbus-run-session gnome-keyring-daemon; do
  command -v "$tool" >/dev/null || { echo "gui-test: '$tool' not found (see the header of $0)" >&2; exit 2; }
done

echo "== UI: npm ci + tsc"
npm ci --no-audit --no-fund
npm run build

echo "== app and CLI: cargo build -p lrs-wizard -p lrs-cli"
cargo build -p lrs-wizard -p lrs-cli

driver="${TAURI_DRIVER:-$target/tools/bin/tauri-driver}"
if ! "$driver" --help >/dev/null 2>&1; then
  echo "== tauri-driver $tauri_driver_version into $target/tools"
  # Built inside the target folder, not in /tmp (which may be small), and its build removed after.
  cargo install "tauri-driver@$tauri_driver_version" --locked --root "$target/tools" \
    --target-dir "$target/tools-build"
  rm -rf "$target/tools-build"
  driver="$target/tools/bin/tauri-driver"
fi

echo "== e2e under Xvfb, with a Secret Service on a private D-Bus"
rm -rf "$target/gui-screenshots"
# The keyring daemon keeps its files in a scratch folder; the test gives the app its own HOME/XDG
# folders (RUSTUP_HOME/CARGO_HOME are not touched).
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
mkdir -p "$scratch/data" "$scratch/runtime" && chmod 700 "$scratch/runtime"
export TAURI_DRIVER="$driver" LRS_WIZARD_BIN="$target/debug/lrs-wizard" \
  LRS_KEYCHAIN_SERVICE="lrs-wizard-gui-test" XDG_DATA_HOME="$scratch/data" XDG_RUNTIME_DIR="$scratch/runtime"
dbus-run-session -- sh -c '
  printf "lrs-gui-test" | gnome-keyring-daemon --unlock --components=secrets >/dev/null
  exec xvfb-run -a -s "-screen 0 1280x1000x24" node --test --test-concurrency=1 --test-reporter=spec tests/gui/
' 2> >(grep -v "Failed to set fd limit" >&2)
echo "== screenshots in $target/gui-screenshots"
