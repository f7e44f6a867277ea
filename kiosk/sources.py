"""Where answers come from in a voice session: the microphone, or recorded files in order (replay)."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Protocol

from kiosk.audio.chunk import AudioChunk
from kiosk.audio.microphone import Microphone
from kiosk.audio.wav import wav_to_chunks
from kiosk.errors import AudioError

log = logging.getLogger(__name__)


class AnswerSource(Protocol):
    """Audio for one answer at a time; muted while the kiosk speaks."""

    def next_answer(self) -> Iterator[AudioChunk] | None:
        """Chunks of the next answer (ended by the endpointer), or None when there are no more."""

    def mute(self) -> None: ...

    def unmute(self) -> None: ...

    def recover(self) -> bool:
        """After an AudioError: try to get the device back; False to give up."""


class MicrophoneSource:
    """The live microphone; listening restarts after every prompt."""

    def __init__(self, microphone: Microphone, retries: int = 30) -> None:
        self.microphone = microphone
        self.retries = retries

    def next_answer(self) -> Iterator[AudioChunk] | None:
        return self.microphone.chunks()

    def mute(self) -> None:
        self.microphone.mute()

    def unmute(self) -> None:
        self.microphone.unmute()

    def recover(self) -> bool:
        import time  # noqa: PLC0415

        for _ in range(self.retries):
            try:
                self.microphone.stop()
                self.microphone.start()
                return True
            except AudioError as exc:
                log.warning("microphone still unavailable: %s", exc)
                time.sleep(2.0)
        return False


class FileSource:
    """Recorded answers, one WAV file per answer, in order."""

    def __init__(self, files: Sequence[Path]) -> None:
        self.files = list(files)
        self.used: list[Path] = []

    def next_answer(self) -> Iterator[AudioChunk] | None:
        if not self.files:
            return None
        path = self.files.pop(0)
        self.used.append(path)
        return wav_to_chunks(path)

    def mute(self) -> None:
        return None

    def unmute(self) -> None:
        return None

    def recover(self) -> bool:
        return bool(self.files)  # a bad file is skipped: go on with the next one
