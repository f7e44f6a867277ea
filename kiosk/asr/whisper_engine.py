"""The Whisper recognizer: scores the question's own phrases against the audio instead of transcribing.

Free transcription mishears one-word answers (いいえ, ええ, 右), so this engine asks Whisper only how
likely each phrase of the grammar is: every phrase is forced after the Japanese transcribe prompt and its
log-probability is summed over its tokens *and the end-of-text token after it* (so はい does not win merely
as the start of はいあります, and 歯医者 is not はい). One `generate` call scores all phrases (batched,
prefixes shared), reading the per-step log-probabilities CTranslate2 returns with `return_logits_vocab`.

Scores are calibrated before deciding: the phrase's score on silence is subtracted (x `prior_weight`), since
Whisper's language model prefers common words (without it はい beat いいえ on いいえ audio); the score is divided
by (tokens + 1) ** `length_power`; an answer scores as its best phrase; and two views of the audio (the speech at
the start of a 10 s and of a 6 s encoder window) are averaged, since single views make confident errors the other
does not. 'unknown' when: the best calibrated score < `min_score`; best minus second answer < `min_margin`, or
< `min_margin_yes_no` when those two are yes and no; no-speech probability > `max_no_speech`; or the loudest
20 ms is quieter than `min_level_dbfs`. Confidence is the chosen answer's posterior (softmax over the answers'
calibrated scores). How these numbers were measured, and what was tried and not kept: docs/whisper-scoring.md.

Whisper cannot decode while the person speaks, so the stream decides early (SpeculativeStream): from the
moment they pause (kiosk.session.listening.SPECULATE_AFTER) in a background thread, while the endpointer waits
for its 1.2 s of trailing silence; words after the pause throw that decision away.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from kiosk.asr.base import UNKNOWN, Grammar, Recognition
from kiosk.audio.chunk import RATE, AudioChunk
from kiosk.errors import AudioError, ModelError

INSTALL = "scripts/setup-env.sh voices,whisper (in the kiosk's folder)"
_NEEDED = ("model.bin", "config.json", "tokenizer.json")
_FRAME = RATE // 50  # 20 ms: the encoder's output step
Samples = npt.NDArray[np.float32]


def load_whisper_model(model_dir: Path | str, cpu_threads: int = 2) -> Any:
    """A faster-whisper WhisperModel from a local CTranslate2 folder; never downloads anything."""
    path = Path(model_dir)
    # A string that is not a folder would make faster-whisper fetch a model from the internet.
    if not path.is_dir():
        raise ModelError(f"the Whisper model folder {path} does not exist; set KIOSK_WHISPER_MODEL (or the "
                         f"settings' models.whisper_model) to a CTranslate2 Whisper folder such as whisper-base, "
                         f"or install it with: kiosk models install whisper-base")
    missing = [name for name in _NEEDED if not (path / name).is_file()]
    if missing:
        raise ModelError(f"the Whisper model in {path} is incomplete (missing {', '.join(missing)}); "
                         "copy the whole CTranslate2 model folder again")
    try:
        from faster_whisper import WhisperModel
    except ImportError as exc:
        raise ModelError(f"faster-whisper is not installed ({exc}); install it with: {INSTALL}") from None
    try:
        return WhisperModel(str(path), device="cpu", compute_type="int8", cpu_threads=cpu_threads,
                            local_files_only=True)
    except (RuntimeError, ValueError, OSError) as exc:
        raise ModelError(f"the Whisper model in {path} cannot be loaded ({exc}); "
                         "it must be a CTranslate2 conversion of a multilingual Whisper model") from None


@dataclass(frozen=True)
class View:
    """How the audio is shown to the encoder: a window of `window` seconds (speech, then silence), and the
    encoder output the decoder may attend to: all of it (None) or the speech plus `memory_margin` seconds."""

    window: float
    memory_margin: float | None


@dataclass(frozen=True)
class WhisperScoring:
    """Calibration and rejection settings (how they were measured: docs/whisper-scoring.md)."""

    views: tuple[View, ...] = (View(10.0, 1.5), View(6.0, 1.5))
    prior_weight: float = 0.5
    length_power: float = 0.5
    min_score: float = -2.4
    min_margin: float = 0.2
    min_margin_yes_no: float = 1.2
    """Margin needed when yes and no are the two best answers: a swap is the dangerous error (ええ ~ いえ)."""
    max_no_speech: float = 0.8
    min_level_dbfs: float = -55.0
    trim_db: float = 40.0
    """Leading/trailing audio more than this below the loudest 20 ms is cut (room noise, endpointer pads)."""


@dataclass
class _Plan:
    """A grammar prepared for scoring: token ids per phrase and each view's silence prior."""

    tokens: list[tuple[int, ...]]
    priors: list[list[float]] = field(default_factory=list)


class WhisperRecognizer:
    """Whisper loaded once; `stream(grammar)` per question."""

    name = "whisper"

    def __init__(self, model_dir: Path | str, *, cpu_threads: int = 2, scoring: WhisperScoring | None = None,
                 model: Any = None) -> None:
        started = time.perf_counter()
        self.model = model if model is not None else load_whisper_model(model_dir, cpu_threads)
        self.load_seconds = time.perf_counter() - started
        self.scoring = scoring or WhisperScoring()
        if not self.model.model.is_multilingual:
            raise ModelError(f"the Whisper model in {model_dir} is English-only; use a multilingual one (whisper-base)")
        from faster_whisper.tokenizer import Tokenizer

        self.tokenizer = Tokenizer(self.model.hf_tokenizer, True, task="transcribe", language="ja")
        self._prompt = [*self.tokenizer.sot_sequence, self.tokenizer.no_timestamps]
        self._eot = int(self.tokenizer.eot)
        self._plans: dict[Grammar, _Plan] = {}
        self._priors: dict[tuple[View, tuple[int, ...]], float] = {}
        self._worker: ThreadPoolExecutor | None = None

    def stream(self, grammar: Grammar) -> WhisperStream:
        self._plan(grammar)  # normally done already by prepare() while the question was spoken
        return WhisperStream(self, grammar)

    def decide_later(self, samples: Samples, grammar: Grammar) -> Future[Recognition]:
        """recognize() in the engine's one background thread (one at a time: the CPU has few cores)."""
        if self._worker is None:
            self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="whisper-early")
        return self._worker.submit(self.recognize, samples, grammar)

    def recognize(self, samples: Samples, grammar: Grammar) -> Recognition:
        """Decide one utterance (float samples in [-1, 1] at 16 kHz) against the grammar."""
        scored = self.score(samples, grammar)
        if scored is None:
            return Recognition(UNKNOWN, "", 0.0)
        return self._decide(grammar, *scored)

    def score(self, samples: Samples, grammar: Grammar) -> tuple[npt.NDArray[np.float64], float] | None:
        """Calibrated score per phrase of the grammar and the no-speech probability; None for silence."""
        s = self.scoring
        if not grammar.phrases or _loudest_dbfs(samples) < s.min_level_dbfs:
            return None
        plan = self._plan(grammar)
        speech = _trim(samples[: 29 * RATE], s.trim_db)  # one 30 s window; answers are a few seconds
        total = np.zeros(len(plan.tokens))
        no_speech = 0.0
        for view, prior in zip(s.views, plan.priors):
            raw, nsp = self._score(self._memory(speech, view), plan.tokens)
            total += np.asarray(raw) - s.prior_weight * np.asarray(prior)
            no_speech = max(no_speech, nsp)
        lengths = np.array([len(t) + 1 for t in plan.tokens], dtype=np.float64)
        return total / len(s.views) / lengths ** s.length_power, no_speech

    def _decide(self, grammar: Grammar, calibrated: npt.NDArray[np.float64], no_speech: float) -> Recognition:
        s = self.scoring
        best_of: dict[str, int] = {}
        for i, phrase in enumerate(grammar.phrases):
            if phrase.answer not in best_of or calibrated[i] > calibrated[best_of[phrase.answer]]:
                best_of[phrase.answer] = i
        ranked = sorted(best_of.values(), key=lambda i: -calibrated[i])
        top = ranked[0]
        scores = calibrated[ranked]
        confidence = float(1.0 / np.exp(scores - scores[0]).sum())
        margin = float(scores[0] - scores[1]) if len(scores) > 1 else math.inf
        phrase = grammar.phrases[top]
        runner_up = grammar.phrases[ranked[1]].answer if len(ranked) > 1 else ""
        needed = s.min_margin_yes_no if {phrase.answer, runner_up} == {"yes", "no"} else s.min_margin
        if calibrated[top] < s.min_score or margin < needed or no_speech > s.max_no_speech:
            return Recognition(UNKNOWN, phrase.text, confidence)
        return Recognition(phrase.answer, phrase.text, confidence)

    def prepare(self, grammars: Iterable[Grammar]) -> None:
        """Compute the silence priors of these grammars now (about 1 s each on 2 cores), e.g. at start-up."""
        for grammar in grammars:
            self._plan(grammar)

    def _plan(self, grammar: Grammar) -> _Plan:
        plan = self._plans.get(grammar)
        if plan is None:
            plan = _Plan([tuple(self.tokenizer.encode(p.text)) for p in grammar.phrases])
            # Priors belong to phrases, not grammars: the always-accepted phrases are scored once.
            new = sorted({t for t in plan.tokens if (self.scoring.views[0], t) not in self._priors})
            if new:
                silence = np.zeros(RATE, dtype=np.float32)
                for view in self.scoring.views:
                    scores, _ = self._score(self._memory(silence, view), new)
                    self._priors.update({(view, t): score for t, score in zip(new, scores)})
            plan.priors = [[self._priors[(view, t)] for t in plan.tokens] for view in self.scoring.views]
            self._plans[grammar] = plan
        return plan

    def _memory(self, speech: Samples, view: View) -> Any:
        """Encoder output for `speech` placed at the start of the view's window."""
        import ctranslate2

        length = min(max(int(view.window * RATE), len(speech) + RATE // 2), 30 * RATE)
        window = np.zeros(length, dtype=np.float32)
        window[: min(len(speech), length)] = speech[:length]
        features = self.model.feature_extractor(window, padding=0)[:, : length // 160]
        encoded = self.model.model.encode(ctranslate2.StorageView.from_array(np.ascontiguousarray(features[None])))
        memory = np.asarray(encoded)
        if view.memory_margin is not None:
            frames = (min(len(speech), length) + int(view.memory_margin * RATE)) // (2 * 160)
            memory = memory[:, : max(1, min(frames, memory.shape[1]))]
        return memory

    def _score(self, memory: Any, phrases: list[tuple[int, ...]]) -> tuple[list[float], float]:
        """log P(phrase + end-of-text | audio) for each phrase, and Whisper's no-speech probability."""
        import ctranslate2

        # Only phrases that are not the start of another need a decoder row: the row of はいあります also
        # gives the distribution after はい. Rows are forced along their tokens and report every step.
        rows = sorted({p for p in phrases if not any(len(q) > len(p) and q[: len(p)] == p for q in phrases)})
        longest = max(len(r) for r in rows)
        batch = ctranslate2.StorageView.from_array(np.ascontiguousarray(np.repeat(memory, len(rows), axis=0)))
        results = self.model.model.generate(
            batch, [self._prompt + list(r) for r in rows], beam_size=1, max_length=2 * longest + 6,
            return_logits_vocab=True, return_no_speech_prob=True, suppress_tokens=[], suppress_blank=False)
        after: dict[tuple[int, ...], npt.NDArray[np.float32]] = {}  # log-probs of the next token after a prefix
        for row, result in zip(rows, results):
            steps = result.logits[0]
            if len(steps) < len(row) + 1:
                raise ModelError(f"the Whisper model returned {len(steps)} decoding steps for a {len(row)}-token "
                                 "phrase; this CTranslate2 version is not supported (use ctranslate2 4.x)")
            for k in range(len(row) + 1):
                if row[:k] not in after:
                    after[row[:k]] = _log_softmax(np.asarray(steps[k], dtype=np.float32).ravel())
        scores = [sum(float(after[p[:k]][p[k]]) for k in range(len(p))) + float(after[p][self._eot]) for p in phrases]
        return scores, float(results[0].no_speech_prob)


class WhisperStream:
    """One utterance: buffers canonical chunks, decides on finish(), or from a pause on (SpeculativeStream)."""

    def __init__(self, engine: WhisperRecognizer, grammar: Grammar) -> None:
        self._engine = engine
        self._grammar = grammar
        self._parts: list[bytes] = []
        self._early: Future[Recognition] | None = None
        self.decode_seconds = 0.0
        """Time spent deciding in finish(), for latency measurements."""
        self.decided_early = False
        """finish() used the decision started at the last pause."""

    def pause(self) -> None:
        """Start deciding on the audio so far, in the background, while the endpointer waits for silence."""
        self.resume()
        self._early = self._engine.decide_later(self._samples(), self._grammar)

    def resume(self) -> None:
        """The person spoke again: the audio up to the pause was not the whole answer."""
        if self._early is not None:
            self._early.cancel()  # only stops it if it has not started; a started one just finishes unused
            self._early = None

    def feed(self, chunk: AudioChunk) -> None:
        if not chunk.is_canonical:
            raise AudioError(
                f"the Whisper recognizer needs 16 kHz mono 16-bit audio, got {chunk.rate} Hz, "
                f"{chunk.channels} channel(s), {chunk.width * 8} bits; convert it with kiosk.audio.resample")
        self._parts.append(chunk.audio)

    def finish(self) -> Recognition:
        started = time.perf_counter()
        if self._early is not None:
            # The silence after the pause is the endpointer's wait, not speech: the answer is the audio up
            # to the pause, decided the same way whether or not the background run has completed.
            result = self._early.result()
            self.decided_early = True
        else:
            result = self._engine.recognize(self._samples(), self._grammar)
        self.decode_seconds = time.perf_counter() - started
        return result

    def _samples(self) -> Samples:
        pcm = np.frombuffer(b"".join(self._parts), dtype="<i2")
        return pcm.astype(np.float32) / 32768.0


def _log_softmax(logits: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    shifted: npt.NDArray[np.float32] = logits - logits.max()
    return shifted - np.float32(np.log(np.exp(shifted).sum()))


def _frame_dbfs(samples: Samples) -> npt.NDArray[np.float64]:
    n = len(samples) // _FRAME
    if n == 0:
        return np.array([-120.0])
    power = np.mean(np.square(samples[: n * _FRAME].astype(np.float64)).reshape(n, _FRAME), axis=1)
    level: npt.NDArray[np.float64] = 10.0 * np.log10(power + 1e-12)
    return level


def _loudest_dbfs(samples: Samples) -> float:
    return float(_frame_dbfs(samples).max())


def _trim(samples: Samples, below_db: float, keep: float = 0.2) -> Samples:
    """Speech without long leading/trailing quiet, keeping `keep` seconds on each side."""
    level = _frame_dbfs(samples)
    loud = np.nonzero(level > level.max() - below_db)[0]
    start = max(0, int(loud[0]) * _FRAME - int(keep * RATE))
    end = min(len(samples), (int(loud[-1]) + 1) * _FRAME + int(keep * RATE))
    return samples[start:end]
