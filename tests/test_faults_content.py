"""Broken content and settings stop the kiosk before a person is asked anything, with a message that names
the file, the item and the field; `kiosk check` validates it all with a clear exit code. And the rules give
a valid outcome for any answers at all, junk included.

Content validation itself is tested in tests/test_content.py; these tests run the real commands on a broken
copy of the real content folder (chosen with KIOSK_CONTENT) or grammar (KIOSK_GRAMMAR).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kiosk.content.bundle import Content
from kiosk.content.datafiles import content_dir, data_dir
from kiosk.content.levels import LEVELS, rank

ROOT = Path(__file__).resolve().parents[1]


def kiosk(*args: str, tmp: Path, stdin: str = "", **env: str) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("KIOSK_")}
    environ |= {"KIOSK_CONFIG": "", "KIOSK_DB": str(tmp / "s.db"), **env}
    proc = subprocess.run([sys.executable, "-m", "kiosk", *args], input=stdin, capture_output=True, text=True,
                          encoding="utf-8", env=environ, cwd=ROOT, timeout=120)
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc


BROKEN = {
    "bad-yaml": ("questions.yaml", "questions:\n", "questions:\n  - id: [unclosed\n",
                 ["questions.yaml", "not valid YAML at line"]),
    "unknown-question": ("rules.yaml", "    when: [{rf_fever: [\"yes\", unknown]}]",
                         "    when: [{rf_fevr: [\"yes\", unknown]}]",
                         ["rules.yaml: item 'fever', field 'when': unknown question 'rf_fevr'"]),
    "duplicate-id": ("questions.yaml", "  - id: stroke_face\n", "  - id: stroke_limb\n",
                     ["questions.yaml: item 'stroke_limb', field 'id'", "duplicate"]),
    "unsafe-rule": ("rules.yaml", "    when: [{stroke_speech: [\"yes\"]}]\n    level: emergency",
                    "    when: [{stroke_speech: [\"yes\"]}]\n    level: urgent",
                    ["rules.yaml: item 'stroke_speech', field 'when'", "every stroke sign"]),
    "age-on-a-place-question": ("questions.yaml", "    answers: [leg, thigh, back, knee]\n",
                                "    answers: [leg, thigh, back, knee]\n    yes_from_age: 65\n",
                                ["questions.yaml: item 'place', field 'yes_from_age'", "only a yes/no question"]),
    "age-not-a-number": ("questions.yaml", "\n    yes_from_age: 65", "\n    yes_from_age: 六十五",
                         ["questions.yaml: item 'age_65', field 'yes_from_age'", "whole number of years"]),
    "missing-text": ("speech.yaml", "  closing: ", "  closin: ", ["speech.yaml", "texts.closing", "missing"]),
    # YAML 1.1 reads bare yes/no as true/false: the message says to quote them.
    "bare-yes-in-a-rule": ("rules.yaml", "when: [{stroke_limb: [\"yes\"]}]", "when: [{stroke_limb: [yes]}]",
                           ["rules.yaml: item 'stroke_limb', field 'when'", 'write "yes" and "no" in quotes']),
    "bare-yes-no-answers": ("questions.yaml", "    answers: [\"yes\", \"no\"]\n", "    answers: [yes, no]\n",
                            ["questions.yaml: item 'stroke_limb', field 'answers'", 'write "yes" and "no" in quotes']),
}


@pytest.mark.parametrize("case", BROKEN, ids=list(BROKEN))
def test_check_names_file_item_and_field_of_broken_content(broken: Callable[[str, str, str], Path],
                                                           tmp_path: Path, case: str) -> None:
    file, old, new, expected = BROKEN[case]
    folder = broken(file, old, new)
    proc = kiosk("check", tmp=tmp_path, KIOSK_CONTENT=str(folder))
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.startswith("kiosk: ") and str(folder) in proc.stderr
    for part in expected:
        assert part in proc.stderr, proc.stderr


def test_check_passes_on_the_shipped_content(tmp_path: Path) -> None:
    proc = kiosk("check", tmp=tmp_path)
    assert proc.returncode == 0 and proc.stdout.startswith("content OK:")


def test_check_reports_prompt_audio_made_from_an_older_text(broken: Callable[[str, str, str], Path],
                                                            tmp_path: Path) -> None:
    folder = broken("speech.yaml", "  closing: ", "  closing: では、")
    proc = kiosk("check", tmp=tmp_path, KIOSK_CONTENT=str(folder))
    assert proc.returncode == 1
    assert "speech.closing (speech.yaml: item 'texts', field 'closing')" in proc.stderr
    assert "kiosk prompts build" in proc.stderr


def test_check_reports_a_missing_content_file(tmp_path: Path) -> None:
    folder = tmp_path / "content"
    shutil.copytree(content_dir(), folder)
    (folder / "advice.yaml").unlink()
    proc = kiosk("check", tmp=tmp_path, KIOSK_CONTENT=str(folder))
    assert proc.returncode == 2 and "advice.yaml" in proc.stderr and "file is missing" in proc.stderr


def test_check_reports_a_broken_grammar(tmp_path: Path) -> None:
    source = (data_dir("grammars") / "ja" / "answers.yaml").read_text(encoding="utf-8")
    grammar = tmp_path / "answers.yaml"
    grammar.write_text(source.replace("      - いや\n", "      - はい\n", 1), encoding="utf-8")
    proc = kiosk("check", tmp=tmp_path, KIOSK_GRAMMAR=str(grammar))
    assert proc.returncode == 2 and "answers.yaml" in proc.stderr and "also a phrase of 'yes'" in proc.stderr


def test_check_rejects_a_duplicate_key_that_would_drop_a_safety_gate(broken: Callable[[str, str, str], Path],
                                                                     tmp_path: Path) -> None:
    # A second `section:` used to win silently: stroke_face would no longer be a stroke question.
    folder = broken("questions.yaml", "  - id: stroke_face\n    section: stroke\n",
                    "  - id: stroke_face\n    section: stroke\n    section: history\n")
    proc = kiosk("check", tmp=tmp_path, KIOSK_CONTENT=str(folder))
    assert proc.returncode == 2 and proc.stdout == ""
    assert str(folder / "questions.yaml") in proc.stderr, proc.stderr
    first = (folder / "questions.yaml").read_text(encoding="utf-8").splitlines().index("  - id: stroke_face") + 2
    assert f"field 'section': duplicate key 'section' at line {first + 1} (first at line {first})" in proc.stderr


@pytest.mark.parametrize("value", ["emergency", "repeat", "unknown"])
def test_check_rejects_a_grammar_whose_always_list_lacks_a_required_value(tmp_path: Path, value: str) -> None:
    source = (data_dir("grammars") / "ja" / "answers.yaml").read_text(encoding="utf-8")
    line = "always: [unknown, repeat, emergency]\n"
    assert line in source, "test setup: the shipped always list changed"
    kept = ", ".join(v for v in ("unknown", "repeat", "emergency") if v != value)
    grammar = tmp_path / "answers.yaml"
    grammar.write_text(source.replace(line, f"always: [{kept}]\n", 1), encoding="utf-8")
    proc = kiosk("check", tmp=tmp_path, KIOSK_GRAMMAR=str(grammar))
    assert proc.returncode == 2 and proc.stdout == ""
    assert f"{grammar}: item '(top level)', field 'always': must include {value}" in proc.stderr, proc.stderr


@pytest.mark.parametrize("command", [["--jsonl"], ["--text"], ["replay", "ANSWERS", "--out", "OUT"]],
                         ids=["jsonl", "text", "replay"])
def test_the_kiosk_refuses_to_start_on_broken_content(broken: Callable[[str, str, str], Path], tmp_path: Path,
                                                      command: list[str]) -> None:
    folder = broken(*BROKEN["unknown-question"][:3])
    (tmp_path / "answers").mkdir()
    shutil.copy(ROOT / "tests" / "audio" / "ko" / "yes__네.wav", tmp_path / "answers" / "01.wav")
    places = {"ANSWERS": str(tmp_path / "answers"), "OUT": str(tmp_path / "out")}
    proc = kiosk(*[places.get(c, c) for c in command], tmp=tmp_path, stdin="いいえ\n" * 5,
                 KIOSK_CONTENT=str(folder))
    assert proc.returncode == 2
    assert proc.stdout == "", "not a single question is asked on content that failed its checks"
    assert "rules.yaml: item 'fever', field 'when': unknown question 'rf_fevr'" in proc.stderr
    assert not (tmp_path / "s.db").exists()


@pytest.mark.parametrize(("toml", "message"), [
    ("[site\nmode = 'clinic'\n", "cannot be read"),
    ("[site]\nmode = 'hospital'\n", "[site] mode is 'hospital'; choose one of home, clinic"),
    ("[listen]\nno_imput = 10\n", "[listen] has no setting 'no_imput'"),
    ("[site]\nstaff_alert_command = 'page-staff kiosk-1'\n", "must be a list of strings"),
], ids=["bad-toml", "bad-choice", "typo", "command-as-string"])
def test_broken_settings_stop_the_kiosk_with_the_setting_named(tmp_path: Path, toml: str, message: str) -> None:
    config = tmp_path / "kiosk.toml"
    config.write_text(toml, encoding="utf-8")
    proc = kiosk("--jsonl", tmp=tmp_path, KIOSK_CONFIG=str(config))
    assert proc.returncode == 2 and proc.stdout == ""
    assert str(config) in proc.stderr and message in proc.stderr, proc.stderr


# --- triage and outcomes for any answers at all ---

CONTENT = Content.load()
QUESTIONS = {q.id: q for q in CONTENT.questionnaire.questions}
GATE = [q.id for q in CONTENT.questionnaire.questions if q.section in ("stroke", "red_flag")]
JUNK_VALUES = st.one_of(st.text(max_size=12), st.none(), st.integers(), st.sampled_from(["YES", "はい", " no", ""]))
REAL_ANSWERS = st.fixed_dictionaries(
    {}, optional={qid: st.sampled_from(q.recorded_values) for qid, q in QUESTIONS.items()})  # type: ignore[arg-type]
JUNK_KEYS = st.dictionaries(st.text(max_size=15).filter(lambda k: k not in QUESTIONS), JUNK_VALUES, max_size=6)
JUNK_ON_REAL = st.dictionaries(st.sampled_from(sorted(QUESTIONS)), JUNK_VALUES, max_size=6)


@settings(max_examples=500, deadline=None)
@given(answers=REAL_ANSWERS, junk_keys=JUNK_KEYS, junk_on_real=JUNK_ON_REAL)
def test_any_answers_give_a_valid_outcome(answers: dict[str, str], junk_keys: dict[str, object],
                                          junk_on_real: dict[str, object]) -> None:
    mixed = {**answers, **junk_on_real, **junk_keys}
    triage = CONTENT.rules.triage(mixed)  # type: ignore[arg-type]
    assert triage.level in LEVELS
    outcome = CONTENT.outcomes.compose(triage, mixed)  # type: ignore[arg-type]
    assert outcome.level == triage.level and outcome.speech and outcome.departments is not None
    # Keys that are not questions are ignored.
    assert CONTENT.rules.triage({**answers, **junk_keys}) == CONTENT.rules.triage(answers)  # type: ignore[arg-type]


@settings(max_examples=400, deadline=None)
@given(answers=REAL_ANSWERS, qid=st.sampled_from(GATE), junk=JUNK_VALUES.filter(lambda v: v not in ("yes", "unknown")))
def test_junk_on_a_safety_question_never_ranks_below_a_clear_no(answers: dict[str, str], qid: str,
                                                                 junk: object) -> None:
    clear_no = rank(CONTENT.rules.triage({**answers, qid: "no"}).level)
    assert rank(CONTENT.rules.triage({**answers, qid: junk}).level) >= clear_no  # type: ignore[dict-item]
