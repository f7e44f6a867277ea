"""The Whisper engine on the real whisper-base model and the committed Japanese answer clips.

Model: tests/model_paths.py ($KIOSK_WHISPER_MODEL, else ../shared/models/whisper-base; skipped if absent).
Clips: tests/audio/ja/{clean,slowed}/<answer>__<text>__<voice>.wav (oov__... must give unknown); when that
folder has no clips, a small set is synthesised at test time with pyopenjtalk (skipped if missing).
Each clip is heard with the grammar of a question that accepts its answer, as in the benchmark: yes/no for
yes/no, the always-accepted values and out-of-grammar speech. CTranslate2's int8 kernels differ between CPUs, so
which borderline clip comes out 'unknown' is not portable: the tests assert what matters on any x86-64 or ARM64
CPU (no clip taken for a different answer, no yes/no swap, a share correct above a floor set with a margin below
the measured figure); which clips fail is listed by the benchmark's report, where a change is information.
"""

from __future__ import annotations

import time
import wave
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from kiosk.asr.base import UNKNOWN, Grammar, Recognition
from kiosk.audio.chunk import RATE, AudioChunk
from kiosk.audio.endpoint import Endpointer
from kiosk.clock import SystemClock
from kiosk.content.bundle import Content
from kiosk.content.phrases import AnswerPhrases
from kiosk.errors import AudioError, ModelError
from kiosk.session.listening import Listened, listen
from tests.model_paths import whisper_model_dir

pytestmark = pytest.mark.whisper

ROOT = Path(__file__).resolve().parents[1]
CLIPS = ROOT / "tests" / "audio" / "ja"
# The answer sets of the questions in kiosk/content/questions.yaml, yes/no first, and the emergency prompt's
# acknowledgement (はい or わかりました).
QUESTIONS = tuple(dict.fromkeys([("yes", "no"), *(tuple(q.answers) for q in Content.load().questionnaire.questions),
                                 ("yes", "no", "understood")]))
# Floors for the share answered correctly, with a margin below the measured figures (every 2nd clip, whisper-base
# int8, 2026-12: clean 99 %, slowed 91 %): a real regression fails, a borderline clip on another CPU does not.
# The product targets (98 % and more) are measured and reported by the benchmark, which says by how much they
# are missed; a clip taken for a different answer, and a yes/no swap, are never tolerated.
MIN_CORRECT = {"clean": 0.95, "slowed": 0.82}
MIN_OOV_UNKNOWN = 0.90


@pytest.fixture(scope="session")
def engine() -> object:
    from kiosk.asr.whisper_engine import WhisperRecognizer

    return WhisperRecognizer(whisper_model_dir(), cpu_threads=2)


@pytest.fixture(scope="session")
def phrases() -> AnswerPhrases:
    return AnswerPhrases.load()


def grammar_for(phrases: AnswerPhrases, answer: str) -> Grammar:
    return phrases.grammar(next((q for q in QUESTIONS if answer in q), QUESTIONS[0]))


def read_pcm(path: Path) -> bytes:
    with wave.open(str(path), "rb") as w:
        assert (w.getframerate(), w.getsampwidth(), w.getnchannels()) == (RATE, 2, 1), f"{path}: not 16 kHz mono s16"
        return w.readframes(w.getnframes())


def chunks(pcm: bytes, size: int = 3200) -> Iterator[AudioChunk]:
    for start in range(0, len(pcm), size):
        yield AudioChunk(RATE, 2, 1, pcm[start:start + size])


def hear(engine: object, grammar: Grammar, pcm: bytes) -> Recognition:
    stream = engine.stream(grammar)  # type: ignore[attr-defined]
    for chunk in chunks(pcm):
        stream.feed(chunk)
    result: Recognition = stream.finish()
    return result


@dataclass(frozen=True)
class Heard:
    name: str
    expected: str
    got: str
    seconds: float


def synthesised(folder: Path, phrases: AnswerPhrases) -> list[Path]:
    """A few clips per answer made with pyopenjtalk, when no committed clips exist."""
    made = []
    texts = [(value, p.text) for value, ps in phrases.by_answer.items() for p in ps[:2] if len(p.text) > 1]
    texts += [("oov", t) for t in ("ありがとうございます", "テレビを見ました", "寒いですね", "お茶をください")]
    for condition, speed in (("clean", 1.0), ("slowed", 0.7)):
        (folder / condition).mkdir(parents=True, exist_ok=True)
        for answer, text in texts:
            pcm = jtalk(text, speed=speed, pad=0.4)
            path = folder / condition / f"{answer}__{text}__mei.wav"
            with wave.open(str(path), "wb") as w:
                w.setnchannels(1)
                w.setsampwidth(2)
                w.setframerate(RATE)
                w.writeframes(pcm)
            made.append(path)
    return made


@pytest.fixture(scope="session")
def heard(engine: object, phrases: AnswerPhrases, tmp_path_factory: pytest.TempPathFactory) -> list[Heard]:
    # Every second clip keeps the default test run short; the benchmark (python -m bench) uses more.
    files = sorted(p for c in ("clean", "slowed") for p in (CLIPS / c).glob("*.wav"))[::2]
    if not files:
        files = synthesised(tmp_path_factory.mktemp("ja"), phrases)
    out = []
    for path in files:
        answer = path.stem.split("__")[0]
        started = time.perf_counter()
        result = hear(engine, grammar_for(phrases, answer), read_pcm(path))
        out.append(Heard(f"{path.parent.name}/{path.name}", UNKNOWN if answer == "oov" else answer, result.answer,
                         time.perf_counter() - started))
    return out


def in_grammar(heard: list[Heard]) -> list[Heard]:
    return [h for h in heard if not h.name.split("/")[1].startswith("oov__")]


@pytest.mark.slow  # the clip sweep: about 150 s on 2 cores
def test_answers_are_recognised(heard: list[Heard]) -> None:
    for condition, floor in MIN_CORRECT.items():
        group = [h for h in in_grammar(heard) if h.name.startswith(condition + "/")]
        missed = [f"{h.name} → {h.got}" for h in group if h.got != h.expected]
        print(f"\n{condition}: {len(group) - len(missed)}/{len(group)} recognised; missed: {missed}")
        assert group and 1 - len(missed) / len(group) >= floor, f"{condition}: {len(missed)}/{len(group)} missed"


@pytest.mark.slow  # the clip sweep: about 150 s on 2 cores
def test_a_missed_answer_is_unknown_never_another_answer(heard: list[Heard]) -> None:
    # 'unknown' is asked again; another answer would be recorded as what the person said.
    wrong = [f"{h.name} → {h.got}" for h in in_grammar(heard) if h.got not in (h.expected, UNKNOWN)]
    assert not wrong, f"taken for a different answer: {wrong}"


@pytest.mark.slow  # the clip sweep: about 150 s on 2 cores
def test_no_yes_no_swap(heard: list[Heard]) -> None:
    swaps = [f"{h.name} → {h.got}" for h in heard if {h.expected, h.got} == {"yes", "no"}]
    assert not swaps, f"a yes/no swap is the dangerous error: {swaps}"


@pytest.mark.slow  # the clip sweep: about 150 s on 2 cores
def test_out_of_grammar_speech_is_unknown(heard: list[Heard]) -> None:
    oov = [h for h in heard if h.name.split("/")[1].startswith("oov__")]
    accepted = [f"{h.name} → {h.got}" for h in oov if h.got != UNKNOWN]
    assert oov and 1 - len(accepted) / len(oov) >= MIN_OOV_UNKNOWN, f"accepted: {accepted}"


@pytest.mark.slow  # the clip sweep: about 150 s on 2 cores
def test_latency_is_reported(heard: list[Heard]) -> None:
    seconds = np.array([h.seconds for h in heard])
    print(f"\nwhisper decision time over {len(seconds)} clips: p50 {np.percentile(seconds, 50):.3f} s, "
          f"p95 {np.percentile(seconds, 95):.3f} s")
    assert np.percentile(seconds, 50) < 5.0  # a sanity bound only; the benchmark measures the 0.8 s target


@pytest.mark.parametrize("level", [0.0, 0.003, 0.02])
def test_silence_and_noise_are_never_taken_as_an_answer(engine: object, phrases: AnswerPhrases, level: float) -> None:
    noise = np.random.default_rng(7).standard_normal(int(1.5 * RATE)) * level  # 0, -50 and -34 dBFS
    pcm = (noise * 32767).clip(-32768, 32767).astype("<i2").tobytes()
    for question in QUESTIONS[:3]:
        # unknown, or もう一度 (faint hiss was heard so once): either way the kiosk asks again.
        assert hear(engine, phrases.grammar(question), pcm).answer in (UNKNOWN, "repeat")


def test_rejects_non_canonical_audio(engine: object, phrases: AnswerPhrases) -> None:
    stream = engine.stream(phrases.grammar(("yes", "no")))  # type: ignore[attr-defined]
    with pytest.raises(AudioError, match="16 kHz"):
        stream.feed(AudioChunk(48_000, 2, 1, b"\0\0" * 480))


def test_missing_model_folder_says_what_to_do(tmp_path: Path) -> None:
    pytest.importorskip("faster_whisper")
    from kiosk.asr.whisper_engine import WhisperRecognizer

    with pytest.raises(ModelError, match="KIOSK_WHISPER_MODEL"):
        WhisperRecognizer(tmp_path / "nowhere")
    (tmp_path / "config.json").write_text("{}")
    with pytest.raises(ModelError, match="incomplete"):
        WhisperRecognizer(tmp_path)


# --- deciding during the trailing silence (kiosk.session.listening with a SpeculativeStream) ---

def silence(seconds: float) -> bytes:
    return bytes(2 * round(seconds * RATE))


def listened(engine: object, grammar: Grammar, pcm: bytes) -> Listened:
    """The kiosk's own listening path: its endpointer as set up from the default settings, stream, pause/resume,
    finish."""
    from bench.recognition import kiosk_endpoint_settings

    endpointer = Endpointer(kiosk_endpoint_settings())
    return listen(chunks(pcm, 480), endpointer, engine, grammar, SystemClock())  # type: ignore[arg-type]


def test_answer_is_decided_during_the_trailing_silence(engine: object, phrases: AnswerPhrases) -> None:
    # The endpointer waits 1.2 s after the last word; the engine starts deciding at the pause, and the answer
    # is the one it gives on the whole clip.
    pcm = read_pcm(CLIPS / "clean" / "no__いいえ__mei.wav")
    grammar = grammar_for(phrases, "no")
    out = listened(engine, grammar, silence(0.6) + pcm + silence(1.6))
    assert out.recognition is not None and out.recognition.answer == "no"
    assert out.decided_early
    assert hear(engine, grammar, pcm).answer == "no"


def test_words_after_a_pause_are_part_of_the_answer(engine: object, phrases: AnswerPhrases,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    # 「こんにちは … 左」: the decision started at the first pause must not stand once the person goes on.
    decided_on: list[np.ndarray] = []
    real = engine.decide_later  # type: ignore[attr-defined]

    def noting(samples: np.ndarray, grammar: Grammar) -> object:
        decided_on.append(samples)
        return real(samples, grammar)

    monkeypatch.setattr(engine, "decide_later", noting)
    first = read_pcm(CLIPS / "clean" / "oov__こんにちは__mei.wav")
    second = read_pcm(CLIPS / "clean" / "left__ひだり__mei.wav")
    grammar = grammar_for(phrases, "left")
    out = listened(engine, grammar, silence(0.6) + first + second + silence(1.6))  # clips: 0.9 s apart
    assert len(decided_on) == 2, "one early decision per pause"
    assert len(decided_on[1]) >= len(decided_on[0]) + len(second) // 2 // 2, "the second covers the later words"
    assert out.decided_early and out.recognition is not None
    assert out.recognition == engine.recognize(decided_on[1], grammar)  # type: ignore[attr-defined]


# --- a noisy room (white noise at 10 dB SNR, as the benchmark makes it) ---

def in_white_noise(name: str, snr_db: float = 10.0) -> bytes:
    """A clean clip with room for the endpointer under white noise, made by the benchmark's own padding and seed
    (its white_10dB condition), so the scores here are the ones it reports."""
    from bench.audio_conditions import add_noise
    from bench.common import padded, seed_of

    return add_noise(padded(read_pcm(CLIPS / "clean" / name)), snr_db, "white", seed_of(name))


@pytest.mark.parametrize(("name", "answer"), [("yes__はい__mei.wav", "yes"), ("no__いいえ__kokoro-alpha.wav", "no"),
                                              ("knee__膝__mei.wav", "knee"), ("back__腰__kokoro-kumo.wav", "back")])
def test_answers_in_noise_are_recognised(engine: object, phrases: AnswerPhrases, name: str, answer: str) -> None:
    out = listened(engine, grammar_for(phrases, answer), in_white_noise(name))
    assert out.recognition is not None and out.recognition.answer == answer


# Out-of-grammar words (calibrated -4.0 to -5.1 in this noise, 2026-11-22); in noise whisper-base takes some
# others (駅, 歯医者, 急須) for 救急車 or はい — measured by the benchmark, see kiosk/asr/whisper_engine.py.
@pytest.mark.parametrize("name", ("oov__灰色__kokoro-kumo.wav", "oov__胡椒__kokoro-kumo.wav", "oov__水__mei.wav",
                                  "oov__ありがとうございます__kokoro-alpha.wav"))
def test_out_of_grammar_words_in_noise_are_unknown(engine: object, phrases: AnswerPhrases, name: str) -> None:
    out = listened(engine, grammar_for(phrases, "yes"), in_white_noise(name))
    assert out.recognition is not None, "the endpointer must hear the words in the noise"
    assert out.recognition.answer == UNKNOWN, f"{name} in white noise was taken as {out.recognition.answer}"


@pytest.mark.parametrize(("text", "answer"), [("わかりました", "understood"), ("はい", "yes"), ("いいえ", "no"),
                                              ("わかりませんでした", "unknown")])
def test_the_emergency_acknowledgement_takes_wakarimashita(engine: object, phrases: AnswerPhrases, text: str,
                                                             answer: str) -> None:
    # 「わかりましたら、はい、とお答えください」 is answered 「わかりました」 as often as 「はい」; before, that was not
    # understood and the long emergency prompt started again. 「わかりませんでした」 must not stop it.
    result = hear(engine, phrases.grammar(("yes", "no", "understood")), jtalk(text))
    assert result.answer == answer, result


@pytest.mark.parametrize(("text", "answer"), [("一日前", "yesterday"), ("昨日", "yesterday"), ("数日前", "days")])
def test_one_day_ago_said_aloud_is_yesterday_not_a_few_days(engine: object, phrases: AnswerPhrases, text: str,
                                                             answer: str) -> None:
    # Sudden one-sided weakness since yesterday is an emergency, since a few days urgent.
    result = hear(engine, grammar_for(phrases, "yesterday"), jtalk(text))
    assert result.answer == answer, result


def jtalk(text: str, speed: float = 1.0, pad: float = 0.5) -> bytes:
    """`text` spoken by Open JTalk (mei) with `pad` seconds of silence on each side, as canonical PCM."""
    tts = pytest.importorskip("pyopenjtalk", reason="needs pyopenjtalk-plus: scripts/setup-env.sh voices")
    soxr = pytest.importorskip("soxr")
    audio, rate = tts.tts(text, speed=speed)
    samples = soxr.resample(np.asarray(audio, dtype=np.float64) / 32768.0, rate, RATE)
    samples = samples / max(1e-9, float(np.abs(samples).max())) * 0.5
    silence = np.zeros(int(pad * RATE))
    return (np.concatenate([silence, samples, silence]) * 32767).astype("<i2").tobytes()
