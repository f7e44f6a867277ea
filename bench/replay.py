"""Whole voice sessions replayed from answer WAV files, through the kiosk's own assembly (build_session).

The answers are real clips (tests/audio/ja/clean for Whisper, tests/audio/ko for Vosk), padded with silence
so the endpointer ends each one on trailing silence, given to the kiosk's own FileSource keyed by question
(a `plan`: question id → answer value), so a question asked again (an unsure 「いいえ」 is re-asked) is
answered again rather than shifting every later answer.

The kiosk's voice goes to a RecordingOutput, which notes the monotonic time each prompt started; the
recognizer is wrapped only to note the moment its final result came back. From those:
  end of speech → endpoint (audio time, the endpointer's trailing silence),
  endpoint → answer decided (the recognizer's final result, wall time),
  answer decided → first sample of the next prompt (wall time, RecordingOutput),
and for an emergency, decided → first sample of the emergency prompt.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.common import ja_clips, ko_clips, padded
from kiosk.asr.base import Grammar, Recognition, Recognizer, RecognizerStream, SpeculativeStream, prepare
from kiosk.audio.chunk import AudioChunk
from kiosk.audio.sources import FileSource
from kiosk.audio.speaker import RecordingOutput
from kiosk.audio.wav import read_wav, write_wav
from kiosk.clock import SystemClock
from kiosk.settings import Settings

ROUTINE_PLANS: dict[str, dict[str, str]] = {
    # Japanese (Whisper): a knee that gives way, no stroke signs or red flags; the knee questions are asked.
    "ja": {"age_55": "yes", "age_65": "yes", "place": "knee", "kind": "weak", "side": "right", "onset": "gradual",
           "duration": "weeks", "knee_giving_way": "yes", "knee_situation": "stairs", "work_posture": "neither"},
    # Korean (Vosk): back pain for weeks (the Korean clips cover these answers).
    "ko": {"place": "back", "kind": "pain", "side": "both", "onset": "gradual", "duration": "weeks",
           "work_posture": "neither"},
}
"""Answers of the routine session; yes/no questions not listed are answered 「いいえ」."""
EMERGENCY_PLANS: list[dict[str, str]] = [
    {"stroke_limb": "yes"},                 # a stroke sign, first question
    {"stroke_balance": "yes"},              # a stroke sign after four 「いいえ」
    {"place": "back", "kind": "pain", "duration": "weeks",
     "rf_bladder": "emergency"},            # a call for help (救急車 / 도와줘) instead of an answer
]


class TimedStream:
    def __init__(self, inner: RecognizerStream, marks: list[float]) -> None:
        self._inner = inner
        self._marks = marks

    def feed(self, chunk: AudioChunk) -> None:
        self._inner.feed(chunk)

    def pause(self) -> None:
        if isinstance(self._inner, SpeculativeStream):
            self._inner.pause()

    def resume(self) -> None:
        if isinstance(self._inner, SpeculativeStream):
            self._inner.resume()

    @property
    def decided_early(self) -> bool:
        return bool(getattr(self._inner, "decided_early", False))

    def finish(self) -> Recognition:
        result = self._inner.finish()
        self._marks.append(time.monotonic())
        return result


class TimedRecognizer:
    """The real recognizer; notes when each final result came back (the answer is decided)."""

    def __init__(self, inner: Recognizer) -> None:
        self.inner = inner
        self.name = inner.name
        self.decided: list[float] = []

    def stream(self, grammar: Grammar) -> RecognizerStream:
        return TimedStream(self.inner.stream(grammar), self.decided)

    def prepare(self, grammars: Iterable[Grammar]) -> None:
        for grammar in grammars:
            prepare(self.inner, grammar)


EMERGENCY_ACK = "emergency_ack"
"""The key VoiceSession asks the source with while the emergency message waits for 「はい」."""


def planned_source(plan: dict[str, str], clips: dict[str, list[Path]], questions: list[str],
                   realtime: bool = False) -> FileSource:
    """The kiosk's FileSource with answers keyed by question: each question gets a clip of the answer the plan
    gives it (yes/no questions not in the plan: 「いいえ」), voices taken in turn; the emergency message is
    acknowledged with 「はい」. A question asked again gets the same clip again, as FileSource does."""
    turn: dict[str, int] = {}

    def clip(value: str) -> Path:
        options = clips[value]
        i = turn.get(value, 0)
        turn[value] = i + 1
        return options[i % len(options)]

    by_question = {q: [clip(plan.get(q, "no"))] for q in questions if plan.get(q, "no") in clips}
    by_question[EMERGENCY_ACK] = [clip("yes")]
    return FileSource([], by_question, realtime=realtime)


def answer_files(language: str, folder: Path) -> dict[str, list[Path]]:
    """Padded copies of the clean clips of `language`, by answer value (written once into `folder`)."""
    folder.mkdir(parents=True, exist_ok=True)
    by_value: dict[str, list[Path]] = {}
    for clip in ja_clips("clean") if language == "ja" else ko_clips():
        if clip.oov:
            continue
        target = folder / clip.path.name
        if not target.exists():
            write_wav(target, padded(read_wav(clip.path).audio))
        by_value.setdefault(clip.expected, []).append(target)
    return by_value


@dataclass
class Replay:
    """What one replayed session did and how long each part took."""

    kind: str
    plan: dict[str, str]
    completed: bool
    level: str | None
    files_used: list[str]
    turns: list[dict[str, Any]]
    emergency_prompt_delay: float | None
    """The session's own figure: decision → emergency audio started (VoiceSession.timings)."""
    emergency_first_sample: float | None
    """Recognizer's final result → the RecordingOutput start of the emergency prompt."""
    wall_seconds: float
    cpu_seconds: float
    audio_seconds: float
    prompts_played: int
    extra: dict[str, Any] = field(default_factory=dict)


def run_replay(kind: str, plan: dict[str, str], parts: Any, recognizer: Recognizer, clips: dict[str, list[Path]],
               store_path: Path | None = None, settings: Settings | None = None, realtime: bool = False) -> Replay:
    """Replay one session; returns its timings (nothing is written except the optional session store).
    `realtime`: answers arrive at a microphone's pace (for latency); otherwise as fast as they are taken."""
    from kiosk.session.assembly import build_session
    from kiosk.session.records import SessionStore

    settings = settings or Settings()
    timed = TimedRecognizer(recognizer)
    questions = [q.id for q in parts.content.questionnaire.questions]
    source = planned_source(plan, clips, questions, realtime)
    output = RecordingOutput()
    store = SessionStore(store_path) if store_path is not None else None
    emergency_first: list[float] = []

    def events(event: dict[str, Any]) -> None:
        if event.get("type") == "emergency" and "repeat" not in event and output.played and timed.decided:
            # Emitted right after the emergency prompt was started: the last start is that prompt and
            # the last final result is the answer that decided it.
            emergency_first.append(output.played[-1][0] - timed.decided[-1])

    session = build_session(settings, parts, timed, source, output, None, events, store, SystemClock(),
                            "replay")
    cpu, wall = time.process_time(), time.perf_counter()
    finished = session.run()
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    starts = [t for t, _ in output.played]
    turns = []
    decided = list(timed.decided)
    d = 0
    for turn in session.timings.turns:
        t = dict(turn)
        t["decided_to_first_sample"] = None
        if t.get("answer") is not None and d < len(decided):  # no speech heard: no final result
            following = [s for s in starts if s >= decided[d]]
            t["decided_to_first_sample"] = following[0] - decided[d] if following else None
            d += 1
        parts_ = (t.get("endpoint_delay"), t.get("decide_seconds"), t.get("decided_to_first_sample"))
        t["speech_end_to_first_sample"] = sum(parts_) if all(p is not None for p in parts_) else None
        turns.append(t)
    return Replay(kind, plan, finished is not None, finished.outcome.level if finished is not None else None,
                  [p.name for p in source.used], turns, session.timings.emergency_prompt_delay,
                  emergency_first[0] if emergency_first else None,
                  wall, cpu, sum(read_wav(p).seconds for p in source.used), len(output.played))


def temp_store() -> Path:
    return Path(tempfile.mkdtemp(prefix="kiosk-bench-")) / "sessions.sqlite3"
