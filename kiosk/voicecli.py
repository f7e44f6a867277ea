"""Voice commands: the spoken kiosk, replay, recognize, models and prompts."""

from __future__ import annotations

import argparse
import errno
import json
import logging
import re
import select
import shutil
import sys
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from kiosk.asr.base import Grammar
from kiosk.atomicfile import leftovers, replacing
from kiosk.audio.wav import wav_to_chunks, write_wav
from kiosk.clock import SystemClock
from kiosk.content import Content
from kiosk.errors import AudioError, KioskError, ModelError
from kiosk.history import SessionStore
from kiosk.settings import Settings
from kiosk.understanding import EMERGENCY, Heard

if TYPE_CHECKING:
    from kiosk.listening import Listened

log = logging.getLogger(__name__)


def add_commands(sub: Any) -> None:
    """Register the voice subcommands on the main parser."""
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

    rec = sub.add_parser("recognize", help="recognise answers in WAV files (one JSON line per file)")
    rec.add_argument("files", type=Path, nargs="+")
    which = rec.add_mutually_exclusive_group(required=True)
    which.add_argument("--question", help="use this question's grammar")
    which.add_argument("--answers", help="comma-separated answer values, e.g. yes,no,unknown")
    rec.add_argument("--engine", choices=("vosk", "whisper"))
    rec.set_defaults(func=cmd_recognize)

    models = sub.add_parser("models", help="install or verify speech models")
    msub = models.add_subparsers(dest="models_command", required=True, metavar="ACTION")
    install = msub.add_parser("install", help="download (once) and verify a model")
    install.add_argument("name", nargs="?", default="vosk-model-small-ja-0.22")
    install.add_argument("--from-zip", type=Path, help="install from a zip downloaded on another machine")
    install.add_argument("--dest", type=Path, help="folder to install into (default: beside the configured path)")
    install.set_defaults(func=cmd_models_install)
    verify = msub.add_parser("verify", help="check every file's size and sha256")
    verify.add_argument("name", nargs="?", default=None)
    verify.add_argument("--dir", type=Path, help="model folder (default: the configured path)")
    verify.set_defaults(func=cmd_models_verify)

    prompts = sub.add_parser("prompts", help="pre-render or check the spoken prompts")
    psub = prompts.add_subparsers(dest="prompts_command", required=True, metavar="ACTION")
    build = psub.add_parser("build", help="render missing or changed prompts with Open JTalk")
    build.add_argument("--out", type=Path, help="folder (default: audio_prompts/)")
    build.set_defaults(func=cmd_prompts_build)
    check = psub.add_parser("check", help="list missing or stale prompt audio")
    check.set_defaults(func=cmd_prompts_check)


# --- the spoken kiosk ---

EXIT_MICROPHONE_LOST = 75
"""Exit status when the microphone did not come back (EX_TEMPFAIL: try again later). Non-zero, so that
deploy/kiosk.service (Restart=on-failure, no RestartPreventExitStatus) restarts the kiosk until a microphone
is there, as docs/operations.md promises; distinct from 1 (incomplete) and 2 (a configuration error)."""


def run_voice(args: argparse.Namespace, settings: Settings, *, microphone: Any = None, output: Any = None,
              retry_sleep: Callable[[float], None] = time.sleep, stdin: TextIO | None = None) -> int:
    """The hands-free kiosk: microphone in, speaker out, sessions one after another.

    Exit status: 0 when it stops normally (`--once`, or no one answers the invitation to begin);
    EXIT_MICROPHONE_LOST (75) when the microphone was lost and did not come back within the retries, so
    that the service manager restarts the kiosk. `microphone`, `output` and `retry_sleep` replace the
    devices and the clock (tests); `stdin` is where typed answers come from (default: sys.stdin).
    """
    from kiosk.assembly import build_session, load_parts  # noqa: PLC0415
    from kiosk.audio.microphone import Microphone  # noqa: PLC0415
    from kiosk.engines import load_recognizer  # noqa: PLC0415
    from kiosk.output import SpeakerOutput  # noqa: PLC0415
    from kiosk.sources import MicrophoneSource  # noqa: PLC0415
    from kiosk.tts.live import LazyLiveRenderer, choose_live_renderer  # noqa: PLC0415

    parts = load_parts(settings)
    if parts.missing_emergency_audio:
        log.warning("no pre-rendered audio for %s; run `kiosk prompts build`", ", ".join(parts.missing_emergency_audio))

    def load() -> Any:
        return load_recognizer(settings.models, language=parts.content.phrases.language)

    once = bool(getattr(args, "once", False))
    try:
        recognizer = load()
    except ModelError as exc:
        if once or _is_terminal(sys.stdin if stdin is None else stdin):
            raise  # someone at a terminal reads the message and what to do
        output = output if output is not None else _speaker_or_none(settings)
        recognizer = _wait_for_model(exc, load, parts, output, retry_sleep)
    try:
        if microphone is None:
            microphone = Microphone(settings.listen.input_device or None)
        microphone.start()
    except AudioError as exc:
        hint = "" if "replay" in str(exc) else "; replay recorded answers with `kiosk replay FOLDER`"
        raise AudioError(f"{exc}{hint}; or type the answers with `kiosk --text`") from None
    if output is None:
        output = SpeakerOutput(settings.listen.output_device or None)
    events = _event_printer(getattr(args, "events", False), _is_terminal(sys.stdout))
    store = SessionStore(settings.storage.database)
    # Every text pre-rendered (the normal case): the live voice is loaded only if one is ever missing.
    texts = parts.content.prompt_texts()
    live = LazyLiveRenderer() if all(parts.library.fresh(pid) for pid in texts) else choose_live_renderer()
    keyboard = keyboard_reader(sys.stdin if stdin is None else stdin, settings.site.fallback,
                               settings.listen.no_input or None)
    if keyboard is None and settings.site.fallback == "keyboard":
        # No keyboard to type at (a service): telling a struggling person to use the keys would leave them
        # with nothing; the kiosk goes on asking by voice instead.
        settings = replace(settings, site=replace(settings.site, fallback="none"))

    def new_session() -> Any:
        return build_session(settings, parts, recognizer, MicrophoneSource(microphone, sleep=retry_sleep), output,
                             live, events, store, SystemClock(), "voice", keyboard=keyboard)

    try:
        session = new_session()
        # A kiosk that is always on (the service) begins only when someone asks: it does not start asking
        # questions of an empty room after a boot or a restart. `--once` (someone at the keyboard) begins now.
        first = None if once else _wait_for_next_person(session)
        while True:
            if first is _NOBODY:
                return _microphone_lost() if session.source.gave_up else 0
            session.run(first=first)
            if session.source.gave_up:
                return _microphone_lost()
            if once:
                return 0
            session = new_session()  # built before listening, so that a call for help is answered at once
            first = _wait_for_next_person(session)
    finally:
        microphone.stop()


MODEL_CHECK_SECONDS = 30.0
"""How often the service looks again for a speech model that is not installed yet."""


def _wait_for_model(error: ModelError, load: Callable[[], Any], parts: Any, output: Any,
                    sleep: Callable[[float], None]) -> Any:
    """The service started before its speech model was installed (a new Pi, a model deleted): say so once,
    aloud, since a kiosk at home has no screen, and wait for the model; restarting every few seconds would
    either say it every few seconds or say nothing at all. Starts as soon as the model is there."""
    from kiosk.speaking import Voice  # noqa: PLC0415

    log.error("%s; the kiosk waits for the model (looking again every %.0f s)", error, MODEL_CHECK_SECONDS)
    if output is not None:
        text = parts.content.speech["model_missing"]
        try:
            Voice(parts.library, output, None).say(("speech.model_missing",), text)
        except AudioError as exc:
            log.warning("the notice could not be spoken: %s", exc)
    while True:
        sleep(MODEL_CHECK_SECONDS)
        try:
            recognizer = load()
        except ModelError:
            continue
        log.warning("the speech model is there now; starting")
        return recognizer


def _speaker_or_none(settings: Settings) -> Any:
    from kiosk.output import SpeakerOutput  # noqa: PLC0415

    try:
        return SpeakerOutput(settings.listen.output_device or None)
    except AudioError as exc:
        log.warning("no speaker either (%s)", exc)
        return None


def _microphone_lost() -> int:
    log.error("the microphone is gone; exiting with status %d so that the service restarts the kiosk "
              "(check the cable; `kiosk doctor` lists the audio devices)", EXIT_MICROPHONE_LOST)
    return EXIT_MICROPHONE_LOST


def keyboard_reader(stdin: TextIO, fallback: str, wait: float | None = None) -> Callable[[], str | None] | None:
    """Typed answers for the site's 'keyboard' fallback: one line from `stdin` per answer, when it is a terminal.

    `wait`: seconds to wait for a line; None when nothing was typed by then, so the kiosk listens to the
    microphone for that turn (the person may speak again, or call for help) instead of waiting on the keys.

    None when the fallback is not 'keyboard', or there is no terminal to type at (a service without a
    keyboard): then run_voice drops the fallback (nobody is told to use keys that are not there), and logs it.
    """
    if fallback != "keyboard":
        return None
    if not _is_terminal(stdin):
        log.warning("[site] fallback is 'keyboard' but there is no keyboard (stdin is not a terminal), so typed "
                    "answers cannot be read; run the kiosk on a terminal, or set [site] fallback = \"staff\"")
        return None

    def read() -> str | None:
        try:
            if wait is not None and not select.select([stdin], [], [], wait)[0]:
                return None
            line = stdin.readline()
        except (OSError, ValueError) as exc:
            log.warning("the keyboard cannot be read (%s); listening instead", exc)
            return None
        # End of input (the terminal closed): None, so the kiosk listens instead of reading nothing forever.
        return line.strip() if line else None

    return read


_NOBODY = Heard(None, "<nobody>", 0.0)
"""_wait_for_next_person: the microphone is gone, or the audio ended; no session to begin."""
_INVITE_AGAIN_AFTER = (60.0, 300.0)
"""Seconds of silence after which the invitation is said again, then never again until someone speaks: an
always-on kiosk at home must not talk to an empty room every few seconds, all night."""


def _wait_for_next_person(session: Any) -> Heard | None:
    """Between sessions: invite the next person and listen; None when someone says はい (begin the check),
    the emergency answer when they call for help (the session starts with the emergency prompt), or _NOBODY."""
    grammar = session.dialog.content.phrases.grammar(("yes",))
    clock = session.clock
    said_at, invitations = 0.0, 0  # when the invitation was last said, and how often since someone spoke
    while True:
        if invitations == 0 or (invitations <= len(_INVITE_AGAIN_AFTER)
                                and clock.monotonic() - said_at >= _INVITE_AGAIN_AFTER[invitations - 1]):
            session._say_text("ready")
            said_at, invitations = clock.monotonic(), invitations + 1
        try:
            heard = _listen_once(session, grammar, "ready")
        except AudioError as exc:
            # Between people: wait for the microphone to come back instead of exiting.
            log.error("%s", exc)
            if not session.source.recover():
                return _NOBODY
            continue
        if heard is None:
            return _NOBODY
        if heard.recognition is None:
            continue  # nothing said: listen on, quietly
        understood: Heard = session.understanding.from_recognition(heard.recognition)
        if understood.answer == EMERGENCY:
            # A call for help is answered now, not after the welcome and a question. Heard unsurely, with
            # nobody in a check, it may be the television: asked once, so that it cannot page staff by itself.
            sure = understood.confidence >= session.dialog.settings.confirm_help_below
            if sure or _help_confirmed(session, grammar):
                return understood
            said_at, invitations = clock.monotonic(), 1  # not asked for: listen on, quietly
            continue
        if understood.answer == "yes":
            return None
        invitations = 0  # someone spoke, but did not say はい: tell them how to begin


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError, OSError):  # closed or not a real file
        return False


def _listen_once(session: Any, grammar: Grammar, turn: str) -> Listened | None:
    """One utterance at the microphone outside a check; None when no more audio will come.
    An AudioError is left to the caller, who decides whether to wait for the microphone."""
    from kiosk.listening import listen  # noqa: PLC0415

    chunks = session.source.next_answer(turn)
    if chunks is None:
        return None
    session.source.unmute()
    heard: Listened = listen(chunks, session.endpointer, session.recognizer, grammar, session.clock)
    session.source.mute()
    return heard


def _help_confirmed(session: Any, grammar: Grammar) -> bool:
    """「助けを呼びますか」: True when the answer is はい or another call for help."""
    session._say_text("confirm_help")
    try:
        heard = _listen_once(session, grammar, "confirm_help")
    except AudioError as exc:
        log.error("%s", exc)
        return False
    return heard is not None and heard.recognition is not None and heard.recognition.answer in ("yes", EMERGENCY)


def _event_printer(jsonl: bool, screen: bool) -> Any:
    """Events to stdout: JSON lines when asked for (`--events`, a screen program reads them), the texts when
    stdout is a terminal someone reads. Otherwise nothing: a service's stdout is the journal, and the questions
    asked and outcome spoken say what a person answered; the logs must never hold that."""

    def emit(event: dict[str, Any]) -> None:
        if not event or not (jsonl or screen):
            return
        try:
            if jsonl:
                print(json.dumps(event, ensure_ascii=False), flush=True)
            elif "text" in event and event["type"] in ("say", "ask", "emergency"):
                print(("!!! " if event["type"] == "emergency" else "") + event["text"], flush=True)
            elif event["type"] == "outcome":
                print(f"【{event['colour']}・{event['label']}】 {'、'.join(event['department_names'])}", flush=True)
        except BrokenPipeError:
            # The screen went away; the voice goes on (the events are for display only).
            log.warning("event stream closed; continuing with voice only")

    return emit


# --- replay ---

def answer_source(source: Path) -> tuple[list[Path], dict[str, list[Path]]]:
    """The answer WAVs of a replay: in order, and keyed by question.

    A folder's *.wav (any case) in name order; a .txt manifest (one path per line; UTF-8, a byte-order mark
    is ignored); or a .json manifest: a list of paths, or
    {"answers": [paths in order], "by_question": {"stroke_limb": "no.wav", "place": ["a.wav", "b.wav"]}}.
    Keyed answers also answer when the kiosk asks a question again.
    """
    if source.is_dir():
        # Any case of the extension: recorders and Windows copies often write NAME.WAV.
        files = sorted(p for p in source.iterdir() if p.suffix.lower() == ".wav" and p.is_file())
        if not files:
            raise AudioError(f"{source} has no .wav files; put one WAV per answer there, named in answer order")
        return files, {}
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
        return [(source.parent / x.strip()).resolve() for x in items]

    files = [(source.parent / x.strip()).resolve() for x in ordered if not x.lstrip().startswith("#")]
    by_question = {str(q): resolve(p) for q, p in keyed.items()}
    if not files and not by_question:
        raise AudioError(f"{source} lists no answer files")
    return files, by_question


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


def _write_advice(out: Path, exc: OSError) -> str:
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return f"the disk is full: free space (see `df -h {out}`) or give --out a folder on another disk"
    return f"check that {out} is a folder this user can write to"


def cmd_replay(args: argparse.Namespace, settings: Settings) -> int:
    """A whole session from recorded answers; the results go to --out, the outcome first.

    Exit status: 0 when the session finished with every answer file usable and every result written; 1 when it
    did not finish, a file was skipped, or a result could not be written (each said on stderr).
    """
    from kiosk.assembly import build_session, load_parts  # noqa: PLC0415
    from kiosk.engines import load_recognizer  # noqa: PLC0415
    from kiosk.output import RecordingOutput  # noqa: PLC0415
    from kiosk.sources import FileSource  # noqa: PLC0415

    files, by_question = answer_source(args.source)
    parts = load_parts(settings)
    recognizer = load_recognizer(settings.models, args.engine, parts.content.phrases.language)
    out: Path = args.out
    try:
        (out / "speech").mkdir(parents=True, exist_ok=True)
        removed = clear_previous_replay(out)
        transcript = (out / "transcript.jsonl").open("w", encoding="utf-8")
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

    store = SessionStore(settings.storage.database) if args.store else None
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
        from kiosk.textsession import outcome_event  # noqa: PLC0415

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


# --- recognize ---

def cmd_recognize(args: argparse.Namespace, settings: Settings) -> int:
    from kiosk.engines import load_recognizer  # noqa: PLC0415
    from kiosk.grammar import AnswerPhrases  # noqa: PLC0415

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


# --- models ---

def _model_dir(name: str, settings: Settings) -> Path:
    return settings.models.whisper_model if name.startswith("whisper") else settings.models.vosk_model


def cmd_models_install(args: argparse.Namespace, settings: Settings) -> int:
    from kiosk.models import install_model  # noqa: PLC0415

    target = _model_dir(args.name, settings)
    dest = args.dest or target.parent
    final = install_model(args.name, dest, from_zip=args.from_zip)
    print(f"{args.name} installed and verified in {final}")
    if final != target:
        key = "KIOSK_WHISPER_MODEL" if args.name.startswith("whisper") else "KIOSK_VOSK_MODEL"
        print(f"note: the kiosk looks in {target}; set {key}={final} or [models] in the settings file")
    return 0


def cmd_models_verify(args: argparse.Namespace, settings: Settings) -> int:
    from kiosk.models import load_manifest, verify_model  # noqa: PLC0415

    manifest = load_manifest()
    names = [args.name] if args.name else [n for n in manifest if manifest[n].engine == settings.models.engine]
    bad = 0
    for name in names:
        if name not in manifest:
            raise ModelError(f"unknown model '{name}'; known: {', '.join(manifest)}")
        folder = args.dir or _model_dir(name, settings)
        problems = verify_model(folder, manifest[name])
        if problems:
            bad += 1
            print(f"{name} in {folder}: {len(problems)} problem(s)", file=sys.stderr)
            for problem in problems[:10]:
                print(f"  {problem}", file=sys.stderr)
            print(f"fix it with: kiosk models install {name}", file=sys.stderr)
        else:
            print(f"{name} in {folder}: all {len(manifest[name].files)} files verified")
    return 1 if bad else 0


# --- prompts ---

def cmd_prompts_build(args: argparse.Namespace, settings: Settings) -> int:
    from kiosk.datafiles import PROMPTS, data_dir  # noqa: PLC0415
    from kiosk.prompt_audio import render_prompts  # noqa: PLC0415
    from kiosk.tts.openjtalk import OpenJTalkRenderer  # noqa: PLC0415

    texts = Content.load(settings.content.folder, settings.content.grammar).prompt_texts()
    folder = settings.content.folder
    out = args.out or (folder / PROMPTS if folder is not None else data_dir(PROMPTS))
    if args.out is None and folder is not None and not out.is_dir():
        # A site's content gets its own prompt audio, started from the shipped prompts: only the texts the
        # site changed are rendered, and the audio the running kiosk plays is never touched.
        shutil.copytree(data_dir(PROMPTS), out)
    rendered = render_prompts(texts, out, OpenJTalkRenderer())
    print(f"{len(rendered)} prompt(s) rendered into {out}" if rendered else f"all prompts in {out} are up to date")
    return 0


def cmd_prompts_check(args: argparse.Namespace, settings: Settings) -> int:
    from kiosk.datafiles import prompt_audio_dir  # noqa: PLC0415
    from kiosk.prompt_audio import check_prompts  # noqa: PLC0415

    texts = Content.load(settings.content.folder, settings.content.grammar).prompt_texts()
    status = check_prompts(texts, prompt_audio_dir(settings.content.folder))
    print(status.describe())
    return 0 if status.ok else 1
