#!/usr/bin/env bash
# Install what the tests need and run them. Extra arguments go to pytest (e.g. -m "not slow").
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup-env.sh test,whisper,voices,bench
# Models for tests: the shared folder beside the clone unless the environment says otherwise.
shared="$(cd .. && pwd)/shared/models"
export KIOSK_WHISPER_MODEL="${KIOSK_WHISPER_MODEL:-$shared/whisper-base}"
export KIOSK_VOSK_VOCAB="${KIOSK_VOSK_VOCAB:-$shared/vosk-model-small-ja-0.22-partial/graph/words.txt}"
if [ ! -d "$shared" ] && [ -z "${KIOSK_SHARED:-}" ]; then
  echo "test.sh: no shared models at $shared (the whisper-base model, the Japanese Vosk vocabulary and the source" \
       "articles): the tests that need them are skipped; clone beside ../shared, or set KIOSK_WHISPER_MODEL," \
       "KIOSK_VOSK_VOCAB and KIOSK_SHARED" >&2
fi
set +e
.venv/bin/python -m pytest "$@"
code=$?
set -e
if [ "$code" -eq 5 ]; then
  echo "test.sh: pytest collected no tests; that is a failure" >&2
  exit 1
fi
exit "$code"
