"""Turn latency split into its parts, and the emergency path, from real replays (bench.replay).

Parts of a turn (each p50/p95/max per engine):
  speech_end → endpoint      audio time: the endpointer's trailing silence (as long in real time live);
  endpoint → decided         wall time: the recognizer's final result after the endpoint;
  decided → first sample     wall time: dialog, prompt audio, until the output started the next prompt;
  speech_end → first sample  the sum: what the person waits from their last word to the kiosk's voice.
These sessions feed the answers at a microphone's pace (FileSource realtime), so an engine that decides
during the trailing silence (Whisper, kiosk.session.listening.SPECULATE_AFTER) shows the time that wins, as live.
The emergency path separately: the deciding answer's final result → the emergency prompt's first sample
(measured on the RecordingOutput), next to the session's own figure (VoiceSession.timings).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

from bench.common import summary
from bench.replay import EMERGENCY_PLANS, ROUTINE_PLANS, Replay, answer_files, run_replay, temp_store

PARTS = ("endpoint_delay", "decide_seconds", "decided_to_first_sample", "speech_end_to_first_sample")
PART_NAMES = {
    "endpoint_delay": "speech end → endpoint (audio time)",
    "decide_seconds": "endpoint → answer decided",
    "decided_to_first_sample": "decided → first sample of next prompt",
    "speech_end_to_first_sample": "speech end → first sample (total)",
}


def run(engine: str, language: str, parts: Any, recognizer: Any, settings: Any, work: Path, routine: int,
        emergency_rounds: int, fast_routine: int,
        progress: Callable[[str], None] = lambda s: print(s, file=sys.stderr, flush=True), realtime: bool = True,
        ) -> dict[str, Any]:
    """Replay `routine` routine sessions and every emergency plan `emergency_rounds` times with the answers
    arriving at a microphone's pace (latency), and `fast_routine` routine sessions as fast as the kiosk
    takes them (throughput, bench.throughput)."""
    clips = answer_files(language, work / f"answers-{language}")
    replays: list[Replay] = []
    for kind, count, paced in (("routine", routine, realtime), ("throughput", fast_routine, False)):
        for i in range(count):
            started = time.perf_counter()
            replays.append(run_replay(kind, ROUTINE_PLANS[language], parts, recognizer, clips, temp_store(),
                                      settings, realtime=paced))
            progress(f"  latency {engine}: {kind} session {i + 1}/{count} ({len(replays[-1].turns)} turns, "
                     f"{replays[-1].level}) in {time.perf_counter() - started:.1f} s")
    for _ in range(emergency_rounds):
        for plan in EMERGENCY_PLANS:
            replays.append(run_replay("emergency", plan, parts, recognizer, clips, None, settings, realtime=realtime))
    progress(f"  latency {engine}: {emergency_rounds * len(EMERGENCY_PLANS)} emergency sessions")
    return summarise(engine, replays)


def summarise(engine: str, replays: list[Replay]) -> dict[str, Any]:
    turns = [t for r in replays if r.kind != "throughput" for t in r.turns]
    decided = [t for t in turns if t.get("answer") is not None]
    emergencies = [r for r in replays if r.kind == "emergency"]
    return {
        "engine": engine,
        "sessions": len(replays),
        "turns": len(turns),
        "decided_early": sum(bool(t.get("decided_early")) for t in decided) / len(decided) if decided else None,
        "parts": {p: summary([t[p] for t in turns if t.get(p) is not None]) for p in PARTS},
        "session_decision_to_prompt": summary([t["decision_to_prompt"] for t in turns
                                               if t.get("decision_to_prompt") is not None]),
        "emergency": {
            "sessions": len(emergencies),
            "reached": sum(r.level == "emergency" for r in emergencies),
            "decided_to_first_sample": summary([r.emergency_first_sample for r in emergencies
                                                if r.emergency_first_sample is not None]),
            "session_emergency_prompt_delay": summary([r.emergency_prompt_delay for r in emergencies
                                                       if r.emergency_prompt_delay is not None]),
        },
        "replays": [asdict(r) for r in replays],
    }
