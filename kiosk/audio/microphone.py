"""The microphone: live capture as the same canonical chunk stream that `wav_to_chunks` gives.

PortAudio calls back on its own thread; the callback only copies the block into a bounded queue, and
the reader converts (resample + mix) on its own thread, so a slow consumer can never stall the driver.
`sounddevice` is imported lazily and can be replaced by any module-like `backend` (tests use a fake).
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self

import numpy as np

from kiosk.audio.chunk import CHANNELS, RATE, WIDTH, AudioChunk
from kiosk.audio.resample import Converter, Floats
from kiosk.errors import AudioError

log = logging.getLogger(__name__)

NO_MICROPHONE = "no microphone found; connect one or run `kiosk replay FOLDER` to use recorded answers"
LIST_HINT = "list the devices with: python -m sounddevice"


@dataclass(frozen=True)
class DeviceInfo:
    """An input device as PortAudio reports it."""

    index: int
    name: str
    channels: int
    default_rate: int
    is_default: bool


def load_backend() -> Any:
    """Import sounddevice, turning a missing library into advice."""
    try:
        import sounddevice
    except OSError:  # sounddevice imports fine but cannot find the PortAudio shared library
        raise AudioError("PortAudio missing: sudo apt-get install libportaudio2") from None
    except ImportError:
        raise AudioError("sounddevice missing: .venv/bin/pip install sounddevice") from None
    return sounddevice


def _default_input(backend: Any) -> int:
    try:
        return int(backend.default.device[0])
    except (TypeError, ValueError, IndexError):
        return -1


def list_devices(backend: Any = None) -> list[DeviceInfo]:
    """Every input device, for diagnostics and for choosing one by name."""
    backend = backend or load_backend()
    default = _default_input(backend)
    try:
        devices = list(backend.query_devices())
    except backend.PortAudioError as exc:
        raise AudioError(f"cannot list audio devices ({exc}); check that the sound system runs") from None
    return [
        DeviceInfo(
            i, str(d["name"]), int(d["max_input_channels"]), int(d["default_samplerate"]), i == default
        )
        for i, d in enumerate(devices)
        if int(d["max_input_channels"]) > 0
    ]


def device_index(selector: str | int) -> int | None:
    """The device index a selector means: an int, or a setting of digits only ("2", " 2 ", full-width "２")."""
    if isinstance(selector, int):
        return selector
    text = selector.strip()
    return int(text) if text.isdecimal() else None  # int() reads full-width digits too


def find_device(selector: str | int | None, backend: Any = None) -> DeviceInfo:
    """The input device by index (an int, or a string of digits only), by case-insensitive name part, or the
    system default (None).

    "2" is device index 2 as PortAudio numbers the devices (`kiosk doctor` lists them), never a name that
    merely contains a 2 such as "hw:2,0" or "USB Audio 2".
    """
    backend = backend or load_backend()
    devices = list_devices(backend)
    if not devices:
        raise AudioError(NO_MICROPHONE)
    if selector is None:
        return next((d for d in devices if d.is_default), devices[0])
    names = ", ".join(f"{d.index}: {d.name}" for d in devices)
    index = device_index(selector)
    if index is not None:
        match = [d for d in devices if d.index == index]
        if not match:
            raise AudioError(f"no microphone has device number {index} ({_why_not_input(index, backend)}); "
                             f"the input devices are: {names}; set [listen] input_device to one of these "
                             "numbers or to a part of the name")
        return match[0]
    match = [d for d in devices if str(selector).lower() in d.name.lower()]
    if not match:
        raise AudioError(f"no microphone matches {selector!r}; the input devices are: {names}")
    if len(match) > 1:
        log.info("%d devices match %r; using %s", len(match), selector, match[0].name)
    return match[0]


def _why_not_input(index: int, backend: Any) -> str:
    try:
        devices = list(backend.query_devices())
    except Exception:
        devices = []
    if 0 <= index < len(devices):
        return f"device {index} '{devices[index]['name']}' has no input, it is a speaker or other output"
    return f"there is no audio device {index}"


def choose_format(device: DeviceInfo, backend: Any) -> tuple[int, int]:
    """(rate, channels) the device accepts: 16 kHz mono if possible, else its default rate and layout."""
    candidates = [(RATE, 1), (device.default_rate, 1)]
    if device.channels > 1:
        candidates += [(RATE, min(2, device.channels)), (device.default_rate, min(2, device.channels))]
    for rate, channels in dict.fromkeys(candidates):
        try:
            backend.check_input_settings(
                device=device.index, channels=channels, samplerate=rate, dtype="float32"
            )
            return rate, channels
        except (backend.PortAudioError, ValueError):
            continue
    raise AudioError(f"microphone '{device.name}' accepts none of the tried formats; {LIST_HINT}")


class Microphone:
    """Captures from one input device; `read()` returns canonical chunks of `chunk_seconds`.

    `mute()` may be called from any thread; `read()` and `unmute()` belong to the one reading thread.
    """

    def __init__(
        self,
        device: str | int | None = None,
        *,
        chunk_seconds: float = 0.03,
        queue_seconds: float = 5.0,
        stall_seconds: float = 2.0,
        backend: Any = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.selector = device
        self.chunk_bytes = max(1, round(chunk_seconds * RATE)) * WIDTH * CHANNELS
        self.chunk_seconds = chunk_seconds
        self.stall_seconds = stall_seconds
        self.dropped = 0
        """Blocks thrown away because the reader fell behind by more than `queue_seconds`."""
        self._queue: queue.Queue[Floats] = queue.Queue(maxsize=max(1, round(queue_seconds / chunk_seconds)))
        self._backend = backend
        self._clock = clock
        self._muted = threading.Event()
        self._finished = threading.Event()
        self._heartbeat = 0.0
        self._buffer = bytearray()
        self._stream: Any = None
        self._converter: Converter | None = None
        self.device: DeviceInfo | None = None
        self.rate = RATE

    def start(self) -> None:
        """Open the device and begin capturing."""
        backend = self._backend = self._backend or load_backend()
        device = self.device = find_device(self.selector, backend)
        self.rate, channels = choose_format(device, backend)
        self._converter = Converter(self.rate, f"microphone '{device.name}'")
        self._finished.clear()
        self._drain()
        self._buffer.clear()
        self._heartbeat = self._clock()
        try:
            self._stream = backend.InputStream(
                samplerate=self.rate,
                blocksize=max(1, round(self.chunk_seconds * self.rate)),
                device=device.index,
                channels=channels,
                dtype="float32",
                callback=self._callback,
                finished_callback=self._finished.set,
            )
            self._stream.start()
        except backend.PortAudioError as exc:
            raise AudioError(f"cannot open microphone '{device.name}' ({exc}); {LIST_HINT}") from None
        log.info("microphone '%s' open at %d Hz, %d channel(s)", device.name, self.rate, channels)

    def stop(self) -> None:
        """Stop capturing and release the device; safe to call twice."""
        stream, self._stream = self._stream, None
        if stream is not None:
            try:
                stream.stop()
                stream.close()
            except self._backend.PortAudioError as exc:  # the device may already be gone
                log.warning("closing the microphone failed: %s", exc)

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def muted(self) -> bool:
        return self._muted.is_set()

    def mute(self) -> None:
        """Drop input from now on (the kiosk is speaking and must not hear its own prompt)."""
        self._muted.set()

    def unmute(self) -> None:
        """Listen again, discarding whatever was captured before, including the resampler's memory."""
        self._drain()
        self._buffer.clear()
        if self._converter is not None:
            self._converter = Converter(self._converter.in_rate, self._converter_source())
        self._muted.clear()

    def _converter_source(self) -> str:
        return f"microphone '{self.device.name}'" if self.device else "microphone"

    def _drain(self) -> None:
        try:
            while True:
                self._queue.get_nowait()
        except queue.Empty:
            pass

    def _callback(self, indata: Any, frames: int, when: Any, status: Any) -> None:
        # PortAudio's thread: no conversion, no logging, no blocking; the buffer is reused, so copy.
        self._heartbeat = self._clock()
        if self._muted.is_set():
            return
        block = np.array(indata, dtype=np.float32, copy=True)
        try:
            self._queue.put_nowait(block)
        except queue.Full:
            self.dropped += 1
            try:  # keep the newest audio: the person is speaking now, not five seconds ago
                self._queue.get_nowait()
                self._queue.put_nowait(block)
            except (queue.Empty, queue.Full):
                pass

    def _check_alive(self) -> None:
        name = self.device.name if self.device else "microphone"
        if self._stream is None:
            raise AudioError("the microphone is not started; call Microphone.start() first")
        advice = "reconnect it and restart the kiosk, or run `kiosk replay FOLDER` to use recorded answers"
        if self._finished.is_set() and self._queue.empty():
            raise AudioError(f"microphone '{name}' stopped (disconnected?); {advice}")
        if self._clock() - self._heartbeat > self.stall_seconds:
            raise AudioError(f"microphone '{name}' delivers no audio (disconnected?); {advice}")

    def read(self, timeout: float | None = None) -> AudioChunk | None:
        """The next canonical chunk; None if `timeout` seconds pass (e.g. while muted).

        Raises AudioError when the device fails, disappears or stops delivering audio.
        """
        deadline = None if timeout is None else self._clock() + timeout
        while len(self._buffer) < self.chunk_bytes:
            self._check_alive()
            try:
                block = self._queue.get(timeout=0.05)
            except queue.Empty:
                if deadline is not None and self._clock() >= deadline:
                    return None
                continue
            if self._muted.is_set() or self._converter is None:
                continue
            self._buffer += self._converter.convert(block)
        chunk = bytes(self._buffer[: self.chunk_bytes])
        del self._buffer[: self.chunk_bytes]
        return AudioChunk(RATE, WIDTH, CHANNELS, chunk)

    def chunks(self) -> Iterator[AudioChunk]:
        """Chunks forever (until the device fails), exactly like `wav_to_chunks` gives a file."""
        while True:
            chunk = self.read()
            if chunk is not None:
                yield chunk
