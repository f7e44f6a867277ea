#!/usr/bin/env bash
# Shared by scripts/kiosk.sh and scripts/test.sh: system packages, then a virtual environment in .venv
# with the project installed. Usage: scripts/setup-env.sh EXTRAS   (e.g. "voices" or "test,whisper,voices")
set -euo pipefail
cd "$(dirname "$0")/.."
extras="${1:-}"

# System libraries: PortAudio for the microphone/speaker, espeak-ng for pyttsx3 on Linux.
need=()
[ -e /usr/lib/x86_64-linux-gnu/libportaudio.so.2 ] || [ -e /usr/lib/aarch64-linux-gnu/libportaudio.so.2 ] \
  || ldconfig -p 2>/dev/null | grep -q libportaudio.so.2 || need+=(libportaudio2)
command -v espeak-ng >/dev/null || need+=(espeak-ng)
python3 -c 'import venv, ensurepip' 2>/dev/null || need+=(python3-venv)
if [ "${#need[@]}" -gt 0 ]; then
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "setup: installing system packages: ${need[*]}" >&2
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need[@]}" >/dev/null
fi

python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))' || {
  echo "setup: Python 3.11 or newer is needed (Raspberry Pi OS bookworm has it)" >&2; exit 1; }
[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip >/dev/null
spec="."; [ -n "$extras" ] && spec=".[${extras}]"
.venv/bin/python -m pip install -q -e "$spec"
