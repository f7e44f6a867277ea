"""`kiosk doctor`: checks what an unattended kiosk needs and says what to fix.

Audio devices, the speech model, voices (pre-rendered prompts and a live voice), content, the staff alert,
disk space and the session database. Each check returns findings: `ok`, `warn` (works, but something optional
is missing) or `fail` (the kiosk cannot work properly until it is fixed). The command exits 0 only when nothing failed.
Nothing here writes anything (the staff alert's dry run, when a site sets one, is its own program's business),
and nothing uses the network.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from kiosk.cli.doctor_alert import check_staff_alert
from kiosk.cli.doctor_checks import check_audio, check_content, check_models, check_prompt_audio, check_voices
from kiosk.cli.doctor_storage import check_database, check_disk
from kiosk.cli.findings import FAIL, OK, WARN, Check, Finding
from kiosk.errors import KioskError
from kiosk.settings import Settings, load_settings

__all__ = ["FAIL", "OK", "WARN", "Finding", "check_audio", "check_content", "check_database", "check_disk",
           "check_models", "check_prompt_audio", "check_staff_alert", "check_voices", "run_checks", "report"]


CHECKS: dict[str, Check] = {"audio": check_audio, "models": check_models, "voices": check_voices,
                            "content": check_content, "staff": check_staff_alert, "disk": check_disk,
                            "database": check_database}


def run_checks(settings: Settings, names: Sequence[str] | None = None) -> list[Finding]:
    """Every check (or those named); a check that breaks is itself a failure, never a crash."""
    findings: list[Finding] = []
    for name in names or CHECKS:
        try:
            findings += CHECKS[name](settings)
        except Exception as exc:
            findings.append(Finding(name, FAIL, f"the check could not run ({type(exc).__name__}: {exc})",
                                    "run `kiosk -v doctor` and report the log"))
    return findings


def report(findings: list[Finding], as_json: bool = False) -> str:
    if as_json:
        return "\n".join(json.dumps(asdict(f), ensure_ascii=False) for f in findings)
    lines = []
    for f in findings:
        lines.append(f"{f.status.upper() if f.status != OK else f.status:<5} {f.check:<9} {f.message}")
        if f.fix and f.status != OK:
            lines.append(f"{'':<15} fix: {f.fix}")
    fails = sum(f.status == FAIL for f in findings)
    warns = sum(f.status == WARN for f in findings)
    lines.append("all is well" if not fails and not warns else f"{fails} problem(s) to fix, {warns} warning(s)")
    return "\n".join(lines)


def add_command(subparsers: Any) -> None:
    """Register `kiosk doctor` on the main parser's subcommands."""
    doctor = subparsers.add_parser("doctor",
                                   help="check devices, models, voices, content, staff alert, disk and database")
    _arguments(doctor)


def _arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="one JSON object per finding")
    parser.add_argument("--only", choices=list(CHECKS), action="append", help="run only this check (repeatable)")
    parser.set_defaults(func=cmd_doctor)


def cmd_doctor(args: argparse.Namespace, settings: Settings) -> int:
    findings = run_checks(settings, args.only)
    print(report(findings, args.json), flush=True)
    return 1 if any(f.status == FAIL for f in findings) else 0


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m kiosk.cli.doctor`: the same command without the rest of the command line."""
    parser = argparse.ArgumentParser(prog="kiosk doctor", description="check what the kiosk needs")
    parser.add_argument("--config", type=Path, help="settings file (TOML); default $KIOSK_CONFIG")
    _arguments(parser)
    args = parser.parse_args(argv)
    try:
        return cmd_doctor(args, load_settings(args.config))
    except KioskError as exc:
        print(f"kiosk: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
