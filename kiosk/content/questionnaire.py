"""The questions, their order and which apply: loaded from `content/questions.yaml`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from kiosk.content.conditions import Condition, parse_condition
from kiosk.content.yamlfile import Fields, load_yaml
from kiosk.errors import ContentError

SECTIONS = ("stroke", "complaint", "red_flag", "history")
"""In this order: the stroke gate first (CLINICAL.md), then what and where the trouble is, so that red flags that
cannot apply to it (rules.yaml says which) are not asked, then the red flags, then the rest of the history."""
# Values accepted by every question besides its own answers.
ALWAYS_ACCEPTED = ("unknown", "repeat", "emergency")


@dataclass(frozen=True)
class Question:
    """One question: what is said, which answers it takes, and when it applies."""

    id: str
    section: str
    text: str
    answers: tuple[str, ...]
    ask_if: Condition
    source: str
    # 「65歳以上ですか」: an age said as a number (「72歳です」) answers yes at or above this, no below.
    yes_from_age: int | None = None

    @property
    def is_safety_gate(self) -> bool:
        """Stroke and red-flag questions: an uncertain 'no' is asked again."""
        return self.section in ("stroke", "red_flag")

    @property
    def recorded_values(self) -> tuple[str, ...]:
        """Values this question can end up with in a session's answers."""
        return (*self.answers, "unknown")


@dataclass(frozen=True)
class Questionnaire:
    """The ordered questions. `next_question` never returns a question already asked."""

    questions: tuple[Question, ...]

    @classmethod
    def load(cls, path: Path) -> Questionnaire:
        file = str(path)
        top = Fields(file, "(top level)", load_yaml(path))
        questions: list[Question] = []
        for qid, item in top.id_items("questions", ("section", "text", "answers", "ask_if", "source",
                                                            "yes_from_age")):
            section = item.text("section")
            if section not in SECTIONS:
                raise item.error("section", f"'{section}' is not one of {', '.join(SECTIONS)}")
            answers = item.text_list("answers")
            clash = set(answers) & set(ALWAYS_ACCEPTED)
            if clash:
                raise item.error("answers", f"{', '.join(sorted(clash))} is always accepted; do not list it")
            ask_if = parse_condition(item, "ask_if")
            if section in ("stroke", "red_flag") and not ask_if.always:
                raise item.error("ask_if", "stroke and red-flag questions are asked of everyone")
            _check_refers_back(item, ask_if, questions)
            yes_from_age = _yes_from_age(item, answers)
            questions.append(Question(qid, section, item.text("text"), answers, ask_if, item.text("source"),
                                      yes_from_age))
        return cls(tuple(questions))

    def check_order(self, file: str) -> None:
        """Sections come in the order of SECTIONS, each once (its intro is said when it begins). Checked after
        the safety manifest, whose messages name a moved stroke sign or red flag more precisely."""
        for before, q in zip(self.questions, self.questions[1:]):
            if SECTIONS.index(q.section) < SECTIONS.index(before.section):
                raise ContentError(file, q.id, "section", f"'{q.section}' after '{before.section}' ({before.id}): "
                                                          f"sections go in the order {', '.join(SECTIONS)}")

    def by_id(self, qid: str) -> Question:
        for q in self.questions:
            if q.id == qid:
                return q
        raise KeyError(qid)

    def ids(self) -> set[str]:
        return {q.id for q in self.questions}

    def next_question(self, answers: Mapping[str, str], after: str | None) -> Question | None:
        """The first applicable question after `after` (None: from the start), or None when done."""
        start = 0 if after is None else [q.id for q in self.questions].index(after) + 1
        for q in self.questions[start:]:
            if q.ask_if.holds(answers):
                return q
        return None


def _check_refers_back(item: Fields, ask_if: Condition, earlier: list[Question]) -> None:
    # Referring only to earlier questions keeps the flow a straight line: no loops, no repeats.
    known = {q.id: q for q in earlier}
    for qid, values in ask_if.literals():
        if qid not in known:
            raise item.error("ask_if", f"'{qid}' is not an earlier question")
        bad = values - set(known[qid].recorded_values)
        if bad:
            raise ContentError(item.file, item.item, "ask_if", f"'{qid}' has no answer {sorted(bad)}")


def _yes_from_age(item: Fields, answers: tuple[str, ...]) -> int | None:
    value = item.raw.get("yes_from_age")
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 120:
        raise item.error("yes_from_age", f"must be a whole number of years from 1 to 120, got {value!r}")
    if set(answers) != {"yes", "no"}:
        raise item.error("yes_from_age", "only a yes/no question can be answered with an age")
    return value
