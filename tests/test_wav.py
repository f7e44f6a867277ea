"""WAV reading: every common encoding becomes canonical chunks; every bad file a clear AudioError."""

from __future__ import annotations

import logging
import shutil
import struct
import subprocess
import tracemalloc
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kiosk.audio.chunk import RATE
from kiosk.audio.wav import read_wav, read_wav_info, wav_to_chunks, write_wav
from kiosk.errors import AudioError

needs_sox = pytest.mark.skipif(shutil.which("sox") is None, reason="sox missing: sudo apt-get install sox")


def sox_tone(path: Path, rate: int, channels: int, bits: int, encoding: str, seconds: float = 0.5) -> Path:
    """A 440 Hz tone at half scale, written by sox in the requested encoding."""
    subprocess.run(
        [
            "sox",
            "-n",
            "-r",
            str(rate),
            "-c",
            str(channels),
            "-b",
            str(bits),
            "-e",
            encoding,
            str(path),
            "synth",
            str(seconds),
            "sine",
            "440",
            "vol",
            "0.5",
        ],
        check=True,
        capture_output=True,
    )
    return path


def riff(fmt: bytes, data: bytes, declared: int | None = None, extra: bytes = b"") -> bytes:
    """A WAV file built by hand, so headers can be made wrong on purpose."""
    size = len(data) if declared is None else declared
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt + extra
    body += b"data" + struct.pack("<I", size) + data
    return b"RIFF" + struct.pack("<I", len(body)) + body


def fmt_chunk(
    encoding: int = 1, channels: int = 1, rate: int = 16000, bits: int = 16, block_align: int | None = None
) -> bytes:
    align = channels * bits // 8 if block_align is None else block_align
    return struct.pack("<HHIIHH", encoding, channels, rate, (rate * align) & 0xFFFFFFFF, align, bits)


def tone_properties(path: Path) -> tuple[float, float, float]:
    """(seconds, dominant frequency, RMS in full-scale units) of the canonical audio of `path`."""
    audio = read_wav(path)
    samples = np.frombuffer(audio.audio, dtype="<i2").astype(np.float64) / 32768
    spectrum = np.abs(np.fft.rfft(samples))
    peak = float(np.argmax(spectrum)) * RATE / len(samples)
    return audio.seconds, peak, float(np.sqrt(np.mean(samples**2)))


@needs_sox
@pytest.mark.parametrize("rate", [8000, 11025, 16000, 22050, 44100, 48000])
def test_rates_become_16k(tmp_path: Path, rate: int) -> None:
    seconds, peak, rms = tone_properties(sox_tone(tmp_path / "t.wav", rate, 1, 16, "signed-integer"))
    assert seconds == pytest.approx(0.5, abs=0.002)
    assert peak == pytest.approx(440, abs=3)
    assert rms == pytest.approx(0.5 / np.sqrt(2), rel=0.03)


@needs_sox
@pytest.mark.parametrize(
    ("bits", "encoding"),
    [
        (8, "unsigned-integer"),
        (16, "signed-integer"),
        (24, "signed-integer"),
        (32, "signed-integer"),
        (32, "floating-point"),
        (64, "floating-point"),
    ],
)
@pytest.mark.parametrize("channels", [1, 2, 6])
def test_widths_encodings_and_channels(tmp_path: Path, bits: int, encoding: str, channels: int) -> None:
    # sox writes WAVE_FORMAT_EXTENSIBLE for more than 16 bits or 2 channels: both paths are covered
    path = sox_tone(tmp_path / "t.wav", 44100, channels, bits, encoding)
    seconds, peak, rms = tone_properties(path)
    assert seconds == pytest.approx(0.5, abs=0.002)
    assert peak == pytest.approx(440, abs=3)
    assert rms == pytest.approx(0.5 / np.sqrt(2), rel=0.05)


def test_numpy_float_wav_matches_values(tmp_path: Path) -> None:
    samples = np.linspace(-0.25, 0.25, 1600, dtype=np.float32)
    path = tmp_path / "f.wav"
    path.write_bytes(riff(fmt_chunk(3, 1, 16000, 32), samples.tobytes()))
    decoded = np.frombuffer(read_wav(path).audio, dtype="<i2") / 32768
    assert np.allclose(decoded, samples, atol=1 / 32768)


def test_nan_and_out_of_range_floats_are_clipped(tmp_path: Path) -> None:
    samples = np.array([np.nan, 2.0, -2.0, np.inf, 0.5], dtype=np.float64)
    path = tmp_path / "f.wav"
    path.write_bytes(riff(fmt_chunk(3, 1, 16000, 64), samples.tobytes()))
    assert list(np.frombuffer(read_wav(path).audio, dtype="<i2")) == [0, 32767, -32768, 32767, 16384]


def test_chunks_have_the_requested_length_like_a_microphone(tmp_path: Path) -> None:
    path = tmp_path / "s.wav"
    write_wav(path, b"\x01\x00" * 16000)
    chunks = list(wav_to_chunks(path, chunk_seconds=0.03))
    assert all(c.is_canonical for c in chunks)
    assert {len(c.audio) for c in chunks[:-1]} == {960}
    assert sum(c.samples for c in chunks) == 16000


def test_write_then_read_round_trip(tmp_path: Path) -> None:
    pcm = np.arange(-1000, 1000, dtype="<i2").tobytes()
    write_wav(tmp_path / "r.wav", pcm)
    assert read_wav(tmp_path / "r.wav").audio == pcm
    with pytest.raises(ValueError):
        write_wav(tmp_path / "odd.wav", b"\x00")


def test_long_file_is_streamed_in_bounded_memory(tmp_path: Path) -> None:
    path = tmp_path / "long.wav"
    minute = (np.random.default_rng(1).standard_normal((48000 * 60, 2)) * 3000).astype("<i2")
    path.write_bytes(riff(fmt_chunk(1, 2, 48000, 16), minute.tobytes()))  # 11.5 MB of samples
    del minute
    tracemalloc.start()
    total = sum(c.samples for c in wav_to_chunks(path))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert total == pytest.approx(16000 * 60, abs=2)
    assert peak < 6_000_000


def test_truncated_data_is_used_with_a_warning(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "cut.wav"
    path.write_bytes(riff(fmt_chunk(), b"\x10\x00" * 8000, declared=2 * 16000))
    with caplog.at_level(logging.WARNING):
        info = read_wav_info(path)
    assert info.truncated and info.frames == 8000
    assert "cut short" in caplog.text
    assert read_wav(path).samples == 8000


def test_streaming_placeholder_size_is_read_as_truncated(tmp_path: Path) -> None:
    path = tmp_path / "stream.wav"
    path.write_bytes(riff(fmt_chunk(), b"\x10\x00" * 100 + b"\x01", declared=0xFFFFFFFF))
    assert read_wav(path).samples == 100  # the odd trailing byte is not a whole sample


def test_a_data_size_left_at_zero_by_a_power_cut_is_read_with_a_warning(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    # What wave/libsndfile leave when the writer never closed the file: data size 0, samples after it.
    path = tmp_path / "cut.wav"
    path.write_bytes(riff(fmt_chunk(), b"\x10\x00" * 800, declared=0))
    with caplog.at_level(logging.WARNING):
        assert read_wav(path).samples == 800
    assert "declares no audio" in caplog.text and "cut.wav" in caplog.text


def test_an_empty_data_chunk_followed_by_another_chunk_is_still_empty(tmp_path: Path) -> None:
    path = tmp_path / "empty.wav"
    path.write_bytes(riff(fmt_chunk(), b"LIST" + struct.pack("<I", 4) + b"INFO", declared=0))
    with pytest.raises(AudioError, match="contains no audio samples"):
        read_wav_info(path)


def test_chunks_before_data_are_skipped(tmp_path: Path) -> None:
    path = tmp_path / "list.wav"
    path.write_bytes(riff(fmt_chunk(), b"\x10\x00" * 50, extra=b"LIST" + struct.pack("<I", 3) + b"abc\x00"))
    assert read_wav(path).samples == 50


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"", "is empty (0 bytes)"),
        (riff(fmt_chunk(), b""), "contains no audio samples"),
        (riff(fmt_chunk(), b"\x00"), "contains no audio samples"),
        (b"ID3\x04\x00\x00\x00\x00\x00\x00" + b"\x00" * 100, "looks like MP3"),
        (b"OggS" + b"\x00" * 100, "looks like Ogg"),
        ("はい、これはテキストです".encode() * 3, "is not a WAV file"),
        (b"just some notes about the test\n", "starts with the text 'just some no"),
        (b"RIFF\x10\x00\x00\x00AVI LIST", "is not a WAV file"),
        (riff(fmt_chunk(6, 1, 8000, 8), b"\xd5" * 800), "A-law"),
        (riff(fmt_chunk(0x55, 1, 16000, 0, block_align=1), b"\x00" * 100), "MP3"),
        (riff(fmt_chunk(1, 0, 16000, 16, block_align=0), b"\x00" * 100), "declares 0 channels"),
        (riff(fmt_chunk(1, 1, 16000, 12), b"\x00" * 100), "12-bit integer"),
        (riff(fmt_chunk(3, 1, 16000, 16), b"\x00" * 100), "16-bit float"),
        (riff(fmt_chunk(1, 2, 16000, 16, block_align=3), b"\x00" * 100), "damaged header"),
        (riff(fmt_chunk(1, 1, 3_000_000_000, 16), b"\x00" * 100), "sample rate"),
        (riff(fmt_chunk()[:12], b"\x00" * 100), "damaged header"),
        (b"RIFF\x04\x00\x00\x00WAVE", "no 'fmt ' chunk"),
        (b"RIFF\x04\x00\x00\x00WAVEfmt \x10\x00\x00\x00" + fmt_chunk(), "no 'data' chunk"),
    ],
)
def test_bad_files_give_a_clear_audio_error(tmp_path: Path, content: bytes, expected: str) -> None:
    path = tmp_path / "bad.wav"
    path.write_bytes(content)
    with pytest.raises(AudioError, match="bad.wav") as error:
        wav_to_chunks(path)  # the header is checked at the call, not at the first chunk
    assert expected in str(error.value)
    assert "record it again" in str(error.value) or f"sox {path} -r 16000 -c 1 -b 16 out.wav" in str(
        error.value
    )


@needs_sox
def test_alaw_written_by_sox_is_rejected_with_the_convert_command(tmp_path: Path) -> None:
    path = sox_tone(tmp_path / "alaw.wav", 8000, 1, 8, "a-law")
    with pytest.raises(AudioError, match=r"A-law WAV.*sox .*alaw\.wav -r 16000 -c 1 -b 16 out\.wav"):
        read_wav(path)


def test_missing_file_is_an_audio_error(tmp_path: Path) -> None:
    with pytest.raises(AudioError, match="cannot be read"):
        read_wav(tmp_path / "nope.wav")


def _read_all(path: Path) -> None:
    try:
        for _ in wav_to_chunks(path):
            pass
    except AudioError:
        pass


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(content=st.binary(max_size=400))
def test_arbitrary_bytes_never_crash(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "fuzz.wav"
    path.write_bytes(content)
    _read_all(path)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    encoding=st.sampled_from([1, 3, 6, 0xFFFE, 0]),
    channels=st.integers(0, 70),
    rate=st.integers(0, 2**32 - 1),
    bits=st.sampled_from([0, 1, 8, 12, 16, 24, 32, 64]),
    align=st.integers(0, 600),
    declared=st.integers(0, 2**32 - 1),
    data=st.binary(max_size=300),
    extra=st.binary(max_size=30),
)
def test_random_headers_never_crash(
    tmp_path: Path,
    encoding: int,
    channels: int,
    rate: int,
    bits: int,
    align: int,
    declared: int,
    data: bytes,
    extra: bytes,
) -> None:
    fmt = struct.pack("<HHIIHH", encoding, channels, rate, 0, align, bits) + extra
    path = tmp_path / "fuzz.wav"
    path.write_bytes(riff(fmt, data, declared=declared))
    _read_all(path)
