"""End-of-speech detection done by the kiosk itself: voice activity plus timers, on audio time.

Time is the amount of audio fed so far (chunks carry no clock), so replaying a file or running a test
gives the same events as the microphone, with no wall clock involved. The defaults are generous for
elderly speakers, who pause between words and start slowly; every timer can be lengthened, and the
two time limits (no input, maximum length) can be switched off (WCAG 2.2.1 Timing Adjustable).
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, replace
from enum import Enum

from kiosk.audio.chunk import CHANNELS, RATE, WIDTH, AudioChunk
from kiosk.audio.vad import FRAME_BYTES, FRAME_SECONDS, AdaptiveDetector, SpeechDetector, VoiceDetector
from kiosk.errors import AudioError, SettingsError

MEMORY_CAP_SECONDS = 600.0
"""With max_utterance off, an utterance still ends here so that its audio cannot fill the memory."""


@dataclass(frozen=True)
class EndpointSettings:
    """Timers and voice-activity tuning of the endpointer (seconds of audio)."""

    trailing_silence: float = 1.2
    """Silence after speech that ends the utterance; older speakers pause mid-answer, so not shorter."""
    no_input: float | None = 8.0
    """Give up waiting for speech to start after this long; None waits for ever."""
    max_utterance: float | None = 10.0
    """Cut an utterance this long after it started; None means no limit (up to MEMORY_CAP_SECONDS)."""
    speech_start: float = 0.12
    """Voiced audio needed within `start_window` before speech counts as started (ignores clicks)."""
    start_window: float = 0.3
    pre_roll: float = 0.3
    """Audio kept from before the detected start, so a soft first consonant reaches the recognizer."""
    vad_mode: int = 2
    """webrtcvad aggressiveness 0..3; higher rejects more noise but also more quiet speech."""
    min_level_dbfs: float = -55.0
    noise_margin_db: float = 4.5
    """A frame is speech only if its 90 ms level is this far above the room's noise floor; 0 turns the
    check off (webrtcvad and min_level_dbfs alone, as before).

    Measured on the 188 clips of tests/audio/ja/clean, each with 1 s before and 10 s after, in white and
    pink noise at 20, 10 and 5 dB SNR over the whole recording, and on 8.5 s of each noise alone:
    from 4.0 to 4.75 dB every answer's start was found (within 0.3 s) and every answer ended by silence,
    1.14-1.23 s after the speech (median; p95 at most 1.26 s), and the noise alone never started one.
    Below, single pink-noise frames pass as speech (3.5 dB: an answer held open 0.9 s longer; 3 dB: also
    a false start); above, the softest words at 5 dB SNR are lost (5 dB: a start found late; 6.5 dB:
    answers missed). 4.5 dB keeps a full 1 dB over the highest 90 ms level of pink noise above its floor
    (3.4 dB), as real rooms are less steady than synthetic noise. Without the check, every answer in white
    noise at 5 dB or pink noise at 10 and 5 dB SNR started on the noise and ran to max_utterance, and in
    white noise at 10 dB 178 of 188 "answers" were noise that ended before the person spoke."""
    noise_window: float = 3.0
    """Seconds over which the quietest level is the noise floor: it must be longer than any stretch of
    speech without a pause, or the floor climbs into the speech. Answers slowed three times (WSOLA) in
    noise at 5 dB SNR: a 0.3 s window cut 8 of 64 before the speaker had finished, 1-2 s left as little
    as 0.03 s to spare, 3 s at least 0.43 s. A louder room is learned this long after it starts (a
    quieter one at once)."""

    def __post_init__(self) -> None:
        for name in ("trailing_silence", "speech_start", "start_window", "noise_window"):
            if not getattr(self, name) > 0:
                raise SettingsError(f"endpoint setting {name} must be a positive number of seconds")
        for name in ("no_input", "max_utterance"):
            value = getattr(self, name)
            if value is not None and not value > 0:
                raise SettingsError(
                    f"endpoint setting {name} must be positive seconds, or null to turn it off"
                )
        if self.speech_start > self.start_window:
            raise SettingsError("endpoint setting speech_start must not be longer than start_window")
        if self.pre_roll < 0:
            raise SettingsError("endpoint setting pre_roll must be 0 or more seconds")
        if not self.noise_margin_db >= 0:
            raise SettingsError("endpoint setting noise_margin_db must be 0 or more dB")

    def scaled(self, factor: float) -> EndpointSettings:
        """Every timer multiplied by `factor` (e.g. 10 for a person who needs much more time)."""

        def times(value: float | None) -> float | None:
            return None if value is None else value * factor

        return replace(
            self,
            trailing_silence=self.trailing_silence * factor,
            no_input=times(self.no_input),
            max_utterance=times(self.max_utterance),
        )


class State(Enum):
    WAITING = "waiting"
    """No speech yet."""
    SPEAKING = "speaking"
    DONE = "done"
    """An end event was given; further audio is ignored until reset()."""


@dataclass(frozen=True)
class SpeechStarted:
    time: float
    """Audio time of the first voiced frame."""
    detected_time: float


@dataclass(frozen=True)
class EndOfSpeech:
    speech_end_time: float
    """Audio time the last voiced frame ended."""
    detected_time: float
    """speech_end_time + trailing silence: when the kiosk knew."""


@dataclass(frozen=True)
class NoInput:
    time: float


@dataclass(frozen=True)
class MaxLength:
    time: float
    speech_start_time: float


Event = SpeechStarted | EndOfSpeech | NoInput | MaxLength


def _frames(seconds: float) -> int:
    return max(1, math.ceil(seconds / FRAME_SECONDS - 1e-9))


class Endpointer:
    """Feeds on canonical chunks; tells when speech starts and ends; keeps the utterance's audio."""

    def __init__(
        self, settings: EndpointSettings | None = None, detector: VoiceDetector | None = None
    ) -> None:
        self.settings = s = settings or EndpointSettings()
        self.detector = detector or SpeechDetector(
            s.vad_mode, s.min_level_dbfs, s.noise_margin_db, _frames(s.noise_window)
        )
        self.reset()

    def reset(self) -> None:
        """Start listening afresh (a new question)."""
        s = self.settings
        self._adaptive = self.detector if isinstance(self.detector, AdaptiveDetector) else None
        if self._adaptive is not None:
            self._adaptive.reset()  # a quieter room heard for the last answer would make this one's noise speech
        self.state = State.WAITING
        self.speech_start_time: float | None = None
        self._frame_count = 0
        self._pending = bytearray()
        window, pre = _frames(s.start_window), round(s.pre_roll / FRAME_SECONDS)
        self._window: deque[bool] = deque(maxlen=window)
        self._recent: deque[bytes] = deque(maxlen=window + pre)
        self._start_frames = _frames(s.speech_start)
        self._utterance: list[bytes] = []
        self._drained = 0
        self._last_voiced_end = 0.0
        self._start_frame = 0
        limit = s.max_utterance if s.max_utterance is not None else MEMORY_CAP_SECONDS
        self._max_frames = _frames(min(limit, MEMORY_CAP_SECONDS))

    @property
    def done(self) -> bool:
        """An end event was given (reset() to listen again)."""
        return self.state is State.DONE

    @property
    def time(self) -> float:
        """Seconds of audio processed so far."""
        return round(self._frame_count * FRAME_SECONDS, 6)  # 6 digits: 0.03 * n is not exact in binary

    @property
    def last_voiced_end(self) -> float:
        """Audio time the last voiced frame of the utterance ended (its start time until speech starts)."""
        return self._last_voiced_end

    def feed(self, chunk: AudioChunk) -> Event | None:
        """Process a chunk; the last event it caused (an end event is always the last), or None."""
        events = self.process(chunk)
        return events[-1] if events else None

    def process(self, chunk: AudioChunk) -> list[Event]:
        """Process a chunk of any length; every event it caused, in order."""
        if not chunk.is_canonical:
            raise AudioError(
                f"the endpointer needs 16 kHz mono 16-bit audio, got {chunk.rate} Hz, {chunk.channels} "
                f"channel(s), {chunk.width * 8} bits; convert it with kiosk.audio.resample.Converter"
            )
        if self.state is State.DONE:
            return []
        self._pending += chunk.audio
        events: list[Event] = []
        while len(self._pending) >= FRAME_BYTES and not self.done:
            frame = bytes(self._pending[:FRAME_BYTES])
            del self._pending[:FRAME_BYTES]
            event = self._frame(frame)
            if event is not None:
                events.append(event)
        return events

    def end_of_input(self) -> Event | None:
        """The audio source ended (e.g. the file): close the utterance or report no input."""
        if self.state is State.SPEAKING:
            self.state = State.DONE
            return EndOfSpeech(self._last_voiced_end, self.time)
        if self.state is State.WAITING:
            self.state = State.DONE
            return NoInput(self.time)
        return None

    def _frame(self, frame: bytes) -> Event | None:
        voiced = self.detector.is_speech(frame)
        self._frame_count += 1
        if self.state is State.WAITING:
            return self._waiting(frame, voiced)
        return self._speaking(frame, voiced)

    def _waiting(self, frame: bytes, voiced: bool) -> Event | None:
        self._window.append(voiced)
        self._recent.append(frame)
        votes = self._adaptive.hindsight(self._window) if self._adaptive is not None else list(self._window)
        if sum(votes) >= self._start_frames:
            return self._start(votes)
        if self.settings.no_input is not None and self.time >= self.settings.no_input - 1e-9:
            self.state = State.DONE
            return NoInput(self.time)
        return None

    def _start(self, votes: list[bool]) -> SpeechStarted:
        first_voiced = len(votes) - votes.index(True)  # frames back from now
        start = self.time - first_voiced * FRAME_SECONDS
        keep = first_voiced + round(self.settings.pre_roll / FRAME_SECONDS)
        self._utterance = list(self._recent)[-keep:]
        self.state = State.SPEAKING
        self.speech_start_time = round(start, 6)
        self._start_frame = self._frame_count - first_voiced
        self._last_voiced_end = self.time
        return SpeechStarted(self.speech_start_time, self.time)

    def _speaking(self, frame: bytes, voiced: bool) -> Event | None:
        self._utterance.append(frame)
        if voiced:
            self._last_voiced_end = self.time
        if self.time - self._last_voiced_end >= self.settings.trailing_silence - 1e-9:
            self.state = State.DONE
            return EndOfSpeech(self._last_voiced_end, self.time)
        if self._frame_count - self._start_frame >= self._max_frames:
            self.state = State.DONE
            return MaxLength(self.time, self.speech_start_time or 0.0)
        return None

    def drain(self) -> AudioChunk | None:
        """Utterance audio not handed out yet (pre-roll included), to stream into a recognizer live."""
        if self._drained >= len(self._utterance):
            return None
        audio = b"".join(self._utterance[self._drained :])
        self._drained = len(self._utterance)
        return AudioChunk(RATE, WIDTH, CHANNELS, audio)

    @property
    def utterance(self) -> AudioChunk:
        """All audio of the utterance so far: pre-roll, speech and the trailing silence heard."""
        return AudioChunk(RATE, WIDTH, CHANNELS, b"".join(self._utterance))
