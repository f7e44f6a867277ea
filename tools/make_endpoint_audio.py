"""Regenerate the short Japanese speech clips in tests/audio/endpoint/ with espeak-ng (offline).

The endpointer tests pad and join these clips with silence to build utterances of known timing.
espeak-ng reads kana only, so the texts are in kana. Clips are stored at 16 kHz 16-bit mono to stay
small. Usage: .venv/bin/python tools/make_endpoint_audio.py   (needs espeak-ng and sox)
"""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "tests" / "audio" / "endpoint"
TEXTS = ["はい", "いいえ", "わかりません", "ひざが いたいです"]


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        for text in TEXTS:
            raw = Path(tmp) / "raw.wav"
            target = OUT / f"{text.replace(' ', '_')}.wav"
            subprocess.run(["espeak-ng", "-v", "ja", "-w", str(raw), text], check=True)
            subprocess.run(["sox", str(raw), "-r", "16000", "-c", "1", "-b", "16", str(target)], check=True)
            print(target.relative_to(OUT.parent.parent.parent))


if __name__ == "__main__":
    main()
