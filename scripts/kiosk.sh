#!/usr/bin/env bash
# Install what the kiosk needs (once) and start it. Arguments go to `kiosk`, e.g. scripts/kiosk.sh --text
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup-env.sh voices
# The site's settings decide where the model lives: pass --config on to the model commands too.
config=()
args=("$@")
for ((i = 0; i < ${#args[@]}; i++)); do
  case "${args[i]}" in
    --config) config=(--config "${args[i + 1]:-}") ;;
    --config=*) config=("${args[i]}") ;;
  esac
done
# The Japanese speech model is downloaded and verified once; the kiosk itself never uses the network.
if ! .venv/bin/kiosk "${config[@]}" models verify >/dev/null 2>&1; then
  .venv/bin/kiosk "${config[@]}" models install \
    || echo "kiosk: speech model not installed; voice mode will explain what to do" >&2
fi
exec .venv/bin/kiosk "$@"
