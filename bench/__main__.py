"""`python -m bench`: measure the kiosk and write bench/out/report.md, report.json, records.json and PNG plots.

See bench/README.md for what each number means.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from bench.common import (
    CONDITIONS,
    ENGINES,
    KO_SLOW_FACTOR,
    LEAD_SECONDS,
    REPO,
    TRAIL_SECONDS,
    engine_language,
    ko_clips,
)

SECTIONS = ("recognition", "latency", "footprint", "soak", "safety", "faults")
NOISE = ("white_10dB", "white_5dB", "pink_10dB", "pink_5dB")
DEFAULT_EVERY = {"clean": 2, "slowed": 2, **{c: 4 for c in NOISE}}
"""Japanese clips used by default: every 「はい」/「いいえ」 clip, and every 2nd other clean and slowed clip, every
4th other clip in each noise (the same files in every noise condition; with every 8th the noise shares had
95 % intervals ~30 points wide, too wide to tell a change of a few points). Whisper takes ~1.5 s per utterance on
2 cores, so all 1,010 utterances × 2 methods would take ~50 minutes; --all-clips does that."""
QUICK_EVERY = {"clean": 8, "slowed": 8, **{c: 16 for c in NOISE}}
NAIVE_EVERY = {"whisper": 4, "vosk": 2}
"""The naive baseline runs on every n-th of those utterances, and is compared with the grammar on exactly
those files."""


def parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    p.add_argument("--quick", action="store_true",
                   help="every 8th/16th Japanese clip, one start-up probe, one replay of each kind, no soak")
    p.add_argument("--all-clips", action="store_true",
                   help="every Japanese clip in every condition, baseline on all of them (about an hour)")
    p.add_argument("--out", type=Path, default=REPO / "bench" / "out", help="report folder (default bench/out)")
    p.add_argument("--engines", default=",".join(ENGINES), help="comma-separated: vosk,whisper")
    p.add_argument("--soak", type=int, default=None, help="sessions in the soak run (default 500; --quick: 0)")
    p.add_argument("--soak-engine", default=None, help="engine of the soak (default vosk if measured)")
    p.add_argument("--every", type=int, default=None,
                   help="use every n-th Japanese clip in every condition (default: 2 clean/slowed, 4 noise)")
    p.add_argument("--limit", type=int, default=None, help="at most n utterances per condition (smoke tests)")
    p.add_argument("--conditions", default=",".join(CONDITIONS), help="comma-separated conditions")
    p.add_argument("--sections", default=",".join(SECTIONS), help="comma-separated: " + ",".join(SECTIONS))
    p.add_argument("--no-naive", action="store_true", help="skip the free-transcription baseline")
    p.add_argument("--no-plots", action="store_true", help="write no PNGs")
    p.add_argument("--no-realtime", action="store_true",
                   help="replay the latency sessions as fast as possible, not at a microphone's pace (smoke tests; "
                        "the decision latency then leaves out the time an engine wins during the trailing silence)")
    args = p.parse_args(argv)
    args.engines = [e.strip() for e in args.engines.split(",") if e.strip()]
    args.conditions = [c.strip() for c in args.conditions.split(",") if c.strip()]
    args.sections = [s.strip() for s in args.sections.split(",") if s.strip()]
    for e in args.engines:
        if e not in ENGINES:
            p.error(f"unknown engine {e!r}; choose from {', '.join(ENGINES)}")
    for c in args.conditions:
        if c not in CONDITIONS:
            p.error(f"unknown condition {c!r}; choose from {', '.join(CONDITIONS)}")
    for s in args.sections:
        if s not in SECTIONS:
            p.error(f"unknown section {s!r}; choose from {', '.join(SECTIONS)}")
    if args.soak is None:
        args.soak = 0 if args.quick else 500
    if args.all_clips:
        args.every = 1
    elif args.every is None:
        args.every = dict(QUICK_EVERY if args.quick else DEFAULT_EVERY)
    args.naive_every = {"whisper": 1, "vosk": 1} if args.all_clips else dict(NAIVE_EVERY)
    if args.quick:
        args.naive_every = {"whisper": 3, "vosk": 3}
    return args


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = parse(argv)
    started = time.perf_counter()
    os.environ.setdefault("OMP_NUM_THREADS", str(os.cpu_count() or 1))
    from bench import faults, footprint, latency, plots, recognition, report, safety, soak, throughput
    from bench.common import load_engine, load_parts_for, settings_for
    from bench.naive import VoskFreeTranscription, whisper_baseline
    from kiosk.settings import Settings

    out: Path = args.out
    work = out / "work"
    work.mkdir(parents=True, exist_ok=True)
    quick = args.quick
    meta: dict[str, Any] = {
        "date": time.strftime("%Y-%m-%d %H:%M:%S %z"),
        "command": "python -m bench" + ("" if argv is None and len(sys.argv) <= 1 else
                                        " " + " ".join(argv if argv is not None else sys.argv[1:])),
        "machine": report.machine(), "versions": report.versions(), "git": report.git(),
        "engines": args.engines, "options": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
        "load_start": [round(x, 2) for x in os.getloadavg()],
        "padding": [LEAD_SECONDS, TRAIL_SECONDS], "trailing_silence": Settings().listen.trailing_silence,
        "ko_slow_factor": KO_SLOW_FACTOR, "ko_clips": len(ko_clips()), "soak_routine_every": soak.ROUTINE_EVERY,
        "soak_warmup": soak.WARMUP,
    }
    results: dict[str, Any] = {"meta": meta, "errors": [], "recognition": {}, "latency": {}, "throughput": {}}
    records: dict[str, Any] = {"recognition": {}, "latency": {}, "soak": None}
    soak_engine = args.soak_engine or ("vosk" if "vosk" in args.engines else args.engines[0])

    for engine in args.engines:
        language = engine_language(engine)
        log(f"[{time.perf_counter() - started:6.0f} s] {engine}: loading ({language})")
        try:
            settings = settings_for(engine)
            parts = load_parts_for(settings)
            recognizer = load_engine(engine, settings)
        except Exception as exc:
            results["errors"].append(f"{engine}: the engine could not be loaded ({type(exc).__name__}: {exc})")
            log(f"  {engine}: cannot load: {exc}")
            continue
        meta.setdefault("engine_info", {})[engine] = _engine_info(engine, recognizer, settings)
        if "recognition" in args.sections:
            methods = [recognition.Method("grammar", recognizer, recognition.question_grammars(parts.content))]
            if not args.no_naive:
                naive = _naive(engine, recognizer, parts, VoskFreeTranscription, whisper_baseline, settings)
                if isinstance(naive, str):
                    results["errors"].append(f"{engine}: naive baseline not measured ({naive})")
                else:
                    methods.append(recognition.Method("naive", naive, recognition.question_grammars(parts.content),
                                                      every=args.naive_every[engine]))
            res = recognition.run_engine(engine, methods, args.conditions, args.every, language, args.limit, log)
            records["recognition"][engine] = {m: res["methods"][m].pop("records") for m in res["methods"]}
            results["recognition"][engine] = res
        if "latency" in args.sections:
            # Latency sessions run at a microphone's pace (~80 s each); throughput ones as fast as they go.
            routine = 1 if quick else 2
            fast = 1 if quick or engine == "whisper" else 3
            lat = latency.run(engine, language, parts, recognizer, settings, work, routine, 1, fast, log,
                              realtime=not args.no_realtime)
            records["latency"][engine] = lat.pop("replays")
            lat["replays"] = records["latency"][engine]
            results["throughput"][engine] = throughput.summarise(engine, lat)
            lat.pop("replays")
            results["latency"][engine] = lat
        if "soak" in args.sections and args.soak > 0 and engine == soak_engine:
            log(f"[{time.perf_counter() - started:6.0f} s] soak: {args.soak} sessions with {engine}")
            res = soak.run(engine, language, parts, recognizer, settings, work, args.soak, log)
            records["soak"] = res.pop("rows")
            results["soak"] = res
        del recognizer, parts
        gc.collect()

    if "footprint" in args.sections:
        log(f"[{time.perf_counter() - started:6.0f} s] footprint: fresh processes")
        try:
            results["footprint"] = footprint.run([e for e in args.engines if _loaded(e, results)], 1 if quick else 3)
        except Exception as exc:
            results["errors"].append(f"footprint: {type(exc).__name__}: {exc}")
    if "safety" in args.sections:
        results["safety"] = safety.run()
    if "faults" in args.sections:
        log(f"[{time.perf_counter() - started:6.0f} s] faults: the emergency path, recognize on a long file")
        try:
            results["faults"] = faults.run([e for e in args.engines if _loaded(e, results)], 10 if quick else 50,
                                           0.1 if quick else 1.0, work)
        except Exception as exc:
            results["errors"].append(f"faults: {type(exc).__name__}: {exc}")

    meta["load_end"] = [round(x, 2) for x in os.getloadavg()]
    import resource

    usage = [resource.getrusage(who) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)]
    meta["cpu_seconds"] = sum(u.ru_utime + u.ru_stime for u in usage)
    meta["duration_seconds"] = time.perf_counter() - started
    results["targets"] = [t.as_dict() for t in report.targets(results, records)]
    plot_files = {} if args.no_plots else _plots(results, records, out, plots)
    results["plots"] = plot_files
    meta["duration_seconds"] = time.perf_counter() - started
    (out / "report.json").write_text(json.dumps(results, ensure_ascii=False, indent=1, default=str), encoding="utf-8")
    (out / "records.json").write_text(json.dumps(records, ensure_ascii=False, default=str), encoding="utf-8")
    (out / "report.md").write_text(report.markdown(results, plot_files), encoding="utf-8")
    log(f"[{meta['duration_seconds']:6.0f} s] report: {out / 'report.md'}")
    _print_summary(results)
    return results


def _engine_info(engine: str, recognizer: Any, settings: Any) -> dict[str, Any]:
    """What was measured: the engine class, its source file as imported (sha256), model, threads, settings."""
    import hashlib

    model = settings.models.vosk_model if engine == "vosk" else settings.models.whisper_model
    info: dict[str, Any] = {"class": type(recognizer).__name__, "threads": settings.models.threads, "model": str(model)}
    module = sys.modules.get(type(recognizer).__module__)
    source = getattr(module, "__file__", None)
    if source:
        # Hashed when the engine was loaded: the code this run measured, even if the file changes later.
        info["source"] = os.path.relpath(source, REPO)
        info["source_sha256"] = hashlib.sha256(Path(source).read_bytes()).hexdigest()[:12]
    scoring = getattr(recognizer, "scoring", None)
    if scoring is not None:
        info["views"] = [f"{v.window:g} s window" + (f", memory cut {v.memory_margin:g} s after the speech"
                                                     if v.memory_margin is not None else "")
                         for v in getattr(scoring, "views", ())]
    if hasattr(recognizer, "min_confidence"):
        info["min_confidence"] = recognizer.min_confidence
    return info


def _loaded(engine: str, results: dict[str, Any]) -> bool:
    return not any(e.startswith(f"{engine}: the engine could not be loaded") for e in results["errors"])


def _naive(engine: str, recognizer: Any, parts: Any, vosk_free: Any, whisper_baseline: Any, settings: Any) -> Any:
    """The free-transcription baseline as a Recognizer, or a reason (str) why it is not available."""
    if engine == "vosk":
        return vosk_free(recognizer, parts.understanding)
    cls = whisper_baseline(recognizer, parts.understanding)
    if cls is None:
        return "no free-transcription baseline found in kiosk/asr"
    return cls(recognizer, parts.understanding)


def _plots(results: dict[str, Any], records: dict[str, Any], out: Path, plots: Any) -> dict[str, str]:
    from bench.latency import PART_NAMES

    files: dict[str, str] = {}
    for engine, data in results.get("recognition", {}).items():
        for method, res in data["methods"].items():
            key = f"confusion_{engine}_{method}"
            plots.confusion_full(res["confusion_all"], f"{engine} / {method}: all conditions", out / f"{key}.png")
            files[key] = f"{key}.png"
            plots.confusion_by_condition(res["confusion"], f"{engine} / {method} by condition",
                                         out / f"{key}_conditions.png")
            files[f"{key}_conditions"] = f"{key}_conditions.png"
    for engine, replays in records.get("latency", {}).items():
        turns = [t for r in replays for t in r["turns"]]
        plots.latency_parts(engine, turns, PART_NAMES, out / f"latency_{engine}.png")
        files[f"latency_{engine}"] = f"latency_{engine}.png"
    decide = {e: {m: [r["decide_seconds"] for r in recs if r["decide_seconds"] is not None]
                  for m, recs in methods.items()} for e, methods in records.get("recognition", {}).items()}
    if decide:
        targets = {e: t for e, t in (("vosk", 0.150), ("whisper", 0.800)) if e in decide}
        plots.decide_distribution(decide, out / "latency_decide.png", targets)
        files["decide"] = "latency_decide.png"
    em = {e: [r["emergency_first_sample"] for r in replays if r["emergency_first_sample"] is not None]
          for e, replays in records.get("latency", {}).items()}
    if em:
        plots.emergency(em, 0.050, out / "latency_emergency.png")
        files["emergency"] = "latency_emergency.png"
    if results.get("soak") and records.get("soak"):
        plots.soak({**results["soak"], "rows": records["soak"]}, out / "soak.png")
        files["soak"] = "soak.png"
    return files


def _print_summary(results: dict[str, Any]) -> None:
    from bench.report import fmt

    print(f"benchmark: {results['meta']['duration_seconds']:.0f} s")
    for t in results["targets"]:
        verdict = {True: "pass", False: "MISS", None: "n/a"}[t["passed"]]
        print(f"  {verdict:4}  {t['engine']:8} {t['what']}: {fmt(t['measured'], t['unit'])} "
              f"(target {t['op']} {fmt(t['target'], t['unit'])}) {t['by']}")
    for err in results["errors"]:
        print(f"  not measured: {err}")


if __name__ == "__main__":
    main()
    sys.exit(0)
