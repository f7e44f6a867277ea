"""The safety manifest (kiosk/content/safety_manifest.py) against edits of the content: removing, relabelling,
reordering or weakening a pinned stroke sign or red flag stops `kiosk check` and every start with a message
naming the file, the item and the field; and the departments of an outcome always fit its level, a call for
help included (checked over every set of rules that can fire, and at every question of the real dialog)."""

from __future__ import annotations

import itertools
import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from kiosk.clock import SystemClock
from kiosk.content.bundle import Content
from kiosk.content.levels import EMERGENCY, LEVELS, SELF_CARE, rank
from kiosk.content.safety_manifest import EMERGENCY_DEPARTMENTS, RED_FLAGS, SELF_CARE_ONLY_DEPARTMENTS, STROKE_GATE
from kiosk.content.triage import Rule, Triage
from kiosk.dialog.actions import Ask, Finished
from kiosk.dialog.machine import Dialog
from kiosk.dialog.understanding import CALL_FOR_HELP, Heard
from kiosk.errors import ContentError
from kiosk.settings import DialogSettings, SiteSettings

ROOT = Path(__file__).resolve().parents[1]


def _question_block(text: str, qid: str) -> str:
    start = text.index(f"  - id: {qid}\n")
    end = text.find("\n  - id: ", start + 1)
    return text[start:end + 1] if end != -1 else text[start:]


def _edit(folder: Path, name: str, change: Callable[[str], str]) -> Path:
    path = folder / name
    text = path.read_text(encoding="utf-8")
    changed = change(text)
    assert changed != text, f"test setup: {name} unchanged"
    path.write_text(changed, encoding="utf-8")
    return folder


def _delete_question_and_rule(qid: str, rule: str | None = None) -> Callable[[Path], object]:
    def edit(folder: Path) -> None:
        _edit(folder, "questions.yaml", lambda t: t.replace(_question_block(t, qid), ""))
        # its own rule, and its line in the 'uncertain' rule
        _edit(folder, "rules.yaml", lambda t: re.sub(rf"  - id: {rule or qid}\n(    .*\n)+", "",
                                                     t.replace(f"      - {{{qid}: [unknown]}}\n", "")))
    return edit


def _move_after(qid: str, anchor: str) -> Callable[[Path], object]:
    def edit(folder: Path) -> None:
        def move(text: str) -> str:
            block = _question_block(text, qid)
            text = text.replace(block, "")
            target = _question_block(text, anchor)
            return text.replace(target, target + block)
        _edit(folder, "questions.yaml", move)
    return edit


EDITS: dict[str, tuple[Callable[[Path], object], str, str, str, str]] = {
    # the fault the issue found: stroke_face relabelled as history and its rule lowered
    "relabel-and-lower": (lambda f: (_edit(f, "questions.yaml", lambda t: t.replace(
        "  - id: stroke_face\n    section: stroke\n", "  - id: stroke_face\n    section: history\n")),
        _edit(f, "rules.yaml", lambda t: t.replace("    when: [{stroke_face: [\"yes\"]}]\n    level: emergency",
                                                   "    when: [{stroke_face: [\"yes\"]}]\n    level: consult"))),
        "questions.yaml", "stroke_face", "section", "pins 'stroke_face'"),
    "relabel-as-red-flag": (lambda f: _edit(f, "questions.yaml", lambda t: t.replace(
        "  - id: stroke_balance\n    section: stroke\n", "  - id: stroke_balance\n    section: red_flag\n")),
        "questions.yaml", "stroke_balance", "section", "as 'stroke'"),
    "delete-leg-sign": (_delete_question_and_rule("stroke_limb"), "questions.yaml", "stroke_limb", "id",
                        "missing: 'stroke_limb'"),
    "delete-face-sign": (_delete_question_and_rule("stroke_face"), "questions.yaml", "stroke_face", "id",
                         "missing"),
    "reorder-after-red-flags": (_move_after("stroke_vision", "rf_bladder"), "questions.yaml", "stroke_vision",
                                "order", "stroke signs come first"),
    "red-flag-after-history": (_move_after("rf_saddle", "age_65"), "questions.yaml", "rf_saddle", "order",
                               "before the history questions"),
    "red-flag-relabelled": (lambda f: _edit(f, "questions.yaml", lambda t: t.replace(
        "  - id: rf_fever\n    section: red_flag\n", "  - id: rf_fever\n    section: history\n")),
        "questions.yaml", "rf_fever", "section", "as 'red_flag'"),
    "red-flag-weakened": (lambda f: _edit(f, "rules.yaml", lambda t: t.replace(
        "      - {rf_bladder: [\"yes\"], kind: [weak, unknown]}\n    level: emergency",
        "      - {rf_bladder: [\"yes\"], kind: [weak, unknown]}\n    level: urgent")),
        "rules.yaml", "cauda_bladder", "level", "pins 'rf_bladder' = yes"),
    # issue 20: a red flag is tied to the complaints CLINICAL.md gives it, and the manifest pins that scope
    "red-flag-narrowed": (lambda f: _edit(f, "rules.yaml", lambda t: t.replace(
        "    when: [{rf_night_pain: [\"yes\", unknown], place: [back, leg, thigh, unknown], kind: [pain, unknown]}]",
        "    when: [{rf_night_pain: [\"yes\", unknown], place: [back], kind: [pain, unknown]}]")),
        "rules.yaml", "night_pain", "level", "pins 'rf_night_pain' = yes for a complaint of"),
    "red-flag-deleted": (_delete_question_and_rule("rf_cannot_stand", "cannot_stand"), "questions.yaml",
                         "rf_cannot_stand", "id", "missing"),
    "osteopath-in-an-urgent-rule": (lambda f: _edit(f, "rules.yaml", lambda t: t.replace(
        "    level: urgent\n    departments: [ortho, internal]",
        "    level: urgent\n    departments: [ortho, rehab]", 1)),
        "rules.yaml", "fever", "departments", "self_care only"),
    "osteopath-as-emergency-default": (lambda f: _edit(f, "outcomes.yaml", lambda t: t.replace(
        "    default_departments: [neuro]", "    default_departments: [rehab]")),
        "outcomes.yaml", "levels.emergency", "default_departments", "must include ['neuro']"),
}


@pytest.mark.parametrize("case", EDITS, ids=list(EDITS))
def test_an_edit_that_breaks_the_manifest_stops_loading_and_names_file_item_and_field(
        case: str, broken: Callable[[str, str, str], Path]) -> None:
    edit, file, item, field, problem = EDITS[case]
    folder = broken("speech.yaml", "", "")  # an untouched copy of the shipped content
    edit(folder)
    with pytest.raises(ContentError) as err:
        Content.load(folder)
    assert err.value.file.endswith(file) and err.value.item == item and err.value.field == field, err.value
    assert problem in str(err.value)
    assert "safety_manifest" in str(err.value) or "every stroke sign" in str(err.value)


@pytest.mark.parametrize("command", [["check"], ["--jsonl"], ["--text"], ["doctor", "--only", "content"]])
def test_check_doctor_and_start_refuse_a_relabelled_stroke_sign(
        command: list[str], broken: Callable[[str, str, str], Path], tmp_path: Path) -> None:
    folder = broken("questions.yaml", "  - id: stroke_face\n    section: stroke\n",
                    "  - id: stroke_face\n    section: history\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("KIOSK_")}
    env |= {"KIOSK_CONFIG": "", "KIOSK_DB": str(tmp_path / "s.db"), "KIOSK_CONTENT": str(folder)}
    proc = subprocess.run([sys.executable, "-m", "kiosk", *command], input="はい\n", capture_output=True, text=True,
                          env=env, cwd=ROOT, timeout=120)
    assert proc.returncode in (1, 2) and "Traceback" not in proc.stderr
    said = proc.stdout + proc.stderr
    assert f"{folder / 'questions.yaml'}: item 'stroke_face', field 'section'" in said, said
    assert "content OK" not in said and '"ask"' not in said and not (tmp_path / "s.db").exists()


def test_rewording_a_pinned_question_is_allowed(broken: Callable[[str, str, str], Path]) -> None:
    # The manifest pins ids and properties, not wording (the clinical texts are reworded with time anchors).
    folder = broken("questions.yaml", "text: 今日か昨日、急に、顔の片側が", "text: 今日か昨日から、急に、顔の片側が")
    content = Content.load(folder)
    assert content.questionnaire.by_id("stroke_face").text.startswith("今日か昨日から")


def test_the_manifest_covers_the_be_fast_signs_and_every_shipped_gate(content: Content) -> None:
    assert {"stroke_limb", "stroke_face", "stroke_speech", "stroke_vision", "stroke_balance",
            "stroke_numbness"} <= set(STROKE_GATE)
    assert "leg" in STROKE_GATE["stroke_limb"], "leg weakness is a stroke sign here (BE-FAST)"
    sections = {q.id: q.section for q in content.questionnaire.questions}
    assert {q for q, s in sections.items() if s == "red_flag"} <= set(RED_FLAGS)
    assert {q for q, s in sections.items() if s == "stroke"} >= set(STROKE_GATE)


# --- departments fit the level ---

def _fired_sets(content: Content) -> list[Rule]:
    """One representative rule for each distinct (level, departments) a rule can have: what compose() sees."""
    kinds: dict[tuple[str, tuple[str, ...]], Rule] = {}
    for rule in content.rules.rules:
        kinds.setdefault((rule.level, rule.departments), rule)
    return list(kinds.values())


def test_departments_fit_the_level_for_every_set_of_rules_that_can_fire(content: Content) -> None:
    # compose() depends on the fired rules only through their levels and departments: every subset of the
    # distinct kinds is every outcome there can be; each is also raised to an emergency (a call for help).
    kinds = _fired_sets(content)
    assert 2 ** len(kinds) <= 1 << 16, "keep the enumeration exhaustive but small"
    checked = 0
    for n in range(len(kinds) + 1):
        for subset in itertools.combinations(kinds, n):
            fired = tuple(sorted(subset, key=lambda r: -rank(r.level)))
            triage = Triage(fired[0].level if fired else SELF_CARE, fired)
            for at_least in LEVELS:
                outcome = content.outcomes.compose(triage, {}, at_least)
                assert outcome.level == max(triage.level, at_least, key=rank)
                assert outcome.departments, "every outcome names somewhere to go"
                if outcome.level != SELF_CARE:
                    assert not set(outcome.departments) & set(SELF_CARE_ONLY_DEPARTMENTS), (outcome, at_least)
                if at_least == EMERGENCY and triage.level != EMERGENCY:
                    assert outcome.departments[:len(EMERGENCY_DEPARTMENTS)] == EMERGENCY_DEPARTMENTS
                checked += 1
    assert checked == 2 ** len(kinds) * len(LEVELS)


def test_a_call_for_help_at_any_question_names_the_emergency_departments(content: Content) -> None:
    # The case: 救急車 after self-care answers gave 【赤・今すぐ119番】 受診先: 整骨院・リハビリ外来.
    site = SiteSettings(mode="home", fallback="none")
    for stop in range(len(content.questionnaire.questions)):
        dialog = Dialog(content, site, DialogSettings(), SystemClock(), "test")
        actions = dialog.start()
        for _ in range(stop):
            ask = next(a for a in actions if isinstance(a, Ask))
            answer = "no" if "no" in ask.answers else ask.answers[-1]
            actions = dialog.hear(Heard(answer, answer, 1.0))
            if not any(isinstance(a, Ask) for a in actions):
                break
        else:
            finished = next(a for a in dialog.hear(Heard(CALL_FOR_HELP, "救急車", 1.0)) if isinstance(a, Finished))
            assert finished.outcome.level == EMERGENCY
            assert finished.outcome.departments[0] == "neuro", (stop, finished.outcome.departments)
            assert "rehab" not in finished.outcome.departments
            assert "整骨院" not in "".join(finished.outcome.department_names)
