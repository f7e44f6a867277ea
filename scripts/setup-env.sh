#!/usr/bin/env bash
# Shared by scripts/kiosk.sh and scripts/test.sh: system packages, then a virtual environment in .venv
# with the project installed. Usage: scripts/setup-env.sh EXTRAS   (e.g. "voices" or "test,whisper,voices")
#
# Runs at every start of scripts/kiosk.sh, and a kiosk may have no network after its first set-up: once
# installed, nothing here touches the network again until pyproject.toml or the extras change, and if an
# update cannot be downloaded the installation made before is used.
set -euo pipefail
cd "$(dirname "$0")/.."
extras="${1:-}"

case "$(dpkg --print-architecture 2>/dev/null || uname -m)" in
  amd64|arm64|x86_64|aarch64) ;;
  *) echo "setup: this is a $(dpkg --print-architecture 2>/dev/null || uname -m) system; the kiosk needs a 64-bit" \
          "one (Raspberry Pi OS 64-bit on a Pi 3/4/5, or Debian on amd64/arm64): several of its packages" \
          "have no 32-bit builds" >&2; exit 1 ;;
esac

# System libraries: PortAudio for the microphone/speaker, espeak-ng for pyttsx3 on Linux.
need=()
compgen -G "/usr/lib/*/libportaudio.so.2" >/dev/null || compgen -G "/usr/lib/libportaudio.so.2" >/dev/null \
  || { ldconfig -p 2>/dev/null || /sbin/ldconfig -p 2>/dev/null; } | grep -q libportaudio.so.2 \
  || need+=(libportaudio2)
command -v espeak-ng >/dev/null || need+=(espeak-ng)
python3 -c 'import venv, ensurepip' 2>/dev/null || need+=(python3-venv)
# What only the tests need: sox writes WAV files in every encoding for the audio-format tests.
if [[ ",$extras," == *",test,"* ]]; then
  command -v sox >/dev/null || need+=(sox)
fi
if [ "${#need[@]}" -gt 0 ]; then
  sudo=()
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || {
      echo "setup: these system packages are needed: ${need[*]}; install them as root" \
           "(su -c 'apt-get install ${need[*]}'), or install sudo, then run this again" >&2; exit 1; }
    sudo=(sudo)
  fi
  echo "setup: installing system packages: ${need[*]}" >&2
  "${sudo[@]}" apt-get update -qq
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi

python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))' || {
  echo "setup: Python 3.11 or newer is needed (Raspberry Pi OS bookworm has it)" >&2; exit 1; }
[ -x .venv/bin/python ] || python3 -m venv .venv

# What was installed, by what: skip pip when nothing it depends on has changed.
stamp_file=".venv/.installed-${extras//,/-}"
stamp="$( { cat pyproject.toml; echo "extras=$extras"; .venv/bin/python --version; } | sha256sum | cut -d' ' -f1)"
# -I: the check must not find the kiosk/ folder of this checkout, only what is installed in .venv.
installed() { [ -x .venv/bin/kiosk ] && .venv/bin/python -I -c 'import kiosk' 2>/dev/null; }
if [ -f "$stamp_file" ] && [ "$(cat "$stamp_file")" = "$stamp" ] && installed; then
  exit 0
fi
spec="."; [ -n "$extras" ] && spec=".[${extras}]"
if .venv/bin/python -m pip install -q --upgrade pip >/dev/null && .venv/bin/python -m pip install -q -e "$spec"; then
  echo "$stamp" > "$stamp_file"
elif installed; then
  echo "setup: could not update the installed packages (no network?); using the installation made before" >&2
else
  echo "setup: installing the Python packages failed (see above); this needs the network once" >&2
  exit 1
fi
