"""Command line: the one place that turns arguments into settings and builds the real objects."""

from __future__ import annotations

import argparse
import errno
import json
import logging
import signal
import sys
import threading
from collections.abc import Sequence
from pathlib import Path

from kiosk.clock import SystemClock
from kiosk.content import Content
from kiosk.dialog import Dialog
from kiosk.errors import KioskError, Stopped
from kiosk.history import SessionStore
from kiosk.normalize import Normalizer
from kiosk.settings import Settings, load_settings
from kiosk.staff_alert import StaffAlert
from kiosk.textsession import TypedSession
from kiosk.understanding import Understanding

log = logging.getLogger("kiosk")


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.WARNING,
                        format="kiosk: %(levelname)s: %(message)s", stream=sys.stderr)
    in_main = threading.current_thread() is threading.main_thread()  # only there can signals be handled
    previous = signal.signal(signal.SIGTERM, _stop) if in_main else None
    try:
        settings = load_settings(args.config)
        return int(args.func(args, settings))
    except KioskError as exc:
        print(f"kiosk: {exc}", file=sys.stderr)
        return 2
    except Stopped:
        # The kiosk stopped by its service manager ends cleanly; any other command (a model install) did not
        # finish, and says so with the usual status of a SIGTERM.
        return 0 if args.func is _run else 128 + signal.SIGTERM
    except KeyboardInterrupt:
        return 130
    except OSError as exc:
        print(f"kiosk: {_os_error_advice(exc)}", file=sys.stderr)
        return 2
    finally:
        if in_main:
            signal.signal(signal.SIGTERM, previous)


def _stop(signum: int, frame: object) -> None:
    raise Stopped


def _os_error_advice(exc: OSError) -> str:
    """A file or device problem that no part of the kiosk reported itself, said with what to do."""
    where = f"{exc.filename}: " if exc.filename else ""
    if isinstance(exc, PermissionError):
        return (f"{where}permission denied; run the command as the user the kiosk runs as (for the service: "
                f"sudo -u kiosk env KIOSK_CONFIG=/etc/kiosk/kiosk.toml XDG_DATA_HOME=/var/lib "
                f"/opt/kiosk/.venv/bin/kiosk ...), or give this user access to that path")
    if exc.errno == errno.ENOSPC:
        return f"{where}the disk is full; free some space (kiosk doctor shows the disk) and run it again"
    return f"{where}{exc.strerror or exc}; check that the path exists and this user can use it"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="kiosk", description="足腰セルフチェック: offline voice self-check")
    parser.add_argument("--config", type=Path, help="settings file (TOML); default $KIOSK_CONFIG")
    parser.add_argument("-v", "--verbose", action="store_true", help="log details to stderr")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--text", action="store_true", help="type the answers at a terminal")
    mode.add_argument("--jsonl", action="store_true", help="JSON lines on stdout, one answer per stdin line")
    parser.add_argument("--events", action="store_true", help="voice mode: print events as JSON lines for a screen")
    parser.add_argument("--once", action="store_true", help="voice mode: run one session, then exit")
    parser.set_defaults(func=_run)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    history = sub.add_parser("history", help="show recent sessions")
    history.add_argument("-n", type=int, default=20, help="how many sessions (default 20)")
    history.add_argument("--json", action="store_true", help="one JSON object per line")
    history.set_defaults(func=_history)

    check = sub.add_parser("check", help="validate all content files and exit")
    check.set_defaults(func=_check)

    from kiosk import voicecli  # noqa: PLC0415 - voice commands live with the voice code

    voicecli.add_commands(sub)
    from kiosk import doctor  # noqa: PLC0415

    doctor.add_command(sub)
    return parser


def build_text_session(settings: Settings, jsonl: bool, out: object = None) -> TypedSession:
    content = Content.load(settings.content.folder, settings.content.grammar)
    channel = "jsonl" if jsonl else "text"
    # Typing is already the fallback for voice, so typed sessions never fall back further.
    site = settings.site.__class__(settings.site.mode, settings.site.staff_alert_command, "none")
    dialog = Dialog(content, site, settings.dialog, SystemClock(), channel)
    understanding = Understanding(content.phrases, Normalizer.load())
    return TypedSession(dialog, understanding, SessionStore(settings.storage.database),
                        StaffAlert(settings.site.staff_alert_command), out or sys.stdout, jsonl)  # type: ignore[arg-type]


def _run(args: argparse.Namespace, settings: Settings) -> int:
    if args.text or args.jsonl:
        session = build_text_session(settings, jsonl=args.jsonl)
        prompt = None if args.jsonl else (lambda: print("> ", end="", flush=True))
        finished = session.run(sys.stdin, prompt)
        return 0 if finished is not None else 1
    from kiosk import voicecli  # noqa: PLC0415

    return voicecli.run_voice(args, settings)


def _history(args: argparse.Namespace, settings: Settings) -> int:
    rows = SessionStore(settings.storage.database).recent(args.n)
    if not rows:
        print(f"no sessions recorded yet in {settings.storage.database}")
    for row in rows:
        if args.json:
            print(json.dumps(row, ensure_ascii=False))
            continue
        from datetime import datetime  # noqa: PLC0415

        when = datetime.fromtimestamp(row["started_at"]).strftime("%Y-%m-%d %H:%M")
        state = "done" if row["completed"] else "stopped"
        print(f"#{row['id']:<5} {when}  {row['channel']:<6} {state:<7} {row['level'] or '-':<10} "
              f"{row['duration_s']:>6.1f}s  {len(row['answers'])} answers  {', '.join(row['reasons'][:3])}")
    return 0


def _check(args: argparse.Namespace, settings: Settings) -> int:
    content = Content.load(settings.content.folder, settings.content.grammar)
    Normalizer.load()
    print(f"content OK: {len(content.questionnaire.questions)} questions, {len(content.rules.rules)} rules, "
          f"{len(content.outcomes.advice)} advice items, {len(content.prompt_texts())} prompt texts")
    from kiosk.doctor import check_prompt_audio  # noqa: PLC0415

    # A prompt that is missing or made from older text would say something other than the screen.
    prompts = check_prompt_audio(settings, texts=content.prompt_texts())
    if prompts.status != "ok":
        print(f"kiosk: {prompts.message}; fix: {prompts.fix}", file=sys.stderr)
        return 1
    print(prompts.message)
    return 0


if __name__ == "__main__":
    sys.exit(main())
