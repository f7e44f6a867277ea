"""Every Japanese grammar word is in the real Vosk vocabulary (Vosk silently drops unknown grammar words)."""

from __future__ import annotations

import os

import pytest

from kiosk.content.bundle import Content
from tests.model_paths import JA_VOCABULARY


@pytest.fixture(scope="module")
def vocabulary() -> set[str]:
    path = JA_VOCABULARY
    if not path.is_file():
        if os.environ.get("CI"):
            pytest.fail(f"the Japanese Vosk vocabulary is missing at {path}; CI must have ../shared/models")
        pytest.skip(f"Japanese Vosk vocabulary not found at {path} (set KIOSK_VOSK_VOCAB)")
    with path.open(encoding="utf-8") as f:
        return {line.split(" ", 1)[0] for line in f}


def test_vocabulary_is_the_japanese_small_model(vocabulary: set[str]) -> None:
    assert len(vocabulary) == 206_715 and "[unk]" in vocabulary


def test_every_grammar_word_is_in_the_vocabulary(content: Content, vocabulary: set[str]) -> None:
    missing = {f"{p.answer}: {p.text} ({w})" for ps in content.phrases.by_answer.values() for p in ps
               for w in p.words if w not in vocabulary}
    assert not missing, sorted(missing)


def test_each_question_grammar_is_non_empty_and_unambiguous(content: Content, vocabulary: set[str]) -> None:
    for q in content.questionnaire.questions:
        grammar = content.phrases.grammar(q.answers)
        sequences = [p.words for p in grammar.phrases]
        assert len(sequences) == len(set(sequences)), q.id
        assert all(all(w in vocabulary for w in p.words) for p in grammar.phrases), q.id
