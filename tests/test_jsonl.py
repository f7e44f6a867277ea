"""The JSON-lines session driven by a program, as a subprocess, through every question path."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from kiosk.content.bundle import Content
from kiosk.session.records import SessionStore
from tests.jsonl_driver import UTTERANCES, answers_by_id, drive, drive_in_process


def outcome_of(events: list[dict[str, Any]]) -> dict[str, Any]:
    """The outcome event (after it come 「くわしく聞きますか」 and the closing words)."""
    return next(e for e in events if e["type"] == "outcome")


def test_every_question_path_through_jsonl(content: Content, tmp_path: Path) -> None:
    from tests.test_triage_safety import COMPLAINT, complaint_paths

    db = tmp_path / "s.db"
    asked_anywhere: set[str] = set()
    paths = complaint_paths(content)[::13]
    runs = [(p, {}) for p in paths] + [(p, {"knee_giving_way": "yes", "stroke_before": "yes", "age_55": "yes",
                                            "age_65": "yes"}) for p in paths[::3]]
    for complaint, more in runs:
        values = {**complaint, **more}
        events = drive_in_process(answers_by_id(values), db)
        asks = [e for e in events if e["type"] == "ask" and e["id"] != "details"]
        heard = [e for e in events if e["type"] == "heard"]
        assert len({e["id"] for e in asks}) == len(heard), "each question is answered once"
        for e in heard:
            if e["id"] in values:
                assert e["answer"] == values[e["id"]], e
        outcome = outcome_of(events)
        assert outcome["departments"] and outcome["reasons"] is not None
        if outcome["level"] != "emergency":
            assert events[-1] == {"type": "say", "text": content.speech["closing"]}, "offered the rest, then ended"
        asked_anywhere |= {e["id"] for e in asks}
    assert set(COMPLAINT) <= asked_anywhere and len(asked_anywhere) >= len(content.questionnaire.ids()) - 10
    assert len(SessionStore(db).recent(5000)) == len(runs)


def test_event_shapes(tmp_path: Path) -> None:
    events, code, _ = drive(answers_by_id({"stroke_face": "yes"}), tmp_path / "s.db")
    assert code == 0
    ask = next(e for e in events if e["type"] == "ask")
    assert set(ask) >= {"type", "id", "text", "answers"} and ask["answers"] == ["yes", "no"]
    assert {"type": "heard", "id": "stroke_limb", "answer": "no"}.items() <= events[3].items()
    kinds = [e["type"] for e in events]
    assert kinds[-3:] == ["emergency", "heard", "outcome"]  # the emergency before anything else
    outcome = events[-1]
    assert outcome["level"] == "emergency" and outcome["departments"] == ["neuro"] and outcome["reasons"]
    assert all(e["text"] for e in events if e["type"] in ("say", "ask"))


def test_unclear_lines_are_asked_again_then_understood(tmp_path: Path) -> None:
    replies = iter(["？？？", "ぶぶぶ", "はい"])
    events, code, _ = drive(lambda e: next(replies, UTTERANCES["no"]), tmp_path / "s.db")
    asks = [e for e in events if e["type"] == "ask" and e["id"] == "stroke_limb"]
    assert [a["attempt"] for a in asks] == [1, 2, 3]
    assert any(e["type"] == "say" and "聞き取れません" in e["text"] for e in events)
    assert events[-1]["level"] == "emergency"


def test_lines_never_understood_become_unknown_not_no(tmp_path: Path) -> None:
    replies = iter(["？？？", "ぶぶぶ", "えーと"])
    events, code, _ = drive(lambda e: next(replies, UTTERANCES["no"]), tmp_path / "s.db")
    heard = next(e for e in events if e["type"] == "heard")
    assert heard == {**heard, "id": "stroke_limb", "answer": "unknown"}
    assert outcome_of(events)["level"] == "urgent"  # an unanswered stroke question is never treated as "no"


def test_end_of_input_stops_cleanly_and_keeps_the_partial_record(tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    env = {**os.environ, "KIOSK_DB": str(db), "KIOSK_CONFIG": ""}
    proc = subprocess.run([sys.executable, "-m", "kiosk", "--jsonl"], input="いいえ\nいいえ\n", text=True,
                          capture_output=True, env=env, timeout=60)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    said, last = (json.loads(line) for line in proc.stdout.splitlines()[-2:])
    assert said == {"type": "say", "text": "セルフチェックを中断しました。"}
    assert last == {"type": "ended", "reason": "input_ended"}, "a screen program learns there is no outcome"
    record = SessionStore(db).recent(1)[0]
    assert not record["completed"] and record["answers"] == {"stroke_limb": "no", "stroke_face": "no"}


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["systemctl-stop", "ctrl-c"])
def test_a_session_stopped_from_outside_keeps_its_partial_record(tmp_path: Path, sig: signal.Signals) -> None:
    # systemctl stop/restart (SIGTERM) or Ctrl-C in the middle of a check: the answers given are not lost.
    db = tmp_path / "s.db"
    env = {**os.environ, "KIOSK_DB": str(db), "KIOSK_CONFIG": ""}
    proc = subprocess.Popen([sys.executable, "-m", "kiosk", "--jsonl"], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    assert proc.stdin is not None and proc.stdout is not None
    try:
        asks = 0
        for line in proc.stdout:
            if json.loads(line)["type"] == "ask":
                asks += 1
                if asks == 1:
                    proc.stdin.write("いいえ\n")
                    proc.stdin.flush()
                else:
                    break  # waiting for the second answer
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == (0 if sig == signal.SIGTERM else 130), err
    assert "Traceback" not in err
    assert json.loads(out.splitlines()[-1]) == {"type": "ended", "reason": "stopped"}
    record = SessionStore(db).recent(1)[0]
    assert not record["completed"] and record["answers"] == {"stroke_limb": "no"}


def test_unwritable_database_still_gives_the_outcome(tmp_path: Path) -> None:
    blocked = tmp_path / "file"
    blocked.write_text("not a folder")
    events, code, err = drive(answers_by_id({"stroke_limb": "yes"}), blocked / "s.db")
    assert code == 0 and events[-1]["level"] == "emergency"
    assert "cannot be opened" in err and "Traceback" not in err


def test_history_command_lists_sessions(tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    drive(answers_by_id({"stroke_speech": "yes"}), db)
    env = {**os.environ, "KIOSK_DB": str(db), "KIOSK_CONFIG": ""}
    out = subprocess.run([sys.executable, "-m", "kiosk", "history", "--json"], text=True, capture_output=True,
                         env=env, timeout=60)
    rows: list[dict[str, Any]] = [json.loads(x) for x in out.stdout.splitlines()]
    assert rows[0]["level"] == "emergency" and rows[0]["reasons"] == ["stroke_speech"]
    human = subprocess.run([sys.executable, "-m", "kiosk", "history"], text=True, capture_output=True, env=env)
    assert "emergency" in human.stdout and "stroke_speech" in human.stdout


def test_an_overlong_line_is_one_answer_not_many(tmp_path: Path) -> None:
    # Before: the line was cut every 1000 characters and its tail answered the next ask.
    replies = iter(["あ" * 5000 + "はい"])
    events, code, _ = drive(lambda e: next(replies, UTTERANCES["no"]), tmp_path / "s.db")
    asks = [e for e in events if e["type"] == "ask" and e["id"] == "stroke_limb"]
    assert [a["attempt"] for a in asks] == [1, 2]
    assert outcome_of(events)["level"] != "emergency"


def test_age_and_place_said_as_people_say_them(tmp_path: Path) -> None:
    typed = {"age_55": "78歳です", "place": "右足です", "kind": "痛みです", "duration": "３日前", "onset": "少しずつ"}
    events, code, err = drive(lambda e: typed.get(e["id"]) or answers_by_id({})(e), tmp_path / "s.db")
    assert code == 0, err
    heard = {e["id"]: e["answer"] for e in events if e["type"] == "heard"}
    assert heard["age_55"] == "yes" and heard["place"] == "leg"
    assert [e["id"] for e in events if e["type"] == "ask"].count("place") == 1  # understood the first time


def test_typed_mode_ends_readably_when_the_input_ends_after_an_urgent_answer(tmp_path: Path) -> None:
    # `kiosk --text`: the person stops typing after answering that they cannot stand (urgent). They read that
    # the check stopped and that they should see a doctor soon; no traceback from the end marker.
    env = {**os.environ, "KIOSK_DB": str(tmp_path / "s.db"), "KIOSK_CONFIG": ""}
    typed = "いいえ\n" * 6 + "腰です\n痛みです\n数週間前\nいいえ\nいいえ\nはい\n"  # bladder, saddle: no
    proc = subprocess.run([sys.executable, "-m", "kiosk", "--text"], input=typed, text=True,
                          capture_output=True, env=env, timeout=60)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr, proc.stderr
    tail = proc.stdout[proc.stdout.index("中断しました"):]
    assert "ここまでのお答えから" in tail and "できるだけ早く" in tail and "医療機関を受診してください" in tail
