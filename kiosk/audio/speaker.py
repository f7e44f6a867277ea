"""Where the kiosk's voice goes: a speaker through sounddevice, or a recording (replay, benchmarks)."""

from __future__ import annotations

import logging
import time
from typing import Any, Protocol

from kiosk.audio.chunk import RATE
from kiosk.errors import AudioError

log = logging.getLogger(__name__)


class AudioOutput(Protocol):
    """Plays canonical PCM (16 kHz mono 16-bit)."""

    def start(self, pcm: bytes) -> None:
        """Begin playing at once and return; a new start() replaces what is playing."""

    def wait(self) -> None:
        """Block until playback has finished."""

    def stop(self) -> None:
        """Stop playing now."""


class SpeakerOutput:
    """The real speaker, through PortAudio."""

    def __init__(self, device: str | int | None = None, backend: Any = None) -> None:
        from kiosk.audio.microphone import device_index

        # "3" is device number 3, as for the microphone; PortAudio would read the text as part of a name.
        index = device_index(device) if isinstance(device, str) and device else None
        self.device: str | int | None = index if index is not None else (device or None)
        if backend is None:
            try:
                import sounddevice

                backend = sounddevice
            except OSError:
                raise AudioError("PortAudio is missing, so no speaker can be used; install it with: "
                                 "sudo apt-get install libportaudio2") from None
        self._sd = backend
        self._end = 0.0

    def start(self, pcm: bytes) -> None:
        import numpy as np

        samples = np.frombuffer(pcm, dtype=np.int16)
        try:
            self._sd.play(samples, samplerate=RATE, device=self.device, blocking=False)
        except Exception as exc:  # PortAudioError and friends: the device went away
            raise AudioError(f"the speaker cannot play ({exc}); check the cable and `kiosk doctor`") from None
        self._end = time.monotonic() + len(samples) / RATE

    def wait(self) -> None:
        try:
            self._sd.wait()
        except Exception as exc:
            raise AudioError(f"the speaker stopped ({exc}); check the cable and `kiosk doctor`") from None

    def stop(self) -> None:
        try:
            self._sd.stop()
        except Exception as exc:
            log.warning("speaker stop failed: %s", exc)


class RecordingOutput:
    """Keeps everything 'played', with the time playback started, instead of sounding it."""

    def __init__(self, clock: Any = time.monotonic) -> None:
        self.clock = clock
        self.played: list[tuple[float, bytes]] = []

    def start(self, pcm: bytes) -> None:
        self.played.append((self.clock(), pcm))

    def wait(self) -> None:
        return None

    def stop(self) -> None:
        return None

    @property
    def audio(self) -> bytes:
        return b"".join(pcm for _, pcm in self.played)
