"""`kiosk recognize`: the answer in each WAV file, against a question's grammar or given answer values."""

from __future__ import annotations

import argparse
import json
import logging
from dataclasses import replace
from pathlib import Path
from typing import Any

from kiosk.asr.base import Grammar, Recognizer
from kiosk.audio.endpoint import Endpointer
from kiosk.audio.wav import read_wav_info, wav_to_chunks
from kiosk.cli.input_files import not_regular
from kiosk.clock import SystemClock
from kiosk.content.bundle import Content
from kiosk.errors import AudioError, KioskError
from kiosk.session.assembly import endpoint_settings
from kiosk.session.listening import listen
from kiosk.settings import Settings

log = logging.getLogger(__name__)
WHOLE_FILE_SECONDS = 30.0
"""Files up to this long are one answer, recognised whole. A longer file is listened to as the kiosk listens
to a microphone: its first answer (speech up to [listen] trailing_silence of quiet) is recognised, read in
chunks with memory bounded whatever the file's length (a 1-hour file: see bench/long_file.py)."""


def add_command(sub: Any) -> None:
    """Register `kiosk recognize` on the main parser."""
    rec = sub.add_parser("recognize", help="recognise answers in WAV files (one JSON line per file); a file "
                                           f"longer than {WHOLE_FILE_SECONDS:.0f} s: its first answer")
    rec.add_argument("files", type=Path, nargs="+")
    which = rec.add_mutually_exclusive_group(required=True)
    which.add_argument("--question", help="use this question's grammar")
    which.add_argument("--answers", help="comma-separated answer values, e.g. yes,no,unknown")
    rec.add_argument("--engine", choices=("vosk", "whisper"))
    rec.set_defaults(func=cmd_recognize)


def cmd_recognize(args: argparse.Namespace, settings: Settings) -> int:
    from kiosk.asr.engines import load_recognizer
    from kiosk.content.phrases import AnswerPhrases

    phrases = AnswerPhrases.load(settings.content.grammar)
    grammar = _grammar(args, phrases, settings)
    recognizer = load_recognizer(settings.models, args.engine, phrases.language)  # loaded once for all files
    failed = 0
    for path in args.files:
        try:
            line = {"file": str(path), **recognize_file(path, recognizer, grammar, settings)}
        except AudioError as exc:
            failed += 1
            line = {"file": str(path), "error": str(exc)}
        print(json.dumps(line, ensure_ascii=False), flush=True)
    return 1 if failed else 0


def recognize_file(path: Path, recognizer: Recognizer, grammar: Grammar, settings: Settings) -> dict[str, Any]:
    """The answer in one file: the whole of a short file, the first answer of a long one (streamed)."""
    problem = not_regular(path)
    if problem is not None:
        raise AudioError(problem)
    if read_wav_info(path).seconds <= WHOLE_FILE_SECONDS:
        stream = recognizer.stream(grammar)
        for chunk in wav_to_chunks(path):
            stream.feed(chunk)
        result = stream.finish()
        return {"answer": result.answer, "text": result.text, "confidence": round(result.confidence, 3)}
    # No no-input limit: a recording may begin with minutes of silence; the answer is kept to max_utterance.
    endpointer = Endpointer(replace(endpoint_settings(settings.listen), no_input=None))
    heard = listen(wav_to_chunks(path), endpointer, recognizer, grammar, SystemClock())
    if heard.recognition is None:
        return {"answer": "unknown", "text": "", "confidence": 0.0, "speech": None}
    start = endpointer.speech_start_time or 0.0
    end = heard.speech_end if heard.speech_end is not None else endpointer.time
    return {"answer": heard.recognition.answer, "text": heard.recognition.text,
            "confidence": round(heard.recognition.confidence, 3), "speech": [round(start, 2), round(end, 2)]}


def _grammar(args: argparse.Namespace, phrases: Any, settings: Settings) -> Grammar:
    if args.question:
        content = Content.load(settings.content.folder, settings.content.grammar)
        try:
            question = content.questionnaire.by_id(args.question)
        except KeyError:
            known = ", ".join(q.id for q in content.questionnaire.questions)
            raise KioskError(f"no question '{args.question}'; known: {known}") from None
        return phrases.grammar(question.answers)  # type: ignore[no-any-return]
    values = [v.strip() for v in args.answers.split(",") if v.strip()]
    unknown = [v for v in values if v not in phrases.by_answer]
    if unknown or not values:
        raise KioskError(f"unknown answer value(s) {unknown}; known: {', '.join(phrases.by_answer)}")
    # --answers: exactly these values, nothing added, so a test can restrict the grammar at will.
    return Grammar(tuple(p for v in values for p in phrases.by_answer[v]))
