"""A program that drives `kiosk --jsonl` like a person typing: reads events, answers each question."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

# How a person might type each answer value.
UTTERANCES = {
    "yes": "はい、あります", "no": "いいえ、ありません", "unknown": "わかりません", "right": "右です",
    "left": "ひだり", "both": "両方です", "leg": "足です", "thigh": "太もも", "back": "腰です", "knee": "ひざ",
    "sudden": "急にです", "gradual": "少しずつです", "today": "今日から", "yesterday": "きのうから", "days": "３日前",
    "weeks": "２週間前",
    "months": "半年くらい前", "stairs": "階段を下りるとき", "walking": "歩いているとき",
    "standing_up": "立ち上がるとき",
    "turning": "向きを変えるとき", "sitting": "座り仕事です", "standing": "立ち仕事です", "neither": "どちらでもない",
    "repeat": "もう一度お願いします", "emergency": "救急車を呼んでください",
    "middle": "真ん中です", "weak": "力が入らないです", "pain": "痛みです", "fall": "転びました",
    "twist": "ひねりました", "lifting": "重い物を持った",
}


def drive(answer_for: Callable[[dict[str, Any]], str], db: Path, extra_env: Mapping[str, str] | None = None,
          timeout: float = 60.0) -> tuple[list[dict[str, Any]], int, str]:
    """Run one session in a subprocess; returns (events, exit code, stderr)."""
    env = {**os.environ, "KIOSK_DB": str(db), "KIOSK_CONFIG": "", **(extra_env or {})}
    proc = subprocess.Popen([sys.executable, "-m", "kiosk", "--jsonl"], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, encoding="utf-8", env=env)
    assert proc.stdin and proc.stdout and proc.stderr
    events: list[dict[str, Any]] = []
    for line in proc.stdout:
        event = json.loads(line)
        events.append(event)
        if event["type"] == "ask":
            proc.stdin.write(answer_for(event) + "\n")
            proc.stdin.flush()
        if event["type"] == "outcome":
            break
    proc.stdin.close()
    rest = proc.stdout.read()
    events += [json.loads(x) for x in rest.splitlines() if x.strip()]
    code = proc.wait(timeout=timeout)
    return events, code, proc.stderr.read()


def drive_in_process(answer_for: Callable[[dict[str, Any]], str], db: Path) -> list[dict[str, Any]]:
    """The same session as `drive`, through the same TypedSession and JSON events, without a process per session
    (for walking hundreds of question paths; `drive` keeps one real `kiosk --jsonl` per test where it matters)."""
    from kiosk.session.typed import build_text_session
    from kiosk.settings import load_settings

    events: list[dict[str, Any]] = []

    class Events(io.StringIO):
        def write(self, text: str) -> int:
            events.extend(json.loads(line) for line in text.splitlines() if line.strip())
            return len(text)

    class Person(io.StringIO):
        def readline(self, size: int | None = -1) -> str:
            ask = next(e for e in reversed(events) if e["type"] == "ask")
            return answer_for(ask) + "\n"

    settings = load_settings(None, environ={"KIOSK_DB": str(db)})
    build_text_session(settings, jsonl=True, out=Events()).run(Person())
    return events


def answers_by_id(values: Mapping[str, str]) -> Callable[[dict[str, Any]], str]:
    """Type the utterance for values[id]; 'no' for unlisted yes/no questions, else the first answer."""

    def answer(event: dict[str, Any]) -> str:
        value = values.get(event["id"]) or ("no" if "no" in event["answers"] else event["answers"][0])
        return UTTERANCES[value]

    return answer
