"""Answer phrases from `grammars/<lang>/answers.yaml`, and the grammar of each question built from them."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from kiosk.content.datafiles import data_dir
from kiosk.content.yamlfile import Fields, load_yaml
from kiosk.errors import ContentError

UNKNOWN = "unknown"


@dataclass(frozen=True)
class Phrase:
    """One way of saying an answer, as words of the recognizer vocabulary (e.g. ('わかり', 'ませ', 'ん'))."""

    answer: str
    words: tuple[str, ...]

    @property
    def text(self) -> str:
        """The surface text as a person would write it (Japanese has no spaces)."""
        return "".join(self.words)


@dataclass(frozen=True)
class Grammar:
    """The phrases a question accepts; every phrase maps to a canonical answer value."""

    phrases: tuple[Phrase, ...]

    @property
    def answers(self) -> tuple[str, ...]:
        seen: dict[str, None] = {}
        for phrase in self.phrases:
            seen.setdefault(phrase.answer, None)
        return tuple(seen)


@dataclass(frozen=True)
class Recognition:
    """What an engine understood: a canonical answer value (or 'unknown'), the words, a confidence 0..1."""

    answer: str
    text: str
    confidence: float


# Expected YAML shape:
#   language: ja
#   always: [unknown, repeat, emergency]
#   answers:
#     yes: {source: CLINICAL.md, phrases: ["はい", "はい あり ます"]}


REQUIRED_ALWAYS = ("emergency", "repeat", "unknown")
"""Answer values every question must accept: a call for help, 「もう一度」 and 「わからない」."""


@dataclass(frozen=True)
class AnswerPhrases:
    """All phrases of a language, by canonical answer value."""

    language: str
    always: tuple[str, ...]
    by_answer: dict[str, tuple[Phrase, ...]]
    sources: dict[str, str]
    path: Path

    @classmethod
    def load(cls, path: Path | None = None) -> AnswerPhrases:
        path = path or data_dir("grammars") / "ja" / "answers.yaml"
        file = str(path)
        top = Fields(file, "(top level)", load_yaml(path))
        top.only("language", "always", "answers")
        answers = top.mapping("answers")
        by_answer: dict[str, tuple[Phrase, ...]] = {}
        sources: dict[str, str] = {}
        for value, raw in answers.items():
            item = Fields(file, f"answers.{value}", raw)
            item.only("source", "phrases")
            sources[str(value)] = item.text("source")
            phrases = tuple(Phrase(str(value), tuple(p.split())) for p in item.text_list("phrases"))
            if not phrases:
                raise item.error("phrases", "needs at least one phrase")
            by_answer[str(value)] = phrases
        always = top.text_list("always")
        # Every question's grammar must hear a call for help (救急車/助けて), 「もう一度」 and 「わからない」;
        # without them in `always` a question could not be interrupted by an emergency or repeated.
        missing = [value for value in REQUIRED_ALWAYS if value not in always]
        if missing:
            raise top.error("always", f"must include {', '.join(missing)} (every question needs "
                                      f"{', '.join(REQUIRED_ALWAYS)}); add {', '.join(missing)} to the list")
        for value in always:
            if value not in by_answer:
                raise top.error("always", f"'{value}' has no phrases under 'answers'")
        result = cls(top.text("language"), always, by_answer, sources, path)
        result._check_unique()
        return result

    def _check_unique(self) -> None:
        # The same words under two answers would make recognition ambiguous (e.g. a yes/no swap).
        owner: dict[tuple[str, ...], str] = {}
        for value, phrases in self.by_answer.items():
            for phrase in phrases:
                other = owner.setdefault(phrase.words, value)
                if other != value:
                    raise ContentError(
                        str(self.path), f"answers.{value}", "phrases",
                        f"'{phrase.text}' is also a phrase of '{other}'",
                    )

    def grammar(self, answers: tuple[str, ...] | list[str]) -> Grammar:
        """The grammar for a question accepting `answers`, plus the values active everywhere."""
        values = list(dict.fromkeys([*answers, *self.always]))
        missing = [v for v in values if v not in self.by_answer]
        if missing:
            raise ContentError(str(self.path), ",".join(missing), "phrases", "answer value has no phrases")
        return Grammar(tuple(p for v in values for p in self.by_answer[v]))
