"""WAV files in and out: any common WAV becomes the same chunk stream a microphone gives.

The stdlib `wave` module rejects IEEE float and WAVE_FORMAT_EXTENSIBLE files, which many recorders
write, so the RIFF chunks are parsed here. Policy for a data chunk shorter than its header declares
(a recording cut off by a power loss, or a streaming writer that left a placeholder size): the audio that
is there is used and a warning is logged, because those samples are valid and a person's recorded answer
should not be thrown away for a missing tail. A data size of 0 with samples after it (a writer that never
closed the file) is read the same way, unless another chunk follows. A file with no samples at all is an
AudioError.
"""

from __future__ import annotations

import logging
import os
import shlex
import struct
import wave
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np

from kiosk.atomicfile import replacing
from kiosk.audio.chunk import CHANNELS, RATE, WIDTH, AudioChunk
from kiosk.audio.resample import Converter, Floats, check_rate
from kiosk.errors import AudioError

log = logging.getLogger(__name__)

PCM = 0x0001
IEEE_FLOAT = 0x0003
EXTENSIBLE = 0xFFFE
_FORMAT_NAMES = {
    0x0002: "Microsoft ADPCM",
    0x0006: "A-law",
    0x0007: "mu-law",
    0x0011: "IMA ADPCM",
    0x0031: "GSM 6.10",
    0x0050: "MPEG",
    0x0055: "MP3",
}
_MAGIC = {
    b"ID3": "MP3",
    b"\xff\xfb": "MP3",
    b"\xff\xf3": "MP3",
    b"\xff\xf2": "MP3",
    b"OggS": "Ogg",
    b"fLaC": "FLAC",
    b"RIFX": "big-endian WAV (RIFX)",
    b"RF64": "RF64 (64-bit WAV)",
    b"FORM": "AIFF",
    b"\x1aE\xdf\xa3": "WebM/Matroska",
    b"#!AMR": "AMR",
}
_SUPPORTED_BITS = {PCM: (8, 16, 24, 32), IEEE_FLOAT: (32, 64)}
_MAX_CHANNELS = 64
_READ_BYTES = 1 << 20
"""Bytes read per step: bounds memory for files of any length."""


@dataclass(frozen=True)
class WavInfo:
    """Where the samples of a WAV file are and how they are encoded."""

    path: str
    encoding: int
    """PCM or IEEE_FLOAT (an EXTENSIBLE file is reported by its sub-format)."""
    rate: int
    channels: int
    bits: int
    data_offset: int
    frames: int
    truncated: bool

    @property
    def block_align(self) -> int:
        return self.channels * self.bits // 8

    @property
    def seconds(self) -> float:
        return self.frames / self.rate


_NEEDS_FFMPEG = {".mp3", ".m4a", ".aac", ".mp4", ".3gp", ".amr", ".wma", ".opus", ".webm", ".mka", ".mkv", ".mov"}
"""Compressed formats a plain sox install cannot read (MP3 needs an extra format library; AAC, WMA and the
video containers none at all): their conversion command uses ffmpeg instead."""


def convert_command(path: str) -> str:
    """A command converting `path` into a 16 kHz mono 16-bit WAV, with the name quoted for a POSIX shell (spaces,
    Japanese or quotes in it survive pasting)."""
    quoted = shlex.quote(path)
    if Path(path).suffix.lower() in _NEEDS_FFMPEG:
        return f"ffmpeg -i {quoted} -ar 16000 -ac 1 -c:a pcm_s16le out.wav"
    return f"sox {quoted} -r 16000 -c 1 -b 16 out.wav"


def _fix(path: str) -> str:
    return f"convert it with: {convert_command(path)}"


def _describe_start(head: bytes) -> str:
    for magic, kind in _MAGIC.items():
        if head.startswith(magic):
            return f"it starts with {head[:4]!r}, which looks like {kind}"
    if head and all(32 <= b < 127 or b in (9, 10, 13) for b in head[:12]):
        return f"it starts with the text {head[:12].decode('ascii')!r}"
    return f"it starts with bytes {head[:12].hex(' ')}"


def _check_riff(head: bytes, path: str) -> None:
    if not head:
        raise AudioError(f"{path} is empty (0 bytes); record it again or {_fix(path)}")
    if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
        raise AudioError(f"{path} is not a WAV file ({_describe_start(head)}); {_fix(path)}")


def _read_chunks(f: BinaryIO, path: str, size: int) -> tuple[bytes | None, int, int]:
    """Walk the RIFF chunks: the fmt body, the data offset and the data length declared (-1 if none)."""
    fmt: bytes | None = None
    data_offset, declared = -1, -1
    while (head := f.read(8)) and len(head) == 8:
        chunk_id, chunk_size = head[:4], struct.unpack("<I", head[4:])[0]
        body_at = f.tell()
        if chunk_id == b"fmt ":
            if not 16 <= chunk_size <= 1024:
                raise AudioError(
                    f"{path} has a damaged header (fmt chunk of {chunk_size} bytes); {_fix(path)}"
                )
            fmt = f.read(chunk_size)
        elif chunk_id == b"data" and data_offset < 0:
            data_offset, declared = body_at, chunk_size
            if fmt is not None:
                break  # everything needed is known; do not read through a long recording
        next_at = body_at + chunk_size + (chunk_size & 1)
        if next_at >= size:
            break
        f.seek(next_at)
    return fmt, data_offset, declared


def _parse_fmt(fmt: bytes, path: str) -> tuple[int, int, int, int]:
    """(encoding, channels, rate, bits) from a fmt chunk body, rejecting what cannot be decoded."""
    if len(fmt) < 16:
        raise AudioError(f"{path} has a damaged header (fmt chunk is cut short); {_fix(path)}")
    encoding, channels, rate, _byte_rate, block_align, bits = struct.unpack("<HHIIHH", fmt[:16])
    if encoding == EXTENSIBLE:
        if len(fmt) < 40:
            raise AudioError(f"{path} has a damaged header (short extensible fmt chunk); {_fix(path)}")
        encoding = struct.unpack("<H", fmt[24:26])[0]  # the first two bytes of the sub-format GUID
    if encoding not in _SUPPORTED_BITS:
        name = _FORMAT_NAMES.get(encoding, f"format code 0x{encoding:04x}")
        raise AudioError(f"{path} is a {name} WAV, which the kiosk cannot decode; {_fix(path)}")
    if bits not in _SUPPORTED_BITS[encoding]:
        kind = "float" if encoding == IEEE_FLOAT else "integer"
        raise AudioError(f"{path} has {bits}-bit {kind} samples, which the kiosk cannot decode; {_fix(path)}")
    if not 1 <= channels <= _MAX_CHANNELS:
        raise AudioError(f"{path} declares {channels} channels; {_fix(path)}")
    if block_align != channels * bits // 8:
        raise AudioError(
            f"{path} has a damaged header ({channels} channels of {bits} bits but {block_align} bytes "
            f"per frame); {_fix(path)}"
        )
    check_rate(rate, path, _fix(path))
    return encoding, channels, rate, bits


def _chunk_follows(name: str, offset: int, available: int) -> bool:
    """Whether the bytes at `offset` are another RIFF chunk (e.g. LIST) rather than samples: then an empty
    data chunk really is empty."""
    try:
        with open(name, "rb") as f:
            f.seek(offset)
            head = f.read(8)
    except OSError:
        return False
    if len(head) < 8 or not all(48 <= b < 58 or 65 <= b < 91 or 97 <= b < 123 or b == 32 for b in head[:4]):
        return False
    size: int = struct.unpack("<I", head[4:])[0]
    return 8 + size <= available


def read_wav_info(path: Path | str) -> WavInfo:
    """Parse and check the header of a WAV file without reading its samples."""
    name = str(path)
    try:
        with open(path, "rb") as f:
            size = os.fstat(f.fileno()).st_size
            _check_riff(f.read(12), name)
            fmt, data_offset, declared = _read_chunks(f, name, size)
    except OSError as exc:
        raise AudioError(f"{name} cannot be read ({exc.strerror or exc}); check the path") from None
    if fmt is None:
        raise AudioError(f"{name} has a damaged header (no 'fmt ' chunk); {_fix(name)}")
    encoding, channels, rate, bits = _parse_fmt(fmt, name)
    if data_offset < 0:
        raise AudioError(f"{name} contains no audio (no 'data' chunk); record it again or {_fix(name)}")
    available = max(0, size - data_offset)
    if declared == 0 and available > 0 and not _chunk_follows(name, data_offset, available):
        # Python's wave module and libsndfile write the data size 0 first and fix it on close: after a power
        # cut the size stays 0 with the samples after it. Like the 0xFFFFFFFF placeholder, use what is there.
        log.warning("%s declares no audio but %d bytes follow its data header (a recording that was never "
                    "closed); using them", name, available)
        declared = 0xFFFFFFFF
    frames = min(declared, available) // (channels * bits // 8)
    if frames == 0:
        raise AudioError(f"{name} contains no audio samples; record it again")
    truncated = declared > available
    if truncated:
        log.warning(
            "%s is cut short: %d of %d audio bytes present; using what is there", name, available, declared
        )
    return WavInfo(name, encoding, rate, channels, bits, data_offset, frames, truncated)


def decode_frames(raw: bytes, info: WavInfo) -> Floats:
    """Raw sample bytes as float frames (samples × channels) in -1..1."""
    if info.encoding == IEEE_FLOAT:
        values = np.frombuffer(raw, dtype="<f4" if info.bits == 32 else "<f8")
        floats = np.nan_to_num(values.astype(np.float32), nan=0.0, posinf=1.0, neginf=-1.0)
    elif info.bits == 8:
        floats = (np.frombuffer(raw, dtype=np.uint8).astype(np.float32) - 128.0) / 128.0
    elif info.bits == 24:
        triples = np.frombuffer(raw, dtype=np.uint8).reshape(-1, 3).astype(np.int32)
        ints = triples[:, 0] | (triples[:, 1] << 8) | (triples[:, 2] << 16)
        ints = np.where(ints >= 1 << 23, ints - (1 << 24), ints)
        floats = ints.astype(np.float32) / np.float32(1 << 23)
    else:
        dtype, scale = ("<i2", 32768.0) if info.bits == 16 else ("<i4", 2147483648.0)
        floats = np.frombuffer(raw, dtype=dtype).astype(np.float32) / np.float32(scale)
    result: Floats = floats.reshape(-1, info.channels).astype(np.float32, copy=False)
    return result


def _canonical_pieces(info: WavInfo) -> Iterator[bytes]:
    """Canonical PCM of the whole file, converted in bounded steps."""
    converter = Converter(info.rate, info.path)
    step = max(1, _READ_BYTES // info.block_align) * info.block_align
    remaining = info.frames * info.block_align
    with open(info.path, "rb") as f:
        f.seek(info.data_offset)
        while remaining > 0:
            raw = f.read(min(step, remaining))
            raw = raw[: len(raw) - len(raw) % info.block_align]
            if not raw:
                break  # the file shrank while being read
            remaining -= len(raw)
            yield converter.convert(decode_frames(raw, info), last=remaining <= 0)


def _rechunk(pieces: Iterator[bytes], chunk_bytes: int) -> Iterator[AudioChunk]:
    buffer = bytearray()
    for piece in pieces:
        buffer += piece
        while len(buffer) >= chunk_bytes:
            yield AudioChunk(RATE, WIDTH, CHANNELS, bytes(buffer[:chunk_bytes]))
            del buffer[:chunk_bytes]
    if buffer:
        yield AudioChunk(RATE, WIDTH, CHANNELS, bytes(buffer))


def wav_to_chunks(path: Path | str, chunk_seconds: float = 0.03) -> Iterator[AudioChunk]:
    """Canonical chunks of `chunk_seconds` (the last may be shorter), exactly like a microphone gives.

    The header is checked now, so a bad file fails at the call rather than at the first chunk.
    """
    if not chunk_seconds > 0:
        raise ValueError(f"chunk_seconds must be positive, got {chunk_seconds}")
    info = read_wav_info(path)
    chunk_bytes = max(1, round(chunk_seconds * RATE)) * WIDTH * CHANNELS
    return _rechunk(_canonical_pieces(info), chunk_bytes)


def read_wav(path: Path | str) -> AudioChunk:
    """The whole file as one canonical chunk (for short recordings)."""
    audio = b"".join(_canonical_pieces(read_wav_info(path)))
    return AudioChunk(RATE, WIDTH, CHANNELS, audio)


def write_wav(path: Path | str, pcm: bytes, rate: int = RATE) -> None:
    """Write 16-bit mono PCM as a WAV file, replacing `path` only once the file is complete."""
    if len(pcm) % WIDTH:
        raise ValueError(f"16-bit PCM must have an even number of bytes, got {len(pcm)}")
    with replacing(path, binary=True) as raw, wave.open(raw, "wb") as out:  # wave leaves `raw` open
        out.setnchannels(CHANNELS)
        out.setsampwidth(WIDTH)
        out.setframerate(rate)
        out.writeframes(pcm)
