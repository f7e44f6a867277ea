#!/usr/bin/env bash
# Install what the kiosk needs (once) and start it. Arguments go to `kiosk`, e.g. scripts/kiosk.sh --text
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup-env.sh voices
# The Japanese speech model is downloaded and verified once; the kiosk itself never uses the network.
if ! .venv/bin/kiosk models verify >/dev/null 2>&1; then
  .venv/bin/kiosk models install || echo "kiosk: speech model not installed; voice mode will explain what to do" >&2
fi
exec .venv/bin/kiosk "$@"
