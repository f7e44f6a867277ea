"""Answer recognition per engine and condition: share correct, share unknown, yes↔no swaps, confusion.

Every utterance goes through the kiosk's own listening path (`kiosk.session.listening.listen`: endpointer, then the
recognizer stream with the grammar of a question that accepts the expected answer), so the numbers are
what the kiosk would have understood. Yes/no clips, out-of-grammar clips and the answers accepted
everywhere (わかりません, もう一度, 救急車) are heard with a yes/no question's grammar — the question where a
swap or a false accept is dangerous.

Two methods on the same files in the same run:
- `grammar`: the engine scores the question's phrases (the product's recognizer);
- `naive`: free transcription, then the transcript is matched to the question's answers as text (the
  baseline that the grammar approach has to beat).
"""

from __future__ import annotations

import logging
import math
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from bench.common import CONDITIONS, Sample, chunks_of, samples, summary
from kiosk.asr.base import UNKNOWN, Grammar, Recognition, Recognizer
from kiosk.audio.endpoint import Endpointer, EndpointSettings
from kiosk.clock import SystemClock
from kiosk.dialog.understanding import UNDERSTOOD
from kiosk.session.listening import listen

log = logging.getLogger(__name__)

SWAPS = {("yes", "no"), ("no", "yes")}
REPEAT = "repeat"
"""Heard as 「もう一度」: the kiosk asks the question again, as for unknown — safe, but not the answer."""
OOV_ROW = "oov"
"""Row label of out-of-grammar utterances in the confusion matrices (expected: unknown)."""
NO_INPUT = "<no input>"
"""The endpointer heard no speech: the kiosk would ask again, counted as unknown."""


@dataclass
class Method:
    """One way of turning an utterance into an answer value: a Recognizer plus a grammar chooser."""

    name: str
    recognizer: Recognizer
    grammar_for: Callable[[str, bool], Grammar]
    every: int = 1
    """Run on every n-th utterance of the batch only (a costly baseline); compared on those files."""


def question_grammars(content: Any) -> Callable[[str, bool], Grammar]:
    """The grammar of a question that accepts `expected` (yes/no for yes/no, always-values and oov)."""
    yes_no: Grammar = content.phrases.grammar(("yes", "no"))
    by_value: dict[str, Grammar] = {}
    for question in content.questionnaire.questions:
        for value in question.answers:
            by_value.setdefault(value, content.phrases.grammar(question.answers))
    if UNDERSTOOD in content.phrases.by_answer:  # the emergency prompt's acknowledgement (はい or わかりました)
        by_value[UNDERSTOOD] = content.phrases.grammar(("yes", "no", UNDERSTOOD))

    def choose(expected: str, oov: bool) -> Grammar:
        if oov or expected in ("yes", "no") or expected not in by_value:
            return yes_no
        return by_value[expected]

    return choose


def kiosk_endpoint_settings() -> EndpointSettings:
    """The endpointer exactly as the kiosk sets it up from its default settings."""
    from kiosk.session.assembly import endpoint_settings
    from kiosk.settings import Settings

    return endpoint_settings(Settings().listen)


def recognise(sample: Sample, method: Method, endpoint: EndpointSettings | None = None) -> dict[str, Any]:
    """One utterance through the endpointer and the recognizer: what was heard and where the time went."""
    grammar = method.grammar_for(sample.expected, sample.oov)
    endpoint = endpoint or kiosk_endpoint_settings()
    endpointer = Endpointer(endpoint)
    started = time.perf_counter()
    cpu = time.process_time()
    listened = listen(chunks_of(sample.pcm), endpointer, method.recognizer, grammar, SystemClock())
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu
    result: Recognition | None = listened.recognition
    got = result.answer if result is not None else UNKNOWN
    endpoint_delay = (listened.endpoint - listened.speech_end
                      if listened.endpoint is not None and listened.speech_end is not None else None)
    trailing = endpoint.trailing_silence
    return {
        "name": sample.name, "condition": sample.condition, "expected": sample.expected, "oov": sample.oov,
        "got": got, "text": result.text if result is not None else NO_INPUT,
        "confidence": round(result.confidence, 4) if result is not None else None,
        "no_input": result is None,
        "speech_end": listened.speech_end, "endpoint": listened.endpoint, "endpoint_delay": endpoint_delay,
        "endpoint_by": None if endpoint_delay is None else
        ("silence" if endpoint_delay >= trailing - 0.031 else "end of audio"),
        "decide_seconds": listened.decide_seconds if result is not None else None,
        "wall_seconds": wall, "cpu_seconds": cpu, "audio_seconds": len(sample.pcm) / 32000,
    }


def wilson(successes: int, n: int, z: float = 1.96) -> tuple[float, float] | None:
    """95 % Wilson score interval of a share: how sure a share measured on n utterances is."""
    if n == 0:
        return None
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def score(records: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """Shares and counts for one set of records (one engine, method and condition)."""
    records = list(records)
    inside = [r for r in records if not r["oov"]]
    oov = [r for r in records if r["oov"]]
    correct = sum(r["got"] == r["expected"] for r in inside)
    unknown = sum(r["got"] == UNKNOWN and r["expected"] != UNKNOWN for r in inside)
    repeat = sum(r["got"] == REPEAT and r["expected"] != REPEAT for r in inside)
    swaps = [r["name"] for r in inside if (r["expected"], r["got"]) in SWAPS]
    wrong = [r["name"] for r in inside if r["got"] not in (r["expected"], UNKNOWN, REPEAT)]
    false_accepts = [f'{r["name"]} → {r["got"]}' for r in oov if r["got"] != UNKNOWN]
    missed = [f'{r["name"]} → {r["got"]}' for r in inside if r["got"] != r["expected"]]
    answered = [f'{r["name"]} → {r["got"]}' for r in oov if r["got"] not in (UNKNOWN, REPEAT)]
    return {
        "n": len(inside),
        "correct": correct,
        "correct_share": correct / len(inside) if inside else None,
        "correct_ci95": wilson(correct, len(inside)),
        "unknown": unknown,
        "unknown_share": unknown / len(inside) if inside else None,
        "repeat": repeat,
        "repeat_share": repeat / len(inside) if inside else None,
        "wrong": len(wrong),
        "wrong_share": len(wrong) / len(inside) if inside else None,
        "wrong_files": wrong,
        "missed_files": missed,
        "yes_no_swaps": len(swaps),
        "swap_files": swaps,
        "oov_n": len(oov),
        "oov_unknown": len(oov) - len(false_accepts),
        "oov_unknown_share": (len(oov) - len(false_accepts)) / len(oov) if oov else None,
        "oov_unknown_ci95": wilson(len(oov) - len(false_accepts), len(oov)),
        "oov_false_accepts": false_accepts,
        "oov_answered": answered,
        "no_input": sum(r["no_input"] for r in records),
        "ended_by_end_of_audio": sum(r["endpoint_by"] == "end of audio" for r in records),
    }


def confusion(records: Iterable[dict[str, Any]]) -> dict[str, dict[str, int]]:
    """expected (oov for out-of-grammar) → recognised → count."""
    table: dict[str, Counter[str]] = defaultdict(Counter)
    for r in records:
        table[OOV_ROW if r["oov"] else r["expected"]][r["got"]] += 1
    return {row: dict(cols) for row, cols in table.items()}


def run_engine(engine: str, methods: list[Method], conditions: Iterable[str], every: int | dict[str, int],
               language: str, limit: int | None = None,
               progress: Callable[[str], None] = lambda s: print(s, file=sys.stderr, flush=True)) -> dict[str, Any]:
    """Every method on every condition's samples; the same samples for every method (or a subset of them)."""
    records: dict[str, list[dict[str, Any]]] = {m.name: [] for m in methods}
    for condition in conditions:
        n = every if isinstance(every, int) else every.get(condition, 1)
        batch = samples(language, condition, n, limit)
        for method in methods:
            started = time.perf_counter()
            chosen = batch[:: method.every]
            for sample in chosen:
                record = recognise(sample, method)
                record["engine"], record["method"] = engine, method.name
                records[method.name].append(record)
            progress(f"  recognition {engine}/{method.name}/{condition}: {len(chosen)} utterances in "
                     f"{time.perf_counter() - started:.1f} s")
    out = summarise(engine, records, language)
    for method in methods:
        out["methods"][method.name]["recognizer"] = type(method.recognizer).__name__
    return out


def summarise(engine: str, records: dict[str, list[dict[str, Any]]], language: str) -> dict[str, Any]:
    out: dict[str, Any] = {"engine": engine, "language": language, "methods": {}}
    for method, recs in records.items():
        conditions = list(dict.fromkeys(r["condition"] for r in recs))
        per = {c: score(r for r in recs if r["condition"] == c) for c in conditions}
        recorded_oov = [r for r in recs if r["oov"] and CONDITIONS[r["condition"]][1] is None]
        per_conf = {c: confusion(r for r in recs if r["condition"] == c) for c in conditions}
        out["methods"][method] = {
            "conditions": per,
            "out_of_grammar": score(recorded_oov),
            "all": score(recs),
            "confusion": per_conf,
            "confusion_all": confusion(recs),
            "endpoint_to_decided": summary([r["decide_seconds"] for r in recs if r["decide_seconds"] is not None]),
            "endpoint_to_decided_by_condition": {
                c: summary([r["decide_seconds"] for r in recs if r["condition"] == c and r["decide_seconds"]
                            is not None]) for c in conditions},
            "speech_end_to_endpoint": summary([r["endpoint_delay"] for r in recs
                                               if r["endpoint_delay"] is not None]),
            "records": recs,
        }
    if "grammar" in records and "naive" in records:
        out["paired"] = paired(records["grammar"], records["naive"])
    return out


def paired(grammar: list[dict[str, Any]], naive: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Both methods scored on exactly the same files (the naive baseline may have run on a subset)."""
    out: dict[str, dict[str, Any]] = {}
    for condition in dict.fromkeys(r["condition"] for r in naive):
        names = {r["name"] for r in naive if r["condition"] == condition}
        out[condition] = {
            "grammar": score(r for r in grammar if r["condition"] == condition and r["name"] in names),
            "naive": score(r for r in naive if r["condition"] == condition),
        }
    return out
