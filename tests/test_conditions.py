"""Noise at a requested SNR and pitch-preserving slow-down, on canonical 16 kHz int16 PCM."""

from __future__ import annotations

import numpy as np
import pytest

from bench import audio_conditions as conditions
from kiosk.audio.chunk import RATE
from kiosk.errors import AudioError


def speech_like(seconds: float = 1.5, lead: float = 0.3, trail: float = 0.5) -> bytes:
    """A deterministic voiced-speech stand-in: a 140 Hz harmonic tone with syllable-like loudness, padded."""
    t = np.arange(int(seconds * RATE)) / RATE
    tone = sum(np.sin(2 * np.pi * 140 * k * t) / k for k in range(1, 8))
    envelope = 0.55 + 0.45 * np.sin(2 * np.pi * 4 * t)  # four "syllables" per second
    speech = 6000 * tone * envelope
    return conditions.pcm_of(np.concatenate([np.zeros(int(lead * RATE)), speech, np.zeros(int(trail * RATE))]))


@pytest.mark.parametrize("kind", ["white", "pink"])
@pytest.mark.parametrize("snr_db", [20.0, 10.0, 5.0, 0.0, -5.0])
def test_measured_snr_matches_request(kind: conditions.NoiseKind, snr_db: float) -> None:
    clean = speech_like()
    noisy = conditions.add_noise(clean, snr_db, kind, seed=7)
    assert len(noisy) == len(clean)
    assert abs(conditions.measure_snr(clean, noisy) - snr_db) < 0.5


def test_snr_ignores_leading_and_trailing_silence() -> None:
    # The same speech with much more silence around it must get noise of the same level.
    short, long = speech_like(lead=0.1, trail=0.1), speech_like(lead=2.0, trail=2.0)
    noise_short = conditions.samples_of(conditions.add_noise(short, 10.0)) - conditions.samples_of(short)
    noise_long = conditions.samples_of(conditions.add_noise(long, 10.0)) - conditions.samples_of(long)
    ratio_db = 10 * np.log10(np.mean(noise_long**2) / np.mean(noise_short**2))
    assert abs(ratio_db) < 0.3


def test_noise_is_deterministic_per_seed() -> None:
    clean = speech_like()
    assert conditions.add_noise(clean, 5.0, "pink", seed=3) == conditions.add_noise(clean, 5.0, "pink", seed=3)
    assert conditions.add_noise(clean, 5.0, "pink", seed=3) != conditions.add_noise(clean, 5.0, "pink", seed=4)


def test_pink_noise_falls_3_db_per_octave() -> None:
    noise = conditions.pink_noise(RATE * 8, seed=1)
    power = np.abs(np.fft.rfft(noise)) ** 2
    freqs = np.fft.rfftfreq(noise.size, 1 / RATE)

    def band(low: float) -> float:
        return float(power[(freqs >= low) & (freqs < 2 * low)].sum())

    # Equal power per octave is what 1/f means.
    assert abs(10 * np.log10(band(2000) / band(250))) < 1.0


def test_loud_mix_is_scaled_not_clipped() -> None:
    loud = conditions.pcm_of(30000 * np.sin(2 * np.pi * 300 * np.arange(RATE) / RATE))
    noisy = conditions.add_noise(loud, 0.0, seed=1)
    assert int(np.abs(np.frombuffer(noisy, "<i2").astype(int)).max()) <= 32767
    assert abs(conditions.measure_snr(loud, noisy) - 0.0) < 0.5


def test_silence_has_no_snr() -> None:
    with pytest.raises(AudioError, match="silence"):
        conditions.add_noise(bytes(3200), 10.0)


@pytest.mark.parametrize("factor", [0.7, 1.0, 1.3, 1.5, 2.0])
def test_time_stretch_length(factor: float) -> None:
    clean = speech_like()
    stretched = conditions.time_stretch(clean, factor)
    assert len(stretched) % 2 == 0
    assert abs(len(stretched) // 2 - round(len(clean) // 2 * factor)) <= 1


def test_time_stretch_keeps_pitch() -> None:
    t = np.arange(RATE) / RATE
    tone = conditions.pcm_of(8000 * np.sin(2 * np.pi * 200 * t) + 4000 * np.sin(2 * np.pi * 400 * t))
    out = conditions.samples_of(conditions.time_stretch(tone, 1.5))
    spectrum = np.abs(np.fft.rfft(out * np.hanning(out.size)))
    peak_hz = np.fft.rfftfreq(out.size, 1 / RATE)[int(np.argmax(spectrum))]
    assert abs(peak_hz - 200) < 3


def test_time_stretch_by_one_is_identity() -> None:
    clean = speech_like()
    assert conditions.time_stretch(clean, 1.0) == clean


@pytest.mark.parametrize("factor", [0.7, 1.5, 2.0])
def test_time_stretch_keeps_speech_where_it_belongs(factor: float) -> None:
    clean = speech_like(seconds=1.5, lead=0.5, trail=0.5)
    out = conditions.samples_of(conditions.time_stretch(clean, factor))
    loud = np.nonzero(np.abs(out) > 1)[0] / RATE
    # Onset and end move with the factor; a window (40 ms) plus the search tolerance may smear them.
    assert abs(loud[0] - 0.5 * factor) < 0.06
    assert abs(loud[-1] - 2.0 * factor) < 0.06


def test_time_stretch_is_deterministic_and_rejects_silly_factors() -> None:
    clean = speech_like()
    assert conditions.time_stretch(clean, 1.4) == conditions.time_stretch(clean, 1.4)
    with pytest.raises(AudioError, match="factor"):
        conditions.time_stretch(clean, 10.0)
