"""Every data file validates (schema + cross references), and broken files get messages naming file, item, field."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from kiosk.content.bundle import Content
from kiosk.content.datafiles import data_dir
from kiosk.content.phrases import AnswerPhrases
from kiosk.dialog.normalize import Normalizer
from kiosk.dialog.understanding import UNDERSTOOD
from kiosk.errors import ContentError
from tests.model_paths import SEEDS


def test_all_content_loads_and_cross_checks() -> None:
    content = Content.load()
    assert len(content.questionnaire.questions) >= 30
    Normalizer.load()
    texts = content.prompt_texts()
    assert all(texts.values())


def test_every_cited_source_exists(content: Content) -> None:
    if not SEEDS.is_dir():
        pytest.skip(f"seed articles not found at {SEEDS}")
    clinical = (SEEDS.parent / "CLINICAL.md").read_text(encoding="utf-8")
    seeds = {p.name for p in SEEDS.glob("*.txt")}
    sources = [q.source for q in content.questionnaire.questions]
    sources += [r.source for r in content.rules.rules] + [a.source for a in content.outcomes.advice]
    sources += list(content.phrases.sources.values())
    for source in sources:
        if source.startswith("CLINICAL.md"):
            assert clinical, source
        else:
            assert source in seeds, f"{source} is not a seed file"


def test_every_question_answer_has_phrases_and_labels(content: Content) -> None:
    for q in content.questionnaire.questions:
        grammar = content.phrases.grammar(q.answers)
        assert set(q.answers) | {"unknown", "repeat", "emergency"} == set(grammar.answers)
        for value in q.answers:
            assert content.speech.answer_labels[value]


def test_every_answer_value_is_used_or_global(content: Content) -> None:
    used = {a for q in content.questionnaire.questions for a in q.answers} | set(content.phrases.always)
    assert set(content.phrases.by_answer) == used | {UNDERSTOOD}, "understood: the emergency acknowledgement's"


CASES = [
    ("questions.yaml", "  - id: stroke_face\n", "  - id: stroke_limb\n", "stroke_limb", "id", "duplicate"),
    ("questions.yaml", "    section: history\n    text: 65歳以上ですか。",
     "    section: past\n    text: 65歳以上ですか。", "age_65", "section", "not one of"),
    ("questions.yaml", "      - {age_55: [\"yes\", unknown]}", "      - {age_5: [\"yes\"]}",
     "age_65", "ask_if", "not an earlier question"),
    ("questions.yaml", "  - id: age_55\n    section: history\n", "  - id: age_55\n    section: complaint\n",
     "age_55", "section", "sections go in the order"),
    ("questions.yaml", "    answers: [sitting, standing, neither]", "    answers: [sitting, standing, lying]",
     "work_posture", "answers", "no phrases"),
    ("rules.yaml", "    when: [{rf_fever: [\"yes\", unknown]}]", "    when: [{rf_fevr: [\"yes\", unknown]}]",
     "fever", "when", "unknown question 'rf_fevr'"),
    ("rules.yaml", "    level: urgent\n    departments: [ortho, internal]\n    reason: 熱がある。",
     "    level: soon\n    departments: [ortho, internal]\n    reason: 熱がある。", "fever", "level", "not one of"),
    ("rules.yaml", "    departments: [ortho, internal]\n    reason: 熱がある。",
     "    departments: [ortho, surgery]\n    reason: 熱がある。", "fever", "departments", "unknown department"),
    ("rules.yaml", "    when: [{rf_fever: [\"yes\", unknown]}]", "    when: [{rf_fever: [\"no\"]}]",
     "fever", "when", "could lower the level"),
    ("rules.yaml", "    when: [{stroke_speech: [\"yes\"]}]\n    level: emergency",
     "    when: [{stroke_speech: [\"yes\"]}]\n    level: urgent", "stroke_speech", "when", "every stroke sign"),
    ("rules.yaml", "    reason: 熱がある。\n", "    reasn: 熱がある。\n", "fever", "reasn", "unknown field"),
    ("rules.yaml", "    source: 003_bd8c4ad5b424c9f9.txt\n  - id: cancer_history",
     "    source: somewhere.txt\n  - id: cancer_history", "night_pain", "source", "not a seed file"),
    ("advice.yaml", "    max_level: consult\n    text: 30分に", "    max_level: emergency\n    text: 30分に",
     "move_often", "max_level", "below emergency"),
    ("outcomes.yaml", "  ortho:\n    name: 整形外科\n", "  ortho:\n    nam: 整形外科\n", "departments.ortho", "nam",
     "unknown field"),
    ("speech.yaml", "  closing: ", "  closin: ", "(top level)", "texts.closing", "missing"),
]


@pytest.mark.parametrize(("file", "old", "new", "item", "field", "problem"), CASES,
                         ids=[f"{c[0]}:{c[4]}:{c[5]}" for c in CASES])
def test_broken_content_is_named_precisely(broken: Callable[[str, str, str], Path], file: str, old: str,
                                           new: str, item: str, field: str, problem: str) -> None:
    folder = broken(file, old, new)
    with pytest.raises(ContentError) as err:
        Content.load(folder)
    message = str(err.value)
    assert file in err.value.file and err.value.item == item and err.value.field == field, message
    assert problem in message


def test_invalid_yaml_names_the_file_and_line(broken: Callable[[str, str, str], Path]) -> None:
    folder = broken("questions.yaml", "questions:\n", "questions:\n  - id: [unclosed\n")
    with pytest.raises(ContentError) as err:
        Content.load(folder)
    assert "questions.yaml" in str(err.value) and "not valid YAML at line" in str(err.value)


def test_missing_file_says_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(ContentError, match="file is missing"):
        Content.load(tmp_path)


def test_grammar_phrase_shared_by_two_answers_is_rejected(tmp_path: Path) -> None:
    source = (data_dir("grammars") / "ja" / "answers.yaml").read_text(encoding="utf-8")
    path = tmp_path / "answers.yaml"
    path.write_text(source.replace("      - いや\n", "      - はい\n", 1), encoding="utf-8")
    with pytest.raises(ContentError, match="also a phrase of 'yes'"):
        AnswerPhrases.load(path)
