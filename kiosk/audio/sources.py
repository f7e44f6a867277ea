"""Where answers come from in a voice session: the microphone, or recorded files in order (replay)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Protocol

from kiosk.audio.chunk import AudioChunk
from kiosk.audio.microphone import Microphone
from kiosk.audio.wav import wav_to_chunks
from kiosk.errors import AudioError

log = logging.getLogger(__name__)


class AnswerSource(Protocol):
    """Audio for one answer at a time; muted while the kiosk speaks."""

    def next_answer(self, question: str | None = None) -> Iterator[AudioChunk] | None:
        """Chunks of the next answer to `question` (ended by the endpointer), or None when there are no more."""

    def mute(self) -> None: ...

    def unmute(self) -> None: ...

    def recover(self) -> bool:
        """After an AudioError: try to get the device back; False to give up."""


class MicrophoneSource:
    """The live microphone; listening restarts after every prompt."""

    live = True
    """A device: when it fails the session pauses, says so, and waits for it to come back."""

    def __init__(self, microphone: Microphone, retries: int = 30, retry_seconds: float = 2.0,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.microphone = microphone
        self.retries = retries
        """How often to try reopening a lost microphone (30 × 2 s: a minute) before the session ends."""
        self.retry_seconds = retry_seconds
        self.sleep = sleep
        self.gave_up = False
        """True once the microphone did not come back: the kiosk then exits so that its service restarts it."""

    def next_answer(self, question: str | None = None) -> Iterator[AudioChunk] | None:
        return self.microphone.chunks()

    def mute(self) -> None:
        self.microphone.mute()

    def unmute(self) -> None:
        self.microphone.unmute()

    def recover(self) -> bool:
        for attempt in range(self.retries):
            try:
                self.microphone.stop()
                self.microphone.start()
                log.warning("microphone is back after %d attempt(s)", attempt + 1)
                return True
            except AudioError as exc:
                log.warning("microphone still unavailable: %s", exc)
                self.sleep(self.retry_seconds)
        log.error("the microphone did not come back within %d attempts; ending the session", self.retries)
        self.gave_up = True
        return False


def paced(chunks: Iterator[AudioChunk], monotonic: Callable[[], float], sleep: Callable[[float], None],
          ) -> Iterator[AudioChunk]:
    """The chunks at the pace of a microphone: each one once its last sample would have been captured."""
    started = monotonic()
    heard = 0.0
    for chunk in chunks:
        heard += chunk.seconds
        wait = started + heard - monotonic()
        if wait > 0:
            sleep(wait)
        yield chunk


class FileSource:
    """Recorded answers: one WAV file per answer in order, or files keyed by the question they answer.

    Keyed answers survive the kiosk asking again (an unsure "no", a reprompt): the question's remaining
    files are used in order and its last file answers every further asking.
    """

    live = False
    """Files: an unusable one is reported and skipped, and the next file answers instead."""

    def __init__(self, files: Sequence[Path], by_question: Mapping[str, Sequence[Path]] | None = None, *,
                 realtime: bool = False, monotonic: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.realtime = realtime
        """Hand out each chunk only when a microphone would have: turn latency then means what it means live
        (an engine can use the endpointer's trailing-silence wait). Off: as fast as the kiosk takes them."""
        self.monotonic = monotonic
        self.sleep = sleep
        self.files = list(files)
        self.by_question = {q: list(paths) for q, paths in (by_question or {}).items() if paths}
        self.used: list[Path] = []
        self.skipped: list[tuple[Path, str]] = []
        """Files that could not be used, with the reason."""

    def next_answer(self, question: str | None = None) -> Iterator[AudioChunk] | None:
        keyed = self.by_question.get(question or "")
        kept_last = False
        if keyed:
            kept_last = len(keyed) == 1
            path = keyed[0] if kept_last else keyed.pop(0)
        elif self.files:
            path = self.files.pop(0)
        else:
            return None
        self.used.append(path)
        try:
            chunks = wav_to_chunks(path)
        except AudioError as exc:
            self.used.pop()
            self.skipped.append((path, str(exc)))
            if keyed and kept_last:
                # A question's last keyed file is normally kept to answer every further asking; a bad one
                # must be used up, or each asking would fail on it again and the replay never ends.
                keyed.clear()
            raise
        return paced(chunks, self.monotonic, self.sleep) if self.realtime else chunks

    def mute(self) -> None:
        return None

    def unmute(self) -> None:
        return None

    def recover(self) -> bool:
        # The bad file is already used up (next_answer dropped it), so trying again always makes progress:
        # go on while any file is left, ordered or keyed; next_answer ends the session when none answers.
        return bool(self.files) or any(self.by_question.values())
