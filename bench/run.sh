#!/usr/bin/env bash
# The benchmark in one command, from a fresh clone: installs what it needs (.venv with the test, whisper and
# bench extras), then runs `python -m bench` with any arguments given (e.g. --quick). Report: bench/out/report.md
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup-env.sh test,whisper,bench
# The Whisper model: $KIOSK_WHISPER_MODEL, else the shared models folder beside the clone.
shared="$(cd .. && pwd)/shared/models"
export KIOSK_WHISPER_MODEL="${KIOSK_WHISPER_MODEL:-$shared/whisper-base}"
exec .venv/bin/python -m bench "$@"
