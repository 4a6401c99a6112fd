#!/usr/bin/env bash
# Runs the desktop app on Debian 12: installs what is missing (scripts/setup.sh: system libraries
# and npm packages), builds the UI (tsc) and runs the app (cargo run -p lrs-wizard).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/setup.sh
npm run build
exec cargo run -p lrs-wizard "$@"
