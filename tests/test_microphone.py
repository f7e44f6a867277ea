"""The microphone, against a fake sounddevice module (the one device stand-in these tests use)."""

from __future__ import annotations

import importlib.abc
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from kiosk.audio.chunk import RATE
from kiosk.audio.microphone import Microphone, find_device, list_devices, load_backend
from kiosk.audio.wav import wav_to_chunks, write_wav
from kiosk.errors import AudioError


class FakePortAudioError(Exception):
    pass


class FakeStream:
    """Records how it was opened; the test pushes blocks as PortAudio's thread would."""

    def __init__(self, fake: FakeSoundDevice, **kwargs: Any) -> None:
        self.kwargs = kwargs
        self.started = self.closed = False
        fake.streams.append(self)

    def start(self) -> None:
        self.started = True

    def stop(self) -> None:
        self.started = False

    def close(self) -> None:
        self.closed = True

    def push(self, block: np.ndarray) -> None:
        self.kwargs["callback"](block.astype(np.float32), len(block), None, None)

    def disappear(self) -> None:
        self.kwargs["finished_callback"]()


class FakeSoundDevice:
    """The parts of the sounddevice module the microphone uses."""

    PortAudioError = FakePortAudioError

    def __init__(
        self,
        devices: Sequence[dict[str, Any]],
        default_input: int = -1,
        supported: set[tuple[int, int, int]] | None = None,
        open_error: bool = False,
    ) -> None:
        self.devices = list(devices)
        self.default = type("Default", (), {"device": [default_input, -1]})()
        self.supported = supported
        self.open_error = open_error
        self.streams: list[FakeStream] = []

    def query_devices(self) -> list[dict[str, Any]]:
        return self.devices

    def check_input_settings(self, device: int, channels: int, samplerate: int, dtype: str) -> None:
        if self.supported is not None and (device, samplerate, channels) not in self.supported:
            raise FakePortAudioError("Invalid sample rate")

    def InputStream(self, **kwargs: Any) -> FakeStream:  # mirrors sounddevice
        if self.open_error:
            raise FakePortAudioError("Device unavailable")
        return FakeStream(self, **kwargs)


def device(name: str, inputs: int = 1, rate: int = 48000) -> dict[str, Any]:
    return {"name": name, "max_input_channels": inputs, "max_output_channels": 2, "default_samplerate": rate}


HDMI = device("HDMI 0 output", inputs=0)
USB = device("USB PnP Sound Device: Audio (hw:1,0)", inputs=1, rate=44100)
ARRAY = device("ReSpeaker 4 Mic Array", inputs=6, rate=48000)


def fake_backend(**kwargs: Any) -> FakeSoundDevice:
    return FakeSoundDevice([HDMI, USB, ARRAY], default_input=1, **kwargs)


def tone(seconds: float, rate: int, channels: int = 1, hz: float = 440.0) -> np.ndarray:
    t = np.arange(round(seconds * rate)) / rate
    mono = 0.5 * np.sin(2 * np.pi * hz * t)
    return np.repeat(mono[:, None], channels, axis=1).astype(np.float32)


def blocks(frames: np.ndarray, size: int) -> list[np.ndarray]:
    return [frames[i : i + size] for i in range(0, len(frames), size)]


def test_only_input_devices_are_listed() -> None:
    found = list_devices(fake_backend())
    assert [(d.index, d.name, d.channels, d.default_rate, d.is_default) for d in found] == [
        (1, USB["name"], 1, 44100, True),
        (2, ARRAY["name"], 6, 48000, False),
    ]


def test_a_device_is_chosen_by_name_part_index_or_default() -> None:
    backend = fake_backend()
    assert find_device("respeaker", backend).index == 2
    assert find_device(2, backend).index == 2
    assert find_device(None, backend).index == 1
    with pytest.raises(AudioError, match=r"no microphone matches 'blue yeti'.*1: USB PnP"):
        find_device("blue yeti", backend)
    with pytest.raises(AudioError, match="no microphone has device number 0"):
        find_device(0, backend)  # an output-only device


def test_a_setting_of_digits_only_is_the_device_number_not_part_of_a_name() -> None:
    backend = fake_backend()  # 0: HDMI 0 output (no input), 1: USB PnP ... (hw:1,0), 2: ReSpeaker 4 Mic Array
    assert find_device("2", backend).index == 2  # no name contains a 2
    assert find_device(" 1 ", backend).index == 1
    assert find_device("２", backend).index == 2  # full-width, as a Japanese keyboard types it
    with pytest.raises(AudioError, match=r"no microphone has device number 4 \(there is no audio device 4\); "
                                         r"the input devices are: 1: USB PnP.*, 2: ReSpeaker.*set \[listen\] "
                                         "input_device to one of these numbers"):
        find_device("4", backend)  # not "ReSpeaker 4 Mic Array"
    with pytest.raises(AudioError, match=r"device number 0 \(device 0 'HDMI 0 output' has no input"):
        find_device("0", backend)  # not the "0" in "hw:1,0"
    microphone = Microphone("2", backend=backend)  # the setting's string, as the kiosk passes it
    microphone.start()
    try:
        assert microphone.device is not None and microphone.device.index == 2
        assert backend.streams[-1].kwargs["device"] == 2
    finally:
        microphone.stop()


def test_no_input_device_says_what_to_do() -> None:
    with pytest.raises(AudioError, match=r"no microphone found; connect one or run `kiosk replay FOLDER`"):
        Microphone(backend=FakeSoundDevice([HDMI])).start()


def test_16k_mono_is_used_when_the_device_supports_it(tmp_path: Path) -> None:
    backend = fake_backend()
    samples = (tone(1.0, RATE)[:, 0] * 32767).astype("<i2")
    write_wav(tmp_path / "ref.wav", samples.tobytes())
    with Microphone("USB", backend=backend) as mic:
        stream = backend.streams[0]
        assert (stream.kwargs["samplerate"], stream.kwargs["channels"], stream.kwargs["blocksize"]) == (
            RATE,
            1,
            480,
        )
        for block in blocks(samples.astype(np.float32)[:, None] / 32768, 480):
            stream.push(block)
        got = [mic.read(timeout=1.0) for _ in range(RATE // 480)]
    expected = list(wav_to_chunks(tmp_path / "ref.wav"))
    assert [c.audio if c else None for c in got] == [c.audio for c in expected[: len(got)]]
    assert stream.closed


def test_another_rate_and_stereo_are_converted_to_16k_mono() -> None:
    backend = fake_backend(supported={(2, 48000, 2)})
    with Microphone("array", backend=backend) as mic:
        stream = backend.streams[0]
        assert (stream.kwargs["samplerate"], stream.kwargs["channels"], stream.kwargs["blocksize"]) == (
            48000,
            2,
            1440,
        )

        def feed() -> None:
            for block in blocks(tone(1.0, 48000, 2), 1440):
                stream.push(block)

        feeder = threading.Thread(target=feed)
        feeder.start()  # PortAudio calls back on its own thread
        chunks = []
        while (chunk := mic.read(timeout=0.5)) is not None:
            chunks.append(chunk)
        feeder.join()
    assert mic.rate == 48000
    assert all(c.is_canonical and len(c.audio) == 960 for c in chunks)
    samples = np.frombuffer(b"".join(c.audio for c in chunks), dtype="<i2") / 32768
    assert len(samples) == pytest.approx(RATE, abs=960 + 200)  # less the resampler's delay
    peak = np.argmax(np.abs(np.fft.rfft(samples))) * RATE / len(samples)
    assert peak == pytest.approx(440, abs=3)
    assert np.sqrt(np.mean(samples[2000:] ** 2)) == pytest.approx(0.5 / np.sqrt(2), rel=0.03)


def test_no_supported_format_is_an_audio_error() -> None:
    with pytest.raises(AudioError, match="accepts none of the tried formats; list the devices with"):
        Microphone("USB", backend=fake_backend(supported=set())).start()


def test_open_failure_is_an_audio_error() -> None:
    with pytest.raises(AudioError, match="cannot open microphone 'USB PnP.*Device unavailable"):
        Microphone(backend=fake_backend(open_error=True)).start()


def test_muted_input_is_dropped_and_unmute_discards_the_backlog() -> None:
    backend = fake_backend()
    loud, quiet = np.full((480, 1), 0.5, np.float32), np.full((480, 1), 0.01, np.float32)
    with Microphone(backend=backend) as mic:
        stream = backend.streams[0]
        stream.push(loud)  # the prompt's first syllable, caught before mute() took effect
        mic.mute()
        assert mic.muted
        for _ in range(20):
            stream.push(loud)  # the kiosk's own voice
        assert mic.read(timeout=0.1) is None
        mic.unmute()
        stream.push(quiet)  # the person
        chunk = mic.read(timeout=1.0)
    assert chunk is not None
    assert set(np.frombuffer(chunk.audio, dtype="<i2")) == {328}  # 0.01 * 32768, none of the prompt


def test_a_slow_reader_loses_the_oldest_audio_not_the_newest() -> None:
    backend = fake_backend()
    with Microphone(backend=backend, queue_seconds=0.09) as mic:
        for level in range(10):
            backend.streams[0].push(np.full((480, 1), level / 100, np.float32))
        first = mic.read(timeout=1.0)
    assert mic.dropped == 7
    assert first is not None and np.frombuffer(first.audio, dtype="<i2")[0] == round(0.07 * 32768)


def test_a_device_that_disappears_raises_with_advice() -> None:
    backend = fake_backend()
    with Microphone(backend=backend) as mic:
        backend.streams[0].push(np.zeros((480, 1), np.float32))
        backend.streams[0].disappear()
        assert mic.read(timeout=1.0) is not None  # audio already captured is still delivered
        with pytest.raises(AudioError, match=r"stopped \(disconnected\?\); reconnect it .*kiosk replay"):
            mic.read(timeout=1.0)


def test_a_device_that_goes_silent_raises_after_the_stall_time() -> None:
    backend = fake_backend()
    with Microphone(backend=backend, stall_seconds=0.2) as mic:
        started = time.monotonic()
        with pytest.raises(AudioError, match="delivers no audio"):
            mic.read()
    assert 0.2 <= time.monotonic() - started < 2.0


def test_reading_before_start_is_an_error() -> None:
    with pytest.raises(AudioError, match="not started"):
        Microphone(backend=fake_backend()).read(timeout=0.1)


class _Broken(importlib.abc.MetaPathFinder):
    def __init__(self, error: Exception) -> None:
        self.error = error

    def find_spec(self, name: str, path: Any, target: Any = None) -> Any:
        if name == "sounddevice":
            raise self.error
        return None


@pytest.mark.parametrize(
    ("error", "advice"),
    [
        (OSError("PortAudio library not found"), "sudo apt-get install libportaudio2"),
        (ImportError("No module named 'sounddevice'"), "pip install sounddevice"),
    ],
)
def test_missing_libraries_say_what_to_install(
    monkeypatch: pytest.MonkeyPatch, error: Exception, advice: str
) -> None:
    monkeypatch.delitem(sys.modules, "sounddevice", raising=False)
    monkeypatch.setattr(sys, "meta_path", [_Broken(error), *sys.meta_path])
    with pytest.raises(AudioError, match=advice):
        load_backend()


def test_this_machine_without_a_sound_card_gets_the_no_microphone_advice() -> None:
    try:
        backend = load_backend()
    except AudioError as exc:
        pytest.skip(f"real sounddevice unusable here: {exc}")
    if list_devices(backend):
        pytest.skip("this machine has a microphone")
    with pytest.raises(AudioError, match="no microphone found"):
        Microphone().start()


class _FakePlayer:
    """The parts of the sounddevice module the speaker uses."""

    def __init__(self) -> None:
        self.devices: list[Any] = []

    def play(self, samples: Any, *, samplerate: int, device: Any, blocking: bool) -> None:
        self.devices.append(device)

    def wait(self) -> None:
        pass


@pytest.mark.parametrize(("setting", "device"), [("2", 2), ("0", 0), ("２", 2), ("USB", "USB"), ("", None)])
def test_the_speaker_setting_of_digits_is_the_device_number(setting: str, device: Any) -> None:
    from kiosk.audio.speaker import SpeakerOutput

    player = _FakePlayer()
    SpeakerOutput(setting, backend=player).start(b"\0\0" * 160)
    assert player.devices == [device]  # "0" is device 0, not the system default
