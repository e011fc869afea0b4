#!/usr/bin/env bash
# First command of the README: installs the dependencies (Debian 12 packages),
# builds and installs slotguard, then runs the demo — 20 clients race for one
# slot and exactly one wins. Needs root (apt-get, make install).
set -euo pipefail
cd "$(dirname "$0")"
bash scripts/install-deps.sh
bash scripts/build.sh
bash scripts/demo.sh
