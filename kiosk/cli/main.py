"""Command line: the one place that turns arguments into settings and builds the real objects."""

from __future__ import annotations

import argparse
import errno
import logging
import signal
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from kiosk.cli import check, doctor, history, models, prompts, recognize, replay
from kiosk.errors import KioskError, Stopped
from kiosk.session.staff_alert import check_site_alert
from kiosk.session.typed import build_text_session
from kiosk.settings import Settings, load_settings

log = logging.getLogger("kiosk")


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.WARNING,
                        format="kiosk: %(levelname)s: %(message)s", stream=sys.stderr)
    in_main = threading.current_thread() is threading.main_thread()  # only there can signals be handled
    # SIGHUP (the terminal of `kiosk --text` closed) is a stop like SIGTERM: the answers so far are saved.
    previous: dict[signal.Signals, Any] = {}
    if in_main:
        previous = {sig: signal.signal(sig, _stop) for sig in (signal.SIGTERM, signal.SIGHUP)}
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
        for sig, handler in previous.items():
            signal.signal(sig, handler)


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

    for command in (history, check, replay, recognize, models, prompts, doctor):
        command.add_command(sub)
    return parser


def _run(args: argparse.Namespace, settings: Settings) -> int:
    check_site_alert(settings.site)  # a pager that cannot run stops the kiosk now, not in an emergency
    if args.text or args.jsonl:
        session = build_text_session(settings, jsonl=args.jsonl, out=sys.stdout)
        prompt = None if args.jsonl else (lambda: session.write_prompt("> "))
        finished = session.run(sys.stdin, prompt)
        return 0 if finished is not None else 1
    from kiosk.cli.voice import run_voice

    return run_voice(args, settings)
