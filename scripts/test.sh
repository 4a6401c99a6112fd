#!/usr/bin/env bash
# Runs every test of LRS Wizard on a fresh Debian 12 machine: installs what is missing
# (scripts/setup.sh), checks formatting and lints, keeps Tauri out of the engine, runs the Rust
# tests (unit, fixture, CLI, Tauri mock-runtime) with a real Secret Service on a private D-Bus,
# the front end's unit tests, the GUI end-to-end test on the real app binary under Xvfb, and
# finally builds the app's .deb.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)

bash scripts/setup.sh

# The build and the tests need some 15 GiB; say so up front rather than fail midway on a full disk.
avail_kib=$(df -Pk "$ROOT" | awk 'NR==2 {print $4}')
echo "== disk: $((avail_kib / 1048576)) GiB free for the build"
if [ "$avail_kib" -lt $((12 * 1048576)) ]; then
  echo "warning: less than 12 GiB free; the build and tests may run out of space" >&2
fi

echo "== format and lints"
cargo fmt --all --check
cargo clippy --workspace --all-targets --locked --quiet

echo "== the engine has no GUI dependency"
if cargo tree -p lrs-core -e normal --prefix none --locked | grep -E '^tauri' ; then
  echo "lrs-core depends on Tauri: the engine must stay GUI-free (CONVENTIONS.md 1)" >&2
  exit 1
fi

# GTK, WebKit and the keyring write under HOME and XDG dirs: give the tests their own.
SCRATCH=$(mktemp -d)
trap 'rm -rf "$SCRATCH"' EXIT
export CARGO_HOME="${CARGO_HOME:-$HOME/.cargo}" RUSTUP_HOME="${RUSTUP_HOME:-$HOME/.rustup}"
export HOME="$SCRATCH/home" XDG_DATA_HOME="$SCRATCH/data" XDG_CACHE_HOME="$SCRATCH/cache" \
       XDG_CONFIG_HOME="$SCRATCH/config" XDG_RUNTIME_DIR="$SCRATCH/runtime"
mkdir -p "$HOME" "$XDG_DATA_HOME" "$XDG_CACHE_HOME" "$XDG_CONFIG_HOME" "$XDG_RUNTIME_DIR"
chmod 700 "$XDG_RUNTIME_DIR"

echo "== Rust tests (with a Secret Service on a private D-Bus)"
dbus-run-session -- sh -c '
  export LRS_REQUIRE_KEYCHAIN=1
  printf "lrs-test" | gnome-keyring-daemon --unlock --components=secrets >/dev/null
  cargo test --workspace --locked
' 2> >(grep -v "Failed to set fd limit" >&2)

echo "== front end unit tests"
npm run --silent test:ui

if [ -x "$ROOT/scripts/gui-test.sh" ]; then
  echo "== GUI end-to-end (real app under WebDriver)"
  bash "$ROOT/scripts/gui-test.sh"
fi

echo "== Debian package (npm Tauri CLI, release build)"
(cd "$ROOT/src-tauri" && npx --no-install tauri build --bundles deb)
ls -l "${CARGO_TARGET_DIR:-$ROOT/target}"/release/bundle/deb/*.deb
