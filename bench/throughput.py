"""Throughput: whole routine sessions replayed from files, CPU seconds per second of answer audio.

real-time factor (RTF) = CPU seconds of the process (all threads) / seconds of answer audio replayed;
"× real time" = audio seconds / wall seconds. Both come from the routine replays of bench.latency (the same
run; the sessions replayed as fast as the kiosk takes the audio, not at a microphone's pace), so the audio
includes the silence a person leaves around each answer (see bench.common.padded).
"""

from __future__ import annotations

from typing import Any


def summarise(engine: str, latency: dict[str, Any]) -> dict[str, Any]:
    routine = [r for r in latency["replays"] if r["kind"] == "throughput"]
    audio = sum(r["audio_seconds"] for r in routine)
    cpu = sum(r["cpu_seconds"] for r in routine)
    wall = sum(r["wall_seconds"] for r in routine)
    return {
        "engine": engine,
        "sessions": len(routine),
        "turns": sum(len(r["turns"]) for r in routine),
        "audio_seconds": audio,
        "cpu_seconds": cpu,
        "wall_seconds": wall,
        "rtf_cpu": cpu / audio if audio else None,
        "times_real_time_cpu": audio / cpu if cpu else None,
        "times_real_time_wall": audio / wall if wall else None,
        "completed": all(r["completed"] for r in routine),
        "levels": [r["level"] for r in routine],
    }
