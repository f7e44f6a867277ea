"""The Vosk recognizer: a Kaldi model loaded once, a grammar-restricted stream per question.

Answers are recognised against the question's phrases only (runtime grammar), and the final result's
word sequence must equal one phrase exactly; anything else is 'unknown', so the dialog asks again
rather than guessing. Confidence is the *minimum* of the word confidences: one doubtful word can flip
the meaning of an answer (あり ます / あり ませ ん), and a wrong yes/no in a health check is worse than
asking once more, so a phrase is only as sure as its least sure word.

The same audio can score differently depending on what the process decoded before, although every utterance
gets a new KaldiRecognizer (upstream alphacep/vosk-api#868, open: state shared through the loaded Model). Seen
with the Korean test model: one clip at confidence 0.86 fresh, 0.63 after 18 other answers. An answer near
min_confidence can therefore go either way between sessions (below it, the question is asked again).
"""

from __future__ import annotations

import json
import logging
import time
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from kiosk.asr.base import UNKNOWN, Grammar, Phrase, Recognition
from kiosk.audio.chunk import RATE, AudioChunk
from kiosk.errors import AudioError, ModelError

log = logging.getLogger(__name__)

UNK = "[unk]"
INSTALL = "kiosk models install vosk-model-small-ja-0.22"
_LANGUAGES = {"ja": "Japanese", "ko": "Korean", "zh": "Chinese", "latin": "Latin-script (e.g. English)"}


def missing_model_files(model_dir: Path) -> list[str]:
    """Files Vosk needs that `model_dir` lacks (relative paths); empty when the layout is complete."""
    needed = ["am/final.mdl", "conf/mfcc.conf", "graph/HCLr.fst", "graph/Gr.fst"]
    if (model_dir / "ivector").is_dir():
        needed += ["ivector/final.ie", "ivector/final.dubm", "ivector/final.mat"]
    return [name for name in needed if not (model_dir / name).is_file()]


def _check_layout(model_dir: Path) -> None:
    if not model_dir.is_dir():
        raise ModelError(
            f"the Vosk model folder {model_dir} does not exist; install the model with: {INSTALL}"
        )
    missing = missing_model_files(model_dir)
    if missing and (model_dir / "graph" / "HCLG.fst").is_file():
        raise ModelError(
            f"the Vosk model in {model_dir} has a fixed graph (HCLG.fst), so it cannot use answer grammars; "
            f"install a grammar-capable model with: {INSTALL}"
        )
    if missing:
        raise ModelError(
            f"the Vosk model in {model_dir} is incomplete (missing {', '.join(missing)}); "
            f"check it with `kiosk models verify` or reinstall it with: {INSTALL}"
        )


def _script(word: str) -> str:
    ch = word[0]
    if "\u3040" <= ch <= "\u30ff":
        return "kana"
    if "\u4e00" <= ch <= "\u9fff":
        return "han"
    if "\uac00" <= ch <= "\ud7a3" or "\u1100" <= ch <= "\u11ff":
        return "hangul"
    return "latin" if ch.isascii() and ch.isalpha() else "other"


def detect_language(words_txt: Path) -> str | None:
    """'ja', 'ko', 'zh' or 'latin' from the writing systems of a Kaldi words.txt; None if unclear."""
    counts: Counter[str] = Counter()
    with open(words_txt, encoding="utf-8", errors="replace") as f:
        for line in f:
            word = line.split(" ", 1)[0]
            if word and not word.startswith(("<", "#", "!", "[")):
                counts[_script(word)] += 1
    total = sum(counts.values()) or 1
    kana, han = counts["kana"] / total, counts["han"] / total
    if kana + han > 0.5:
        return "ja" if kana > 0.05 else "zh"  # Chinese vocabularies have no kana
    return next(
        (code for script, code in (("hangul", "ko"), ("latin", "latin")) if counts[script] / total > 0.5),
        None,
    )


def check_language(model_dir: Path, language: str, fix: str = "") -> None:
    """Reject a Vosk model whose vocabulary is not in `language` (no words.txt: nothing to check)."""
    words = Path(model_dir) / "graph" / "words.txt"
    if language not in _LANGUAGES or not words.is_file():
        return
    found = detect_language(words)
    if found != language:
        looks = _LANGUAGES.get(found or "", "of no clear language")
        fix = fix or INSTALL
        raise ModelError(
            f"the model in {model_dir} is not a {_LANGUAGES[language]} model (its vocabulary "
            f"looks {looks}); install the right one with: {fix}"
        )


def load_vosk() -> Any:
    """Import vosk quietly (Kaldi logs to stderr); a missing package becomes advice."""
    try:
        import vosk
    except ImportError:
        raise ModelError(
            "the vosk package is missing; install it with: .venv/bin/pip install vosk==0.3.45"
        ) from None
    except OSError as exc:
        raise ModelError(
            f"the vosk library cannot load ({exc}); reinstall it with: "
            ".venv/bin/pip install --force-reinstall vosk==0.3.45"
        ) from None
    vosk.SetLogLevel(-1)  # -1 keeps warnings and errors, drops Kaldi's informational chatter
    return vosk


class VoskRecognizer:
    """A loaded Vosk model; `stream(grammar)` for each question."""

    name = "vosk"

    def __init__(
        self,
        model_path: Path | str,
        *,
        min_confidence: float = 0.7,
        rejection_words: Iterable[str] = (),
        language: str | None = "ja",
    ) -> None:
        """Load the model at `model_path` (takes seconds: do it once at start-up).

        `min_confidence`: a result whose least sure word is below this is 'unknown'.
        `rejection_words`: ordinary words added to every grammar as alternatives that mean 'not an
        answer'; only needed for models without an [unk] word, which otherwise force any speech onto
        the nearest phrase.
        `language`: refuse a model whose graph/words.txt is in another language (None: no check; a
        model without words.txt is checked per grammar instead, see usable_phrases).
        """
        if not 0.0 <= min_confidence <= 1.0:
            raise ValueError(f"min_confidence must be within 0..1, got {min_confidence}")
        self.model_path = Path(model_path)
        self.min_confidence = min_confidence
        _check_layout(self.model_path)
        if language is not None:
            check_language(self.model_path, language)
        vosk = load_vosk()
        started = time.perf_counter()
        try:
            self._model: Any = vosk.Model(str(self.model_path))
        except Exception:
            raise ModelError(
                f"Vosk could not load the model in {self.model_path} (a file is damaged or from another "
                f"Vosk version); check it with `kiosk models verify` or reinstall it with: {INSTALL}"
            ) from None
        self.load_seconds = time.perf_counter() - started
        self._vosk = vosk
        self.has_unk = self.knows(UNK)
        self.rejection_words = tuple(w for w in rejection_words if self.knows(w))
        log.info("Vosk model %s loaded in %.1f s", self.model_path, self.load_seconds)

    def knows(self, word: str) -> bool:
        """Whether `word` is in the model vocabulary (Vosk silently drops grammar words that are not)."""
        return int(self._model.vosk_model_find_word(word)) >= 0

    def missing_words(self, grammar: Grammar) -> set[str]:
        """Grammar words the model does not know; their phrases can never be recognised."""
        return {w for phrase in grammar.phrases for w in phrase.words if not self.knows(w)}

    def usable_phrases(self, grammar: Grammar) -> tuple[Phrase, ...]:
        """The phrases whose every word is known.

        A phrase with an unknown word is left out whole: Vosk would keep the rest of it, and
        'あり ませ ん' shortened to 'あり' would turn a 'no' into something else.
        """
        missing = self.missing_words(grammar)
        usable = tuple(p for p in grammar.phrases if not missing.intersection(p.words))
        if grammar.phrases and not usable:
            raise ModelError(
                f"the Vosk model in {self.model_path} knows none of the words of this question's phrases "
                f"({', '.join(sorted(missing)[:5])}...); it is probably a model for another language. "
                f"Install the Japanese model with: {INSTALL}"
            )
        if missing:
            log.warning("phrases left out, words not in the model vocabulary: %s", ", ".join(sorted(missing)))
        return usable

    def stream(self, grammar: Grammar) -> VoskStream:
        phrases = self.usable_phrases(grammar)
        if not phrases:
            raise ValueError("a grammar needs at least one phrase")
        return VoskStream(self, phrases)

    def new_kaldi_recognizer(self, phrases: tuple[Phrase, ...]) -> Any:
        grammar_words = {w for p in phrases for w in p.words}
        entries = [" ".join(p.words) for p in phrases]
        entries += [w for w in self.rejection_words if w not in grammar_words]
        if self.has_unk:
            entries.append(UNK)
        recognizer = self._vosk.KaldiRecognizer(self._model, RATE, json.dumps(entries, ensure_ascii=False))
        recognizer.SetWords(True)
        return recognizer


class VoskStream:
    """One utterance against one grammar; only final results are acted on."""

    def __init__(self, engine: VoskRecognizer, phrases: tuple[Phrase, ...]) -> None:
        self._engine = engine
        self._by_words = {p.words: p for p in phrases}
        self._kaldi = engine.new_kaldi_recognizer(phrases)
        self._segments: list[dict[str, Any]] = []
        self.decode_seconds = 0.0
        """Time spent inside Vosk, for latency measurements."""

    def feed(self, chunk: AudioChunk) -> None:
        if not chunk.is_canonical:
            raise AudioError(
                f"the Vosk recognizer needs 16 kHz mono 16-bit audio, got {chunk.rate} Hz, "
                f"{chunk.channels} channel(s), {chunk.width * 8} bits; convert it with kiosk.audio.resample"
            )
        started = time.perf_counter()
        # Kaldi's own endpointing may close a segment mid-answer (a pause); keep each segment's
        # result, otherwise FinalResult() would return only the words after the pause.
        if self._kaldi.AcceptWaveform(chunk.audio):
            self._segments.append(json.loads(self._kaldi.Result()))
        self.decode_seconds += time.perf_counter() - started

    def finish(self) -> Recognition:
        started = time.perf_counter()
        self._segments.append(json.loads(self._kaldi.FinalResult()))
        self.decode_seconds += time.perf_counter() - started
        words = [w for segment in self._segments for w in segment.get("result", [])]
        return self._match(words)

    def _match(self, words: list[dict[str, Any]]) -> Recognition:
        text = " ".join(str(w["word"]) for w in words)
        if not words:
            return Recognition(UNKNOWN, "", 0.0)
        confidence = min(float(w.get("conf", 0.0)) for w in words)
        phrase = self._by_words.get(tuple(str(w["word"]) for w in words))
        if phrase is None or confidence < self._engine.min_confidence:
            return Recognition(UNKNOWN, text, confidence)
        return Recognition(phrase.answer, phrase.text, confidence)
