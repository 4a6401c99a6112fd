#!/usr/bin/env bash
# GUI end-to-end test: builds the UI and the app, makes sure tauri-driver (pinned 2.x) is there,
# then drives the real app under Xvfb with WebKitWebDriver (tests/gui, `node --test`).
# Screenshots: target/gui-screenshots/*.png. Exits non-zero when anything fails.
# Needs: node + npm, cargo, and the Debian packages xvfb xauth webkit2gtk-driver (plus the Tauri
# build packages: libwebkit2gtk-4.1-dev build-essential libxdo-dev libssl-dev librsvg2-dev
# libayatana-appindicator3-dev).
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
target="${CARGO_TARGET_DIR:-$repo/target}"
tauri_driver_version="2.1.0"

for tool in xvfb-run WebKitWebDriver node npm cargo; do
  command -v "$tool" >/dev/null || { echo "gui-test: '$tool' not found (see the header of $0)" >&2; exit 2; }
done

echo "== UI: npm ci + tsc"
npm ci --no-audit --no-fund
npm run build

echo "== app: cargo build -p lrs-wizard"
cargo build -p lrs-wizard

driver="${TAURI_DRIVER:-$target/tools/bin/tauri-driver}"
if ! "$driver" --help >/dev/null 2>&1; then
  echo "== tauri-driver $tauri_driver_version into $target/tools"
  cargo install "tauri-driver@$tauri_driver_version" --locked --root "$target/tools"
  driver="$target/tools/bin/tauri-driver"
fi

echo "== e2e under Xvfb"
rm -rf "$target/gui-screenshots"
# The test gives the app its own HOME/XDG folders; RUSTUP_HOME/CARGO_HOME are not touched.
TAURI_DRIVER="$driver" LRS_WIZARD_BIN="$target/debug/lrs-wizard" \
  xvfb-run -a -s "-screen 0 1280x1000x24" node --test --test-reporter=spec tests/gui/
echo "== screenshots in $target/gui-screenshots"
