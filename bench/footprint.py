"""Footprint per engine: start-up to the first prompt, peak resident memory, model size on disk.

Start-up and memory are measured by `python -m bench.probe` in a fresh process per run (the benchmark's
own memory and imports would pollute them). The first run may read the model from disk; later runs find it
in the page cache, as a kiosk restarted by its service manager would. Reported: every run, and the median.

What fits a Raspberry Pi is decided by memory with a stated budget: the OS, audio stack and a little head
room are taken as PI_RESERVED_MB; the rest is what the kiosk may use.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

from bench.common import REPO, model_dir

PI_RAM_MB = {"Raspberry Pi 4 (4 GB)": 4000, "Raspberry Pi 3 (1 GB)": 1000}
PI_RESERVED_MB = 350
"""Raspberry Pi OS Lite with PipeWire/ALSA, the GPU's share (64 MB) and head room: not measured here."""


def dir_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def probe(engine: str, runs: int) -> list[dict[str, Any]]:
    out = []
    env = {**os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    for _ in range(runs):
        proc = subprocess.run([sys.executable, "-m", "bench.probe", "--engine", engine], cwd=REPO, env=env,
                              capture_output=True, text=True, timeout=600)
        if proc.returncode != 0:
            raise RuntimeError(f"bench.probe --engine {engine} failed:\n{proc.stderr[-2000:]}")
        out.append(json.loads(proc.stdout.strip().splitlines()[-1]))
    return out


def japanese_vosk_model_bytes() -> int | None:
    """Size on disk of the real Japanese Vosk model, from the kiosk's model manifest (not installed here)."""
    try:
        from kiosk.asr.models import load_manifest

        return int(load_manifest()["vosk-model-small-ja-0.22"].total_bytes)
    except Exception:
        return None


def run(engines: list[str], runs: int) -> dict[str, Any]:
    result: dict[str, Any] = {"runs": runs, "engines": {}, "pi_reserved_mb": PI_RESERVED_MB, "pi_ram_mb": PI_RAM_MB}
    for engine in ["none", *engines]:
        probes = probe(engine, runs)
        entry: dict[str, Any] = {
            "probes": probes,
            "startup_seconds": statistics.median(p["startup_seconds"] for p in probes),
            "startup_seconds_first_run": probes[0]["startup_seconds"],
            "model_load_seconds": statistics.median(p["model_load_seconds"] for p in probes),
            "peak_rss_mb": statistics.median(max(p["peak_rss_mb"], p["rss_mb"]) for p in probes),
            "peak_rss_mb_max": max(max(p["peak_rss_mb"], p["rss_mb"]) for p in probes),
        }
        if engine != "none":
            folder = model_dir(engine)
            entry["model_dir"] = str(folder)
            entry["model_bytes"] = dir_bytes(folder)
            entry["first_answer_ok"] = all(p.get("first_answer") == "yes" for p in probes)
        entry["pi"] = {name: entry["peak_rss_mb_max"] <= ram - PI_RESERVED_MB for name, ram in PI_RAM_MB.items()}
        result["engines"][engine] = entry
    result["japanese_vosk_model_bytes"] = japanese_vosk_model_bytes()
    return result
