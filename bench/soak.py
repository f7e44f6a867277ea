"""Soak: many replayed sessions in one process, one model, one session store, as a kiosk runs all day.

After every session: resident memory (/proc/self/statm), open file descriptors (/proc/self/fd), threads,
wall and CPU time of the session. The sessions cycle through the emergency plans (a stroke sign at the first
question, one after four 「いいえ」, a call for help on a red-flag question) with a whole routine session
every ROUTINE_EVERY-th, so every prompt, the session store and the emergency path are exercised.

Verdict, after the first WARMUP share of sessions (caches, allocator arenas):
- memory: least-squares slope of RSS per 100 sessions, and the last window's median minus the first's;
- open files and threads: the largest count minus the smallest;
- slowdown: median CPU seconds per turn in the last window / the first window, per kind of session, divided
  by the same ratio of a fixed reference computation timed after every session. CPU time rather than wall
  time, and the reference, because on a shared machine both also measure the other work running (hyper-
  threads and caches shared): a slower machine slows the reference as much as the sessions, a leak only the
  sessions. The raw ratios (CPU and wall) are reported too.
"""

from __future__ import annotations

import gc
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.replay import EMERGENCY_PLANS, ROUTINE_PLANS, answer_files, run_replay, temp_store

ROUTINE_EVERY = 20
WARMUP = 0.1
WINDOW = 0.2
LIMITS = {"rss_slope_mb_per_100": 1.0, "rss_growth_mb": 5.0, "open_files_growth": 0, "threads_growth": 0,
          "slowdown": 1.15}
"""What counts as growth or slowdown; the report prints the measured figures next to them."""


def _rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6


def _count(folder: str) -> int:
    return len(os.listdir(folder))


def reference_seconds() -> float:
    """CPU time of a fixed mix of interpreted Python and numpy work (~2 ms): the machine's current speed."""
    import numpy as np

    started = time.process_time()
    total = 0
    for i in range(20_000):
        total += i * i % 7
    signal = np.arange(16_384, dtype=np.float64) * (total % 3 + 1)
    for _ in range(20):
        np.fft.rfft(signal)
    return time.process_time() - started


def run(engine: str, language: str, parts: Any, recognizer: Any, settings: Any, work: Path, sessions: int,
        progress: Callable[[str], None] = lambda s: print(s, file=sys.stderr, flush=True)) -> dict[str, Any]:
    clips = answer_files(language, work / f"answers-{language}")
    store = temp_store()
    rows: list[dict[str, Any]] = []
    started = time.perf_counter()
    for i in range(sessions):
        routine = i % ROUTINE_EVERY == ROUTINE_EVERY - 1
        plan = ROUTINE_PLANS[language] if routine else EMERGENCY_PLANS[i % len(EMERGENCY_PLANS)]
        replay = run_replay("routine" if routine else "emergency", plan, parts, recognizer, clips, store, settings)
        rows.append({"i": i, "kind": replay.kind, "completed": replay.completed, "level": replay.level,
                     "turns": len(replay.turns), "wall": replay.wall_seconds, "cpu": replay.cpu_seconds,
                     "rss_mb": _rss_mb(), "open_files": _count("/proc/self/fd"),
                     "threads": _count("/proc/self/task"), "reference": reference_seconds(),
                     "gc_objects": len(gc.get_objects()) if i % 50 == 0 or i == sessions - 1 else None})
        if (i + 1) % max(1, sessions // 10) == 0:
            progress(f"  soak {engine}: {i + 1}/{sessions} sessions, RSS {rows[-1]['rss_mb']:.0f} MB, "
                     f"{rows[-1]['open_files']} open files, {time.perf_counter() - started:.0f} s")
    return analyse(engine, rows, time.perf_counter() - started, store)


def _slope(xs: list[float], ys: list[float]) -> float:
    if len(xs) < 2:
        return 0.0
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    den = sum((x - mx) ** 2 for x in xs)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / den if den else 0.0


def analyse(engine: str, rows: list[dict[str, Any]], seconds: float, store: Path | None = None) -> dict[str, Any]:
    n = len(rows)
    steady = rows[int(n * WARMUP):] or rows
    w = max(1, int(len(steady) * WINDOW))
    first, last = steady[:w], steady[-w:]
    rss_slope = _slope([r["i"] for r in steady], [r["rss_mb"] for r in steady]) * 100
    rss_growth = statistics.median(r["rss_mb"] for r in last) - statistics.median(r["rss_mb"] for r in first)
    slowdown: dict[str, float | None] = {}
    cpu_slowdown: dict[str, float | None] = {}
    wall_slowdown: dict[str, float | None] = {}
    ref_a = statistics.median(r["reference"] for r in first) if "reference" in first[0] else None
    ref_b = statistics.median(r["reference"] for r in last) if "reference" in last[0] else None
    machine = ref_b / ref_a if ref_a and ref_b else None
    for kind in sorted({r["kind"] for r in rows}):
        for key, into in (("cpu", cpu_slowdown), ("wall", wall_slowdown)):
            a = [r[key] / max(1, r["turns"]) for r in first if r["kind"] == kind]
            b = [r[key] / max(1, r["turns"]) for r in last if r["kind"] == kind]
            into[kind] = statistics.median(b) / statistics.median(a) if a and b else None
        raw = cpu_slowdown[kind]
        slowdown[kind] = raw / machine if raw is not None and machine else raw
    files = [r["open_files"] for r in steady]
    threads = [r["threads"] for r in steady]
    worst_slowdown = max((v for v in slowdown.values() if v is not None), default=None)
    result = {
        "engine": engine,
        "sessions": n,
        "completed": sum(r["completed"] for r in rows),
        "turns": sum(r["turns"] for r in rows),
        "seconds": seconds,
        "rss_start_mb": rows[0]["rss_mb"] if rows else None,
        "rss_end_mb": rows[-1]["rss_mb"] if rows else None,
        "rss_max_mb": max(r["rss_mb"] for r in rows) if rows else None,
        "rss_slope_mb_per_100": rss_slope,
        "rss_growth_mb": rss_growth,
        "open_files_min": min(files) if files else None,
        "open_files_max": max(files) if files else None,
        "open_files_growth": (max(files) - min(files)) if files else None,
        "threads_growth": (max(threads) - min(threads)) if threads else None,
        "slowdown": slowdown,
        "cpu_slowdown": cpu_slowdown,
        "wall_slowdown": wall_slowdown,
        "machine_slowdown": machine,
        "threads_min": min(threads) if threads else None,
        "threads_max": max(threads) if threads else None,
        "worst_slowdown": worst_slowdown,
        "limits": LIMITS,
        "store_bytes": store.stat().st_size if store is not None and store.exists() else None,
        "rows": rows,
    }
    result["verdict"] = {
        "memory": rss_slope <= LIMITS["rss_slope_mb_per_100"] and rss_growth <= LIMITS["rss_growth_mb"],
        "open_files": result["open_files_growth"] is not None and result["open_files_growth"] <= 0,
        "threads": result["threads_growth"] is not None and result["threads_growth"] <= 0,
        "speed": worst_slowdown is None or worst_slowdown <= LIMITS["slowdown"],
    }
    return result
