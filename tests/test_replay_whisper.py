"""Japanese sessions replayed end to end through the Whisper engine (real model, generated Japanese speech)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from bench.testset import default_root, list_clips
from kiosk.content.bundle import Content
from tests.model_paths import whisper_model_dir

pytestmark = pytest.mark.whisper

# Answers by question (a keyed manifest): Whisper is often unsure of a "no" on a safety question, and the
# kiosk then asks again; the same recorded answer is replayed for the second asking.
ROUTINE = {"place": "back", "kind": "pain", "side": "middle", "onset": "gradual", "duration": "weeks",
           "work_posture": "neither"}
HISTORY_NO = tuple(q.id for q in Content.load().questionnaire.questions
                   if q.section == "history" and set(q.answers) == {"yes", "no"})


def keyed_clips(answers: dict[str, str]) -> dict[str, str]:
    """One clean clip per question, rotating voices and phrases so the session hears several speakers."""
    by_answer: dict[str, list[Path]] = {}
    for clip in list_clips(default_root(), "clean"):
        if not clip.oov:
            by_answer.setdefault(clip.expected, []).append(clip.path)
    return {q: str(sorted(by_answer[a])[i % len(by_answer[a])]) for i, (q, a) in enumerate(answers.items())}


def replay(tmp_path: Path, answers: dict[str, str],
           clips: dict[str, str] | None = None) -> tuple[int, dict[str, Any], list[dict[str, Any]]]:
    """Replay a session: `answers` by question are answered with clips of that value, `clips` with those files."""
    manifest = tmp_path / "answers.json"
    by_question = {**keyed_clips(answers), **(clips or {})}
    manifest.write_text(json.dumps({"by_question": by_question}, ensure_ascii=False), encoding="utf-8")
    config = tmp_path / "kiosk.toml"
    config.write_text("[listen]\nemergency_repeats = 1\n", encoding="utf-8")
    env = {**os.environ, "KIOSK_CONFIG": str(config), "KIOSK_ENGINE": "whisper",
           "KIOSK_WHISPER_MODEL": str(whisper_model_dir()), "KIOSK_DB": str(tmp_path / "s.db")}
    out = tmp_path / "out"
    proc = subprocess.run([sys.executable, "-m", "kiosk", "replay", str(manifest), "--out", str(out)],
                          capture_output=True, text=True, env=env, timeout=600)
    assert "Traceback" not in proc.stderr, proc.stderr
    result = json.loads((out / "outcome.json").read_text(encoding="utf-8"))
    events = [json.loads(x) for x in (out / "transcript.jsonl").read_text(encoding="utf-8").splitlines()]
    return proc.returncode, result, events


@pytest.mark.slow  # a whole session through Whisper: about a minute
def test_japanese_routine_session(tmp_path: Path, content: Content) -> None:
    # Every yes/no question gets a 「いいえ」 clip, so a follow-up asked because Whisper stayed unsure of an
    # earlier answer (e.g. knee_more_often after an unknown knee_giving_way) is answered too.
    yes_no = {q.id: "no" for q in content.questionnaire.questions if set(q.answers) <= {"yes", "no"}}
    code, result, events = replay(tmp_path, {**yes_no, **ROUTINE, **dict.fromkeys(HISTORY_NO, "no")})
    heard = {e["id"]: e["answer"] for e in events if e["type"] == "heard"}
    assert code == 0, result
    assert heard["place"] == "back" and heard["kind"] == "pain" and heard["duration"] == "weeks"
    safety = {q.id for q in content.questionnaire.questions if q.is_safety_gate and q.id in heard}
    # Every safety "no" is heard as "no", or, when Whisper stays unsure after asking twice, recorded as
    # "unknown" (which raises the level): never as "yes", and never a lower level than the answers warrant.
    assert all(heard[q] in ("no", "unknown") for q in safety), {q: heard[q] for q in safety}
    unsure = sorted(q for q in safety if heard[q] == "unknown")
    level = result["outcome"]["level"]
    assert level == content.rules.triage(heard).level, f"unsure safety answers: {unsure}"
    assert level in (("consult",) if not unsure else ("consult", "urgent")), f"unsure safety answers: {unsure}"


def test_japanese_emergency_session(tmp_path: Path) -> None:
    code, result, events = replay(tmp_path, {"stroke_limb": "no", "stroke_face": "no", "stroke_speech": "yes",
                                             "emergency_ack": "yes"})
    kinds = [e["type"] for e in events]
    assert code == 0
    assert result["outcome"]["level"] == "emergency" and result["outcome"]["rules"] == ["stroke_speech"]
    assert kinds.index("emergency") == kinds.index("outcome") - 2  # the prompt first, then what was heard
    # Acknowledged; at home nobody has been called yet, so the kiosk says to call 119 if they have not.
    assert any(e["type"] == "say" and "まだ119番に電話していなければ" in e["text"] for e in events)


# Negated verbs end in ない like the answer ない (= no), but say the opposite: 「立てない」 to "are you suddenly
# weak?" is a yes. Whisper may score them as ない (clean/oov__立てない__kokoro-alpha.wav: "no", confidence 0.65);
# the dialog must then ask again and never record a "no" (confirm_no_below, asked twice).
NEGATED = ("立てない", "力が出ない", "おしっこが出ない", "歩けない", "うまく話せない", "足が上がらない")


@pytest.mark.slow  # a whole session through Whisper: about a minute
def test_negated_verbs_are_never_recorded_as_no_on_a_safety_question(tmp_path: Path, content: Content) -> None:
    negated = sorted(str(c.path) for c in list_clips(default_root()) if c.oov and c.text in NEGATED)
    first = str(default_root() / "clean" / "oov__立てない__kokoro-alpha.wav")
    assert first in negated and len(negated) == 3 * len(NEGATED), negated
    negated.remove(first)
    safety = [q.id for q in content.questionnaire.questions if q.is_safety_gate]
    # stroke_limb first gets the clip Whisper takes as ない; the other safety questions get the other clips.
    clips = {q: clip for q, clip in zip(safety, [first, *negated])}
    code, result, events = replay(tmp_path, {**ROUTINE, **dict.fromkeys(HISTORY_NO, "no")}, clips)
    heard = {e["id"]: e["answer"] for e in events if e["type"] == "heard"}
    assert code == 0, result
    answered = {q: heard[q] for q in clips if q in heard}
    print(f"\nnegated answers heard: {answered}")
    assert answered and "no" not in answered.values(), answered
    assert heard["stroke_limb"] in ("unknown", "yes")
    assert result["outcome"]["level"] in ("urgent", "emergency")
