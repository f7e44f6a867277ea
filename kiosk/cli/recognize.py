"""`kiosk recognize`: the answer in each WAV file, against a question's grammar or given answer values."""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path
from typing import Any

from kiosk.asr.base import Grammar
from kiosk.audio.wav import wav_to_chunks
from kiosk.content.bundle import Content
from kiosk.errors import AudioError, KioskError
from kiosk.settings import Settings

log = logging.getLogger(__name__)


def add_command(sub: Any) -> None:
    """Register `kiosk recognize` on the main parser."""
    rec = sub.add_parser("recognize", help="recognise answers in WAV files (one JSON line per file)")
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
            stream = recognizer.stream(grammar)
            for chunk in wav_to_chunks(path):
                stream.feed(chunk)
            result = stream.finish()
            line: dict[str, Any] = {"file": str(path), "answer": result.answer, "text": result.text,
                                    "confidence": round(result.confidence, 3)}
        except AudioError as exc:
            failed += 1
            line = {"file": str(path), "error": str(exc)}
        print(json.dumps(line, ensure_ascii=False), flush=True)
    return 1 if failed else 0


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
