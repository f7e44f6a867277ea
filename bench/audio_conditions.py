"""Deterministic signal conditions for tests and benchmarks: noise at a given SNR, and slowed-down speech.

All functions take and return canonical PCM (16 kHz mono 16-bit little-endian bytes) and use only numpy.

SNR is measured over the speech-active part only, so leading and trailing silence does not lower it:
the clean signal is cut into 20 ms frames, and the frames whose energy is within ACTIVE_RANGE_DB of the
loudest frame are "active". Speech power = mean square of the active samples; noise power = mean square
of the noise over the whole clip (the noise is stationary and covers the silences too, as a real room
would). SNR = 10·log10(speech power / noise power). This is a simplified form of the ITU-T P.56 active
speech level.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import numpy.typing as npt

from kiosk.audio.chunk import RATE
from kiosk.errors import AudioError

Samples = npt.NDArray[np.float64]
NoiseKind = Literal["white", "pink"]

FRAME = RATE // 50
"""20 ms frames for deciding which part of a clip is speech."""
ACTIVE_RANGE_DB = 40.0
"""Frames quieter than the loudest frame by more than this are silence (weak consonants stay in)."""
FULL_SCALE = 32767.0
PINK_LOW_HZ = 20.0
"""Pink noise has no energy below this: sub-audio rumble would dominate the power but not be heard."""

# WSOLA settings: 40 ms Hann windows at 50 % overlap; the search tolerance (10 ms) covers a full pitch
# period of voices down to 100 Hz, enough to find a waveform-similar splice point.
_WINDOW = 640
_HOP = _WINDOW // 2
_TOLERANCE = 160


def samples_of(pcm: bytes) -> Samples:
    """Canonical PCM bytes as float samples in the int16 scale."""
    if len(pcm) % 2:
        raise AudioError(f"PCM has an odd number of bytes ({len(pcm)}); 16-bit audio needs whole samples")
    return np.frombuffer(pcm, dtype="<i2").astype(np.float64)


def pcm_of(samples: Samples) -> bytes:
    """Float samples in the int16 scale as canonical PCM bytes (rounded, clipped to 16 bits)."""
    return np.clip(np.round(samples), -32768, 32767).astype("<i2").tobytes()


def active_mask(samples: Samples) -> npt.NDArray[np.bool_]:
    """Per-sample mask of the speech-active 20 ms frames (see the module docstring)."""
    frames = max(1, -(-samples.size // FRAME))
    padded = np.zeros(frames * FRAME)
    padded[: samples.size] = samples
    energy = np.mean(padded.reshape(frames, FRAME) ** 2, axis=1)
    loudest = float(energy.max(initial=0.0))
    if loudest == 0.0:
        raise AudioError("the clip is digital silence: there is no speech to measure an SNR against")
    active = energy >= loudest * 10.0 ** (-ACTIVE_RANGE_DB / 10.0)
    return np.repeat(active, FRAME)[: samples.size]


def speech_power(samples: Samples) -> float:
    """Mean square of the speech-active samples."""
    return float(np.mean(samples[active_mask(samples)] ** 2))


def white_noise(n: int, seed: int) -> Samples:
    """Unit-power Gaussian white noise, the same for the same seed."""
    noise: Samples = np.random.default_rng(seed).standard_normal(n)
    return noise / float(np.sqrt(np.mean(noise**2)))


def pink_noise(n: int, seed: int) -> Samples:
    """Unit-power pink (1/f power) noise, shaped from seeded white noise in the frequency domain."""
    spectrum = np.fft.rfft(np.random.default_rng(seed).standard_normal(n))
    freqs = np.fft.rfftfreq(n, d=1.0 / RATE)
    gain = np.zeros_like(freqs)
    audible = freqs >= PINK_LOW_HZ
    gain[audible] = 1.0 / np.sqrt(freqs[audible])
    noise: Samples = np.fft.irfft(spectrum * gain, n=n)
    return noise / float(np.sqrt(np.mean(noise**2)))


def mix(pcm: bytes, noise: Samples, snr_db: float) -> bytes:
    """Add `noise` (any scale, at least as long as the clip) so that the speech-active SNR is `snr_db`.

    If the mix would clip, speech and noise are scaled down together, which keeps the SNR.
    """
    clean = samples_of(pcm)
    if noise.size < clean.size:
        raise AudioError(f"noise has {noise.size} samples but the clip has {clean.size}; give longer noise")
    noise = noise[: clean.size]
    noise_power = float(np.mean(noise**2))
    if noise_power == 0.0:
        raise AudioError("the noise is digital silence; give noise with energy")
    target = speech_power(clean) / 10.0 ** (snr_db / 10.0)
    noisy = clean + noise * np.sqrt(target / noise_power)
    peak = float(np.abs(noisy).max(initial=0.0))
    if peak > FULL_SCALE:
        noisy *= FULL_SCALE / peak
    return pcm_of(noisy)


def add_noise(pcm: bytes, snr_db: float, kind: NoiseKind = "white", seed: int = 0) -> bytes:
    """The clip with seeded white or pink noise added at `snr_db` (speech-active SNR, see module docstring)."""
    n = len(pcm) // 2
    if kind == "white":
        noise = white_noise(n, seed)
    elif kind == "pink":
        noise = pink_noise(n, seed)
    else:
        raise AudioError(f"unknown noise kind {kind!r}; use 'white' or 'pink'")
    return mix(pcm, noise, snr_db)


def measure_snr(clean_pcm: bytes, noisy_pcm: bytes) -> float:
    """The speech-active SNR in dB of `noisy_pcm` relative to the clean clip it was made from.

    The clean part is found by least squares, so a mix that was scaled down to avoid clipping still
    measures right.
    """
    clean, noisy = samples_of(clean_pcm), samples_of(noisy_pcm)
    if clean.size != noisy.size:
        raise AudioError(f"clips differ in length ({clean.size} vs {noisy.size} samples); compare like with like")
    gain = float(np.dot(noisy, clean) / np.dot(clean, clean))
    noise = noisy - gain * clean
    return 10.0 * float(np.log10(speech_power(gain * clean) / np.mean(noise**2)))


def time_stretch(pcm: bytes, factor: float) -> bytes:
    """The clip made `factor` times longer (factor > 1 slows down) at the same pitch, by WSOLA.

    WSOLA (waveform-similarity overlap-add): output frames are taken from the input at the nominal
    position ± 10 ms, choosing the offset whose waveform best continues the previous frame, so the
    pitch periods line up and no phasing or pitch change is heard.
    """
    if not 0.25 <= factor <= 4.0:
        raise AudioError(f"stretch factor {factor} is out of range; use 0.25 to 4.0 (2.0 = twice as long)")
    x = samples_of(pcm)
    if x.size == 0:
        return b""
    analysis_hop = _HOP / factor
    lead = _WINDOW
    padded = np.concatenate([np.zeros(lead), x, np.zeros(_WINDOW * 2 + 2 * _TOLERANCE + int(analysis_hop) + _HOP)])
    out_len = int(round(x.size * factor))
    skip = int(round((lead - _TOLERANCE) * factor))  # output samples made from the leading zeros
    frames = (skip + out_len) // _HOP + 2
    window = np.hanning(_WINDOW + 1)[:-1]  # periodic Hann: overlaps at 50 % sum to exactly 1
    y = np.zeros(frames * _HOP + _WINDOW)
    previous = _TOLERANCE
    for k in range(frames):
        nominal = int(round(k * analysis_hop)) + _TOLERANCE
        if nominal + _TOLERANCE + _WINDOW > padded.size or previous + _HOP + _WINDOW > padded.size:
            break
        if k == 0:
            position = nominal
        else:
            continuation = padded[previous + _HOP : previous + _HOP + _WINDOW]
            region = padded[nominal - _TOLERANCE : nominal + _TOLERANCE + _WINDOW]
            position = nominal - _TOLERANCE + _best_offset(region, continuation)
        y[k * _HOP : k * _HOP + _WINDOW] += window * padded[position : position + _WINDOW]
        previous = position
    return pcm_of(y[skip : skip + out_len])


def _best_offset(region: Samples, target: Samples) -> int:
    """Offset into `region` of the window most similar in shape to `target` (normalised correlation).

    Normalising stops louder segments from winning just by being loud; a tiny preference for the middle
    (the nominal position) breaks ties, so silence and perfect matches stay exactly on time.
    """
    n = target.size
    correlation = np.correlate(region, target, mode="valid")
    squares = np.concatenate([[0.0], np.cumsum(region**2)])
    energy = squares[n:] - squares[:-n]
    score = correlation / np.sqrt(np.maximum(energy, 1e-9))
    distance = np.abs(np.arange(score.size) - (score.size - 1) / 2)
    return int(np.argmax(score - 1e-9 * float(np.abs(score).max(initial=0.0) + 1.0) * distance))
