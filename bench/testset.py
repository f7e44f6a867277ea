"""The committed Japanese test utterances: `tests/audio/ja/<condition>/<answer>__<text>__<voice>.wav`.

`<answer>` is the answer value the clip must be recognised as; out-of-grammar clips are named `oov` and
must be recognised as `unknown`. Both the tests and the benchmark enumerate clips with `list_clips`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from kiosk.asr.base import UNKNOWN
from kiosk.errors import AudioError

OOV = "oov"
"""File-name prefix of utterances that are no answer at all."""
SEPARATOR = "__"
CONDITIONS = ("clean", "slowed")
"""The conditions committed as files; noisy variants are made at run time (bench.audio_conditions)."""
_FORBIDDEN = ("/", "\\", SEPARATOR)


@dataclass(frozen=True)
class Clip:
    """One test utterance and what it must be recognised as."""

    path: Path
    expected: str
    text: str
    voice: str
    condition: str
    oov: bool
    """True for an utterance outside every grammar (expected is then 'unknown')."""


def clip_name(answer: str, text: str, voice: str) -> str:
    """The file name for an utterance of `text` by `voice` that must be recognised as `answer` (or 'oov')."""
    for part in (answer, text, voice):
        if not part or any(bad in part for bad in _FORBIDDEN):
            raise AudioError(f"{part!r} cannot be part of a clip name: it must be non-empty without '/', '\\', '__'")
    return f"{answer}{SEPARATOR}{text}{SEPARATOR}{voice}.wav"


def parse_clip(path: Path) -> Clip:
    """The Clip described by a file's name and its folder (the condition)."""
    parts = path.stem.split(SEPARATOR)
    if path.suffix != ".wav" or len(parts) != 3 or not all(parts):
        raise AudioError(f"{path} is not named <answer>__<text>__<voice>.wav; rename or remove it")
    answer, text, voice = parts
    oov = answer == OOV
    return Clip(path, UNKNOWN if oov else answer, text, voice, path.parent.name, oov)


def list_clips(root: Path, condition: str | None = None) -> list[Clip]:
    """All clips under `root` (optionally one condition), sorted by path, so runs are reproducible."""
    if not root.is_dir():
        raise AudioError(f"test audio folder {root} does not exist; generate it with tools/make_answer_audio.py")
    folders = [root / condition] if condition else [root / c for c in CONDITIONS]
    return [parse_clip(p) for folder in folders if folder.is_dir() for p in sorted(folder.glob("*.wav"))]


def default_root() -> Path:
    """`tests/audio/ja` of the source checkout this package runs from (tests and benchmarks only)."""
    return Path(__file__).resolve().parents[1] / "tests" / "audio" / "ja"
