"""The cost of the fault guarantees: the emergency path's order, and `kiosk recognize` on a long file.

1. Decision → emergency prompt. Since issue 16 the staff pager is started (not waited for) and the record is
   appended to the journal with fsync *before* the prompt starts, so that neither depends on a display. This
   measures what that costs: the real VoiceSession on the real content deciding an emergency (a call for help,
   `VoiceSession.run(first=...)`), a real pager program (clinic mode), a real SessionStore on this disk, the
   prompt audio preloaded; the first sample handed to the output (RecordingOutput) − the decision. Also the
   two new steps alone: StaffAlert.send() and SessionStore.keep().
2. Peak memory of `kiosk recognize` on a 1-hour file, per engine, in a fresh process (ru_maxrss from wait4):
   an hour of quiet room noise (−70 dBFS, below the endpointer's speech level) with one answer at the very
   end, so the whole hour is read; and a 5-second file for the model's own share.

`python -m bench.faults [--engines vosk,whisper] [--rounds N] [--hours H]`, or the `faults` section of
`python -m bench`.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import subprocess
import sys
import tempfile
import time
import wave
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from bench.common import REPO, engine_language, model_dir, settings_for, summary

QUIET_DBFS = -70.0
LONG_ANSWER = {"whisper": REPO / "tests" / "audio" / "ja" / "clean" / "yes__はい__mei.wav",
               "vosk": REPO / "tests" / "audio" / "ko" / "yes__네.wav"}


# --- 1. the emergency path ---

def _pager(folder: Path) -> tuple[str, ...]:
    script = folder / "page-staff"
    script.write_text("#!/bin/sh\nexit 0\n", encoding="utf-8")
    script.chmod(0o755)
    return (str(script), "kiosk-1")


def emergency_delay(rounds: int, recognizer: Any = None) -> dict[str, Any]:
    """Decision → first sample of the emergency prompt, `rounds` times (clinic mode, records on this disk)."""
    from kiosk.audio.endpoint import Endpointer
    from kiosk.audio.sources import FileSource
    from kiosk.audio.speaker import RecordingOutput
    from kiosk.clock import SystemClock
    from kiosk.dialog.machine import Dialog
    from kiosk.dialog.understanding import CALL_FOR_HELP, Heard
    from kiosk.session.assembly import load_parts
    from kiosk.session.records import SessionStore
    from kiosk.session.staff_alert import StaffAlert
    from kiosk.session.voice import VoiceSession
    from kiosk.settings import DialogSettings, SiteSettings
    from kiosk.tts.voice import Voice

    settings = settings_for("whisper")
    parts = load_parts(settings)
    delays, session_delays, sends, keeps = [], [], [], []
    with tempfile.TemporaryDirectory(prefix="bench-faults-", dir=REPO / "bench") as tmp:
        folder = Path(tmp)
        command = _pager(folder)
        site = SiteSettings(mode="clinic", staff_alert_command=command, fallback="none")
        for i in range(rounds):
            store = SessionStore(folder / f"s{i}.db")
            store.save({"started_at": 0.0, "duration_s": 0.0, "channel": "bench", "mode": "clinic",
                        "completed": False, "level": None, "departments": [], "reasons": [], "answers": {},
                        "turns": [], "emergency_request": False, "version": "bench"})  # an existing database
            output = RecordingOutput(time.monotonic)
            dialog = Dialog(parts.content, site, DialogSettings(), SystemClock(), "bench")
            session = VoiceSession(dialog, recognizer, FileSource([]), Voice(parts.library, output, None),
                                   Endpointer(), parts.understanding, lambda event: None, store,
                                   StaffAlert(command), SystemClock())
            decided = time.monotonic()
            session.run(first=Heard(CALL_FOR_HELP, "救急車", 1.0))
            if output.played:
                delays.append(output.played[0][0] - decided)
            session_delays.append(session.timings.emergency_prompt_delay)
            sends.append(_timed(StaffAlert(command).send))
            if hasattr(store, "keep"):  # absent before issue 16: the record came after the prompt
                keeps.append(_timed(functools.partial(store.keep, {"started_at": 0.0})))
        time.sleep(0.2)  # let the last pagers exit before their folder goes
    return {"rounds": rounds, "decided_to_first_sample": summary(delays),
            "session_emergency_prompt_delay": summary([d for d in session_delays if d is not None]),
            "staff_alert_send": summary(sends), "journal_keep": summary(keeps),
            "with_model_loaded": recognizer is not None, "disk": str(REPO / "bench")}


def _timed(call: Callable[[], Any]) -> float:
    started = time.perf_counter()
    call()
    return time.perf_counter() - started


# --- 2. recognize on a long file ---

def long_file(path: Path, answer: Path, seconds: float) -> Path:
    """`seconds` of quiet noise ending with `answer` and 2 s of the same noise, written 10 s at a time."""
    from kiosk.audio.wav import read_wav

    speech = np.frombuffer(read_wav(answer).audio, dtype="<i2")
    rng = np.random.default_rng(16)
    scale = 32768 * 10 ** (QUIET_DBFS / 20)
    quiet = int(seconds * 16000) - len(speech) - 32000
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(16000)
        for start in range(0, quiet, 160000):
            n = min(160000, quiet - start)
            out.writeframes((rng.standard_normal(n) * scale).astype("<i2").tobytes())
        out.writeframes(speech.tobytes())
        out.writeframes((rng.standard_normal(32000) * scale).astype("<i2").tobytes())
    return path


def recognize_peak(engine: str, wav: Path) -> dict[str, Any]:
    """Run `kiosk recognize` on `wav` in a fresh process of this checkout: its answer, peak RSS, wall time."""
    settings = settings_for(engine)
    env = {k: v for k, v in os.environ.items() if not k.startswith("KIOSK_")}
    env |= {"KIOSK_CONFIG": "", "PYTHONPATH": str(REPO), f"KIOSK_{engine.upper()}_MODEL": str(model_dir(engine))}
    if settings.content.grammar is not None:
        env["KIOSK_GRAMMAR"] = str(settings.content.grammar)
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        proc = subprocess.Popen([sys.executable, "-m", "kiosk", "recognize", str(wav), "--answers", "yes,no",
                                 "--engine", engine], stdout=out, stderr=err, env=env, cwd=REPO)
        _, status, usage = os.wait4(proc.pid, 0)  # this child's own peak, not the largest child's so far
        seconds = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        line = out.read().decode("utf-8", "replace").strip().splitlines()[-1:] or [""]
        problem = err.read().decode("utf-8", "replace")[-300:] if proc.returncode else ""
    return {"engine": engine, "audio_seconds": _seconds(wav), "peak_rss_mb": round(usage.ru_maxrss / 1024, 1),
            "wall_seconds": round(seconds, 1), "result": line[0][:200], "exit": proc.returncode, "stderr": problem}


def _seconds(wav: Path) -> float:
    with wave.open(str(wav), "rb") as f:
        return round(f.getnframes() / f.getframerate(), 1)


def recognize_memory(engines: list[str], hours: float, work: Path,
                     progress: Callable[[str], None] = lambda s: print(s, file=sys.stderr, flush=True),
                     ) -> dict[str, Any]:
    """Peak memory of `kiosk recognize` on a short file and an `hours`-long one, per engine."""
    result: dict[str, Any] = {}
    for engine in engines:
        answer = LONG_ANSWER[engine]
        short = long_file(work / f"short-{engine}.wav", answer, 5.0)
        long = long_file(work / f"long-{engine}.wav", answer, hours * 3600)
        runs = {}
        for name, wav in (("short", short), ("long", long)):
            progress(f"  recognize {engine}: {name} file ({_seconds(wav):.0f} s of audio)")
            runs[name] = recognize_peak(engine, wav)
        long.unlink()
        result[engine] = {**runs, "language": engine_language(engine), "answer_file": answer.name}
    return result


def run(engines: list[str], rounds: int, hours: float, work: Path, recognizer: Any = None,
        progress: Callable[[str], None] = lambda s: print(s, file=sys.stderr, flush=True)) -> dict[str, Any]:
    progress(f"  faults: emergency path, {rounds} rounds")
    result = {"emergency": emergency_delay(rounds, recognizer)}
    result["recognize_memory"] = recognize_memory(engines, hours, work, progress)
    return result


def markdown(res: dict[str, Any]) -> list[str]:
    """The report's section on the fault guarantees' costs."""
    def ms(v: float | None) -> str:
        return "–" if v is None else f"{v * 1000:.1f} ms"

    em = res["emergency"]
    lines = ["## Fault guarantees: what they cost", "",
             f"Emergency path, {em['rounds']} decisions (clinic mode, a real pager program, records on this disk"
             f"{', a speech model loaded' if em['with_model_loaded'] else ''}): staff alert, then the record "
             "(fsynced journal append), then the prompt.", "",
             "| step | p50 | p95 | max |", "| --- | --- | --- | --- |"]
    for key, name in (("decided_to_first_sample", "decision → first sample of the prompt"),
                      ("staff_alert_send", "starting the pager (Popen)"), ("journal_keep", "journal append + fsync")):
        s = em[key]
        lines.append(f"| {name} | {ms(s['p50'])} | {ms(s['p95'])} | {ms(s['max'])} |")
    lines += ["", "`kiosk recognize`, peak resident memory of a fresh process:", "",
              "| engine | 5 s file | 1 h file (wall time) | answer |", "| --- | --- | --- | --- |"]
    for engine, r in res["recognize_memory"].items():
        lines.append(f"| {engine} | {r['short']['peak_rss_mb']:.0f} MB | {r['long']['peak_rss_mb']:.0f} MB "
                     f"({r['long']['wall_seconds']:.0f} s) | {r['long']['result']} |")
    return lines + [""]


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m bench.faults", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--engines", default="vosk,whisper")
    p.add_argument("--rounds", type=int, default=50)
    p.add_argument("--hours", type=float, default=1.0)
    p.add_argument("--load", choices=("none", "vosk", "whisper"), default="none",
                   help="load this engine first, so the emergency path runs in a process of realistic size")
    p.add_argument("--only", choices=("emergency", "recognize"), help="measure one of the two")
    args = p.parse_args(argv)
    import kiosk

    recognizer = None
    if args.load != "none":
        from bench.common import load_engine

        recognizer = load_engine(args.load)
    out: dict[str, Any] = {"kiosk": str(Path(kiosk.__file__).parent), "load": [round(x, 2) for x in os.getloadavg()]}
    if args.only in (None, "emergency"):
        out["emergency"] = emergency_delay(args.rounds, recognizer)
    if args.only in (None, "recognize"):
        with tempfile.TemporaryDirectory(prefix="bench-long-", dir=REPO / "bench") as work:
            out["recognize_memory"] = recognize_memory([e.strip() for e in args.engines.split(",") if e.strip()],
                                                       args.hours, Path(work))
    out["load_end"] = [round(x, 2) for x in os.getloadavg()]
    print(json.dumps(out, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
