"""The Vosk engine on a real model (Korean, from PyPI) and real speech (espeak-ng, tests/audio/ko/).

The Japanese model cannot be downloaded on build machines; the engine's mechanics (grammar per
question, word-sequence mapping, final results, rejection, streaming) do not depend on the language.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from kiosk.asr.base import UNKNOWN, Grammar, Phrase
from kiosk.asr.vosk_engine import VoskRecognizer, missing_model_files
from kiosk.audio.chunk import RATE, AudioChunk
from kiosk.audio.endpoint import EndOfSpeech, Endpointer
from kiosk.audio.wav import read_wav, wav_to_chunks
from kiosk.content.phrases import AnswerPhrases
from kiosk.errors import AudioError, ModelError
from tests.model_paths import korean_model_dir

pytestmark = pytest.mark.vosk

KO = Path(__file__).parent / "audio" / "ko"
YES, NO = Phrase("yes", ("네",)), Phrase("no", ("아니요",))
REPEAT = Phrase("repeat", ("다시", "말해", "주세요"))
RIGHT, LEFT = Phrase("right", ("오른쪽",)), Phrase("left", ("왼쪽",))
YES_NO = Grammar((YES, NO, REPEAT))
SIDES = Grammar((RIGHT, LEFT, REPEAT))
EVERYTHING = Grammar((YES, NO, REPEAT, RIGHT, LEFT))
FILLERS = ("하나", "둘", "셋", "다리", "무릎", "허리", "감사합니다", "안녕하세요", "오른쪽", "왼쪽")
"""Rejection words for a model without [unk] (grammar words are left out of them automatically)."""



@pytest.fixture(scope="session")
def engine() -> VoskRecognizer:
    """The model, loaded once for the whole session (about 2 s and 500 MB)."""
    return VoskRecognizer(korean_model_dir(), rejection_words=FILLERS, language="ko")


def answer_files() -> list[Path]:
    # Only the answers EVERYTHING knows (the other clips are for whole-session replays, test_replay.py).
    known = {p.answer for p in EVERYTHING.phrases} | {"oov"}
    return [p for p in sorted(KO.glob("*.wav")) if p.stem.split("__")[0] in known]


def expected(path: Path) -> tuple[str, str]:
    answer, words = path.stem.split("__")
    return answer, words.replace("_", " ")


def pcm(path: Path) -> bytes:
    return read_wav(path).audio


def pieces(audio: bytes, seconds: float) -> Iterator[AudioChunk]:
    step = 2 * round(seconds * RATE)
    for i in range(0, len(audio), step):
        yield AudioChunk(RATE, 2, 1, audio[i : i + step])


def recognise(
    engine: VoskRecognizer, grammar: Grammar, audio: bytes, seconds: float = 0.03
) -> tuple[str, str]:
    stream = engine.stream(grammar)
    for chunk in pieces(audio, seconds):
        stream.feed(chunk)
    result = stream.finish()
    return result.answer, result.text


def test_the_korean_model_is_where_the_package_says() -> None:
    model = korean_model_dir()
    assert model.is_dir() and missing_model_files(model) == []
    assert not (model / "graph" / "words.txt").exists()  # so the vocabulary is asked from Vosk itself


def test_the_korean_model_has_no_unk_word(engine: VoskRecognizer) -> None:
    assert not engine.has_unk
    assert engine.knows("네") and not engine.knows("はい")


@pytest.mark.parametrize(
    "path", [p for p in answer_files() if not p.stem.startswith("oov")], ids=lambda p: p.stem
)
def test_each_answer_is_recognised(engine: VoskRecognizer, path: Path) -> None:
    answer, words = expected(path)
    result = engine.stream(EVERYTHING)
    for chunk in wav_to_chunks(path):
        result.feed(chunk)
    recognition = result.finish()
    assert (recognition.answer, recognition.confidence >= engine.min_confidence) == (answer, True)
    assert recognition.text == words.replace(" ", "")  # the phrase's surface text


@pytest.mark.parametrize("path", answer_files(), ids=lambda p: p.stem)
def test_small_chunks_give_the_same_result_as_one_big_chunk(engine: VoskRecognizer, path: Path) -> None:
    audio = pcm(path) + bytes(RATE)
    whole = recognise(engine, EVERYTHING, audio, seconds=len(audio))
    assert recognise(engine, EVERYTHING, audio, seconds=0.01) == whole
    assert recognise(engine, EVERYTHING, audio, seconds=0.25) == whole


def test_the_grammar_switches_per_question_on_one_model(engine: VoskRecognizer) -> None:
    right = pcm(KO / "right__오른쪽.wav")
    yes = pcm(KO / "yes__네.wav")
    assert recognise(engine, SIDES, right)[0] == "right"
    assert recognise(engine, YES_NO, right)[0] == UNKNOWN  # not an answer to a yes/no question
    assert recognise(engine, YES_NO, yes)[0] == "yes"
    assert recognise(engine, SIDES, yes)[0] == UNKNOWN
    assert recognise(engine, SIDES, right)[0] == "right"  # and back again


def test_out_of_grammar_speech_is_unknown(engine: VoskRecognizer) -> None:
    answer, text = recognise(engine, YES_NO, pcm(KO / "oov__감사합니다.wav"))
    assert answer == UNKNOWN
    assert text  # the words heard are kept for the log


def test_silence_is_unknown_with_no_words(engine: VoskRecognizer) -> None:
    stream = engine.stream(YES_NO)
    stream.feed(AudioChunk(RATE, 2, 1, bytes(2 * RATE * 2)))
    result = stream.finish()
    assert (result.answer, result.text, result.confidence) == (UNKNOWN, "", 0.0)


def test_results_below_the_minimum_confidence_are_unknown(
    engine: VoskRecognizer, monkeypatch: pytest.MonkeyPatch
) -> None:
    audio = pcm(KO / "yes__네.wav")
    assert recognise(engine, YES_NO, audio)[0] == "yes"
    monkeypatch.setattr(engine, "min_confidence", 1.0 + 1e-9)
    assert recognise(engine, YES_NO, audio) == (UNKNOWN, "네")


def test_a_pause_inside_an_utterance_does_not_lose_the_first_words(engine: VoskRecognizer) -> None:
    # Kaldi closes a segment at the long pause (AcceptWaveform returns True); the final result alone
    # would then be just the second 네 and be taken for a clear 'yes'.
    yes = pcm(KO / "yes__네.wav")
    answer, text = recognise(engine, YES_NO, bytes(RATE) + yes + bytes(3 * 2 * RATE) + yes + bytes(RATE))
    assert (answer, text) == (UNKNOWN, "네 네")


def test_phrases_with_words_outside_the_vocabulary_are_left_out(engine: VoskRecognizer) -> None:
    grammar = Grammar((YES, Phrase("yes", ("네", "맞아요")), NO))
    assert engine.missing_words(grammar) == {"맞아요"}
    assert engine.usable_phrases(grammar) == (YES, NO)
    assert recognise(engine, grammar, pcm(KO / "yes__네.wav"))[0] == "yes"


def test_a_grammar_in_another_language_is_a_model_error(engine: VoskRecognizer) -> None:
    japanese = AnswerPhrases.load().grammar(["yes", "no"])
    with pytest.raises(ModelError, match="probably a model for another language.*kiosk models install"):
        engine.stream(japanese)


def test_non_canonical_audio_is_refused(engine: VoskRecognizer) -> None:
    with pytest.raises(AudioError, match="16 kHz mono"):
        engine.stream(YES_NO).feed(AudioChunk(22050, 2, 1, bytes(100)))


@pytest.mark.skipif(shutil.which("sox") is None, reason="sox missing: sudo apt-get install sox")
@pytest.mark.parametrize("path", answer_files(), ids=lambda p: p.stem)
def test_end_to_end_from_a_wav_through_the_endpointer(
    engine: VoskRecognizer, tmp_path: Path, path: Path
) -> None:
    padded = tmp_path / "answer.wav"  # 22,050 Hz as espeak-ng wrote it, with a pause before and after
    subprocess.run(["sox", str(path), str(padded), "pad", "1.0", "2.5"], check=True)
    endpointer, stream = Endpointer(), engine.stream(EVERYTHING)
    event = None
    for chunk in wav_to_chunks(padded):
        event = endpointer.feed(chunk)
        if (audio := endpointer.drain()) is not None:
            stream.feed(audio)  # live, while the person speaks
        if isinstance(event, EndOfSpeech):
            break
    assert isinstance(event, EndOfSpeech)
    started = time.perf_counter()
    answer = stream.finish().answer
    assert time.perf_counter() - started < 1.0  # final result right after the endpoint
    assert answer == (UNKNOWN if expected(path)[0] == "oov" else expected(path)[0])


def test_a_missing_folder_says_how_to_install(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match=r"does not exist; install the model with: kiosk models install"):
        VoskRecognizer(tmp_path / "nowhere")


def _linked_copy(tmp_path: Path, leave_out: str = "", truncate: str = "") -> Path:
    """A model folder of symlinks to the real files, with one file missing or cut short."""
    source, copy = korean_model_dir(), tmp_path / "model"
    for file in source.rglob("*"):
        relative = file.relative_to(source).as_posix()
        if file.is_dir() or relative == leave_out:
            continue
        target = copy / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        if relative == truncate:
            with open(file, "rb") as src:
                target.write_bytes(src.read(100_000))
        else:
            os.symlink(file, target)
    return copy


def test_an_incomplete_model_names_the_missing_files(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match=r"incomplete \(missing graph/HCLr.fst\).*kiosk models verify"):
        VoskRecognizer(_linked_copy(tmp_path, leave_out="graph/HCLr.fst"))


def test_a_damaged_model_file_is_a_model_error(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="could not load the model.*kiosk models install"):
        VoskRecognizer(_linked_copy(tmp_path, truncate="am/final.mdl"))
