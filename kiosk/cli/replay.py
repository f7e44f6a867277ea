"""`kiosk replay`: a whole session from recorded answer files, its results written to a folder."""

from __future__ import annotations

import argparse
import errno
import json
import logging
import os
import re
import sys
from pathlib import Path
from typing import Any, TextIO

from kiosk.atomicfile import leftovers, replacing
from kiosk.audio.wav import write_wav
from kiosk.cli.input_files import not_regular, resolved
from kiosk.clock import SystemClock
from kiosk.errors import AudioError, KioskError
from kiosk.session.records import SessionStore
from kiosk.session.staff_alert import check_site_alert
from kiosk.settings import Settings

log = logging.getLogger(__name__)


def add_command(sub: Any) -> None:
    """Register `kiosk replay` on the main parser."""
    replay = sub.add_parser("replay", help="run a whole session from recorded answer files")
    replay.add_argument("source", type=Path, help="folder of WAV files (one per answer, in name order) or a "
                                                 "manifest (.txt/.json list of WAV paths)")
    replay.add_argument("--out", type=Path, default=Path("replay-out"),
                        help="folder for the results: outcome.json (written first), transcript.jsonl, "
                             "kiosk_speech.wav and speech/001.wav, 002.wav, ...; those files left by an earlier "
                             "replay into the same folder are removed first, any other file there is left alone "
                             "(default: replay-out)")
    replay.add_argument("--engine", choices=("vosk", "whisper"), help="recognizer (default: settings)")
    replay.add_argument("--store", action="store_true", help="also record the session in the history")
    replay.add_argument("--realtime", action="store_true",
                        help="feed the answers at the pace of a microphone (timings as live; slower)")
    replay.set_defaults(func=cmd_replay)


def answer_source(source: Path) -> tuple[list[Path], dict[str, list[Path]]]:
    """The answer WAVs of a replay: in order, and keyed by question.

    A folder's *.wav (any case) in name order; a .txt manifest (one path per line; UTF-8, a byte-order mark
    is ignored); or a .json manifest: a list of paths, or
    {"answers": [paths in order], "by_question": {"stroke_limb": "no.wav", "place": ["a.wav", "b.wav"]}}.
    Keyed answers also answer when the kiosk asks a question again.
    """
    if source.is_dir():
        # Any case of the extension: recorders and Windows copies often write NAME.WAV.
        files = sorted(p for p in source.iterdir() if p.suffix.lower() == ".wav")
        if not files:
            raise AudioError(f"{source} has no .wav files; put one WAV per answer there, named in answer order")
        _refuse_irregular(source, files)
        return files, {}
    problem = not_regular(source, "a manifest")
    if problem is not None:
        raise AudioError(f"{problem}, or a folder of WAV files")
    if not source.is_file():
        raise AudioError(f"{source} does not exist; give a folder of WAV files or a manifest file")
    try:
        raw = source.read_bytes()
    except OSError as exc:
        raise AudioError(f"{source} cannot be read ({exc.strerror or exc}); check the path") from None
    if source.suffix.lower() == ".wav" or raw[:4] == b"RIFF":
        raise AudioError(f"{source} is a single WAV file; replay needs a folder of WAV files (one per answer) or a "
                         f"manifest listing them; to recognise one file use `kiosk recognize {source} --question "
                         "ID`")
    try:
        text = raw.decode("utf-8-sig")  # -sig: a byte-order mark (Windows Notepad) is not part of the first path
    except UnicodeDecodeError:
        raise AudioError(f"{source} is not a UTF-8 text manifest; list one WAV path per line and save it as "
                         "UTF-8") from None
    try:
        data = json.loads(text) if source.suffix.lower() == ".json" else [x for x in text.splitlines() if x.strip()]
    except ValueError as exc:
        raise AudioError(f"{source} is not valid JSON ({exc}); it must be a list of WAV paths") from None
    ordered, keyed = (data.get("answers", []), data.get("by_question", {})) if isinstance(data, dict) else (data, {})
    if not isinstance(ordered, list) or not all(isinstance(x, str) for x in ordered):
        raise AudioError(f"{source} must list WAV paths (one per line, or a JSON list)")
    if not isinstance(keyed, dict):
        raise AudioError(f"{source}: by_question must map question ids to a WAV path or a list of paths")

    def resolve(paths: object) -> list[Path]:
        items = [paths] if isinstance(paths, str) else paths
        if not isinstance(items, list) or not all(isinstance(x, str) for x in items):
            raise AudioError(f"{source}: by_question values must be a WAV path or a list of paths")
        return [resolved(source.parent / x.strip()) for x in items]

    files = [resolved(source.parent / x.strip()) for x in ordered if not x.lstrip().startswith("#")]
    by_question = {str(q): resolve(p) for q, p in keyed.items()}
    if not files and not by_question:
        raise AudioError(f"{source} lists no answer files")
    _refuse_irregular(source, [*files, *(p for paths in by_question.values() for p in paths)])
    return files, by_question


def _refuse_irregular(source: Path, files: list[Path]) -> None:
    """Every answer file must be a regular file: a FIFO would hang the replay, a folder or a broken symlink
    would be skipped; refused before anything is read, each one named."""
    problems = list(dict.fromkeys(p for p in map(not_regular, files) if p is not None))
    if problems:
        raise AudioError(f"{source}: {'; '.join(problems)}; replay reads one regular WAV file per answer: remove "
                         "or replace these, then replay again")


REPLAY_FILES = ("outcome.json", "transcript.jsonl", "kiosk_speech.wav")
"""What `kiosk replay` writes into its --out folder, besides speech/NNN.wav."""
_SPEECH_FILE = re.compile(r"\d{3,}\.wav")
_REPLAY_TEMP = leftovers(r"outcome\.json|kiosk_speech\.wav|\d{3,}\.wav")
"""Temporary files of an atomic write (atomicfile.replacing) that a crash or a full disk left behind."""


def clear_previous_replay(out: Path) -> int:
    """Remove the files an earlier replay wrote into `out`, and only those, so that results never mix.

    Other files in the folder (notes, the answer recordings themselves) are left alone. Returns how many
    files were removed.
    """
    removed = 0
    for folder in (out, out / "speech"):
        if not folder.is_dir():
            continue
        for path in folder.iterdir():
            ours = path.name in REPLAY_FILES if folder == out else _SPEECH_FILE.fullmatch(path.name) is not None
            if (ours or _REPLAY_TEMP.fullmatch(path.name)) and not path.is_dir():
                path.unlink()
                removed += 1
    return removed


def _private_text(path: Path) -> TextIO:
    """A new text file readable by this user only (0600), whatever the umask."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o600)
    os.fchmod(fd, 0o600)  # an existing file keeps its mode otherwise
    return os.fdopen(fd, "w", encoding="utf-8")


def _write_advice(out: Path, exc: OSError) -> str:
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return f"the disk is full: free space (see `df -h {out}`) or give --out a folder on another disk"
    return f"check that {out} is a folder this user can write to"


def cmd_replay(args: argparse.Namespace, settings: Settings) -> int:
    """A whole session from recorded answers; the results go to --out, the outcome first.

    Exit status: 0 when the session finished with every answer file usable and every result written; 1 when it
    did not finish, a file was skipped, or a result could not be written (each said on stderr).
    """
    from kiosk.asr.engines import load_recognizer
    from kiosk.audio.sources import FileSource
    from kiosk.audio.speaker import RecordingOutput
    from kiosk.session.assembly import build_session, load_parts

    check_site_alert(settings.site)  # clinic mode pages staff on a replayed emergency too
    files, by_question = answer_source(args.source)
    parts = load_parts(settings)
    recognizer = load_recognizer(settings.models, args.engine, parts.content.phrases.language)
    out: Path = args.out
    try:
        # Private like the database: the transcript holds what was heard, the speech files what was said.
        out.mkdir(parents=True, exist_ok=True, mode=0o700)
        (out / "speech").mkdir(exist_ok=True, mode=0o700)
        removed = clear_previous_replay(out)
        transcript = _private_text(out / "transcript.jsonl")
    except OSError as exc:
        raise KioskError(f"cannot write the results to {out} ({exc.strerror or exc}); {_write_advice(out, exc)}, "
                         "then replay again") from None
    if removed:
        log.info("removed %d result file(s) of an earlier replay from %s", removed, out)
    output = RecordingOutput()
    not_written: list[tuple[str, OSError]] = []
    """Results that could not be written (a full disk): each is reported, none stops the others."""

    def emit(event: dict[str, Any]) -> None:
        if event and not any(what == "transcript.jsonl" for what, _ in not_written):
            try:
                transcript.write(json.dumps(event, ensure_ascii=False) + "\n")
            except OSError as exc:  # the session goes on: its outcome matters more than its transcript
                not_written.append(("transcript.jsonl", exc))

    store = SessionStore.from_settings(settings.storage) if args.store else None
    if store is not None:
        store.start()
    source = FileSource(files, by_question, realtime=args.realtime)
    session = build_session(settings, parts, recognizer, source, output, None, emit, store, SystemClock(),
                            "replay")
    try:
        finished = session.run()
    finally:
        try:
            transcript.close()
        except OSError as exc:
            if not not_written:
                not_written.append(("transcript.jsonl", exc))
    result: dict[str, Any] = {"completed": finished is not None, "files_used": [str(p) for p in source.used],
                              "files_skipped": [{"file": str(p), "error": e} for p, e in source.skipped],
              "files_left": [str(p) for p in source.files], "timings": session.timings.turns,
              "emergency_prompt_delay": session.timings.emergency_prompt_delay,
              "shown_only": session.voice.silent}
    if finished is not None:
        from kiosk.session.events import outcome_event

        result["outcome"] = outcome_event(finished.outcome)
    outcome_text = json.dumps(result, ensure_ascii=False, indent=2)
    # The outcome first: it is what the replay is for, and the speech audio after it may fill the disk.
    try:
        with replacing(out / "outcome.json", durable=True) as f:
            f.write(outcome_text)
    except OSError as exc:
        not_written.append(("outcome.json", exc))
        print(f"kiosk: the outcome could not be saved, so here it is:\n{outcome_text}", file=sys.stderr)
    try:
        for i, (_, pcm) in enumerate(output.played, 1):
            write_wav(out / "speech" / f"{i:03d}.wav", pcm)
        write_wav(out / "kiosk_speech.wav", output.audio)
    except OSError as exc:
        not_written.append(("the kiosk's speech audio (speech/*.wav, kiosk_speech.wav)", exc))
    summary = result["outcome"]["level"] if finished is not None else "incomplete"
    print(f"replay: {len(source.used)} answer file(s) used, outcome {summary}; results in {out}/")
    for path, error in source.skipped:
        print(f"kiosk: skipped {path}: {error}", file=sys.stderr)
    outcome_saved = not any(what == "outcome.json" for what, _ in not_written)
    for what, failure in not_written:
        kept = "; outcome.json is complete" if outcome_saved else ""
        print(f"kiosk: {what} could not be written in {out} ({failure.strerror or failure}), so it is missing or "
              f"incomplete{kept}; {_write_advice(out, failure)}, then replay again", file=sys.stderr)
    return 0 if finished is not None and not source.skipped and not not_written else 1
