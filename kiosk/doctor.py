"""`kiosk doctor`: checks what an unattended kiosk needs and says what to fix.

Audio devices, the speech model, voices (pre-rendered prompts and a live voice), content, disk space and the
session database. Each check returns findings: `ok`, `warn` (works, but something optional is missing) or
`fail` (the kiosk cannot work properly until it is fixed). The command exits 0 only when nothing failed.
Nothing here writes anything, and nothing uses the network.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import shlex
import shutil
import sqlite3
import stat
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from kiosk.errors import KioskError
from kiosk.settings import Settings, load_settings

OK, WARN, FAIL = "ok", "warn", "fail"
FAIL_BELOW_MB = 50
"""Less free space than this where the database or audio live is a failure (records would be lost)."""
WARN_BELOW_MB = 500


@dataclass(frozen=True)
class Finding:
    """One result of a check: what was found and, unless all is well, what to do."""

    check: str
    status: str
    message: str
    fix: str = ""


Check = Callable[[Settings], list[Finding]]


# --- audio devices ---

def check_audio(settings: Settings, backend: Any = None) -> list[Finding]:
    """The microphone and speaker the kiosk would use, and every device there is to choose from."""
    from kiosk.audio.microphone import choose_format, find_device, list_devices, load_backend  # noqa: PLC0415

    hint = ("list them with `arecord -l` / `aplay -l`; choose with [listen] input_device / output_device by a part "
            "of the name, or input_device by the device number listed here (not the card number of `arecord -l`)")
    try:
        backend = backend or load_backend()
        inputs = list_devices(backend)
        if not inputs:
            return [Finding("audio", FAIL, "no microphone found", f"connect a USB microphone; {hint}")]
        mic = find_device(settings.listen.input_device or None, backend)
        rate, channels = choose_format(mic, backend)
    except KioskError as exc:
        return [Finding("audio", FAIL, str(exc), hint)]
    names = "; ".join(f"{d.index}: {d.name}" + (" (default)" if d.is_default else "") for d in inputs)
    found = [Finding("audio", OK, f"microphone {mic.index}: '{mic.name}' at {rate} Hz, {channels} channel(s); "
                                  f"inputs: {names}")]
    return found + [_check_speaker(settings, backend, hint)]


def _check_speaker(settings: Settings, backend: Any, hint: str) -> Finding:
    try:
        devices = list(backend.query_devices())
    except Exception as exc:  # noqa: BLE001 - PortAudioError
        return Finding("audio", FAIL, f"cannot list audio devices ({exc})", hint)
    outputs = [(i, str(d["name"])) for i, d in enumerate(devices) if int(d.get("max_output_channels", 0)) > 0]
    if not outputs:
        return Finding("audio", FAIL, "no speaker found; prompts will only be shown, never heard",
                       f"connect a speaker; {hint}")
    wanted = settings.listen.output_device
    names = "; ".join(f"{i}: {n}" for i, n in outputs)
    if wanted and not any(wanted.lower() in n.lower() or wanted == str(i) for i, n in outputs):
        return Finding("audio", FAIL, f"no speaker matches {wanted!r}; the output devices are: {names}", hint)
    return Finding("audio", OK, f"speaker {wanted or 'default'}; outputs: {names}")


# --- speech model ---

def check_models(settings: Settings, manifest: dict[str, Any] | None = None) -> list[Finding]:
    """The configured engine's model: present, every file's size and sha256 as the manifest says."""
    from kiosk.models import load_manifest, verify_model  # noqa: PLC0415

    engine = settings.models.engine
    folder = settings.models.vosk_model if engine == "vosk" else settings.models.whisper_model
    specs = manifest if manifest is not None else load_manifest()
    candidates = [s for s in specs.values() if s.engine == engine]
    spec = next((s for s in candidates if s.name == folder.name), candidates[0] if len(candidates) == 1 else None)
    if spec is None:
        return [Finding("models", WARN, f"{engine} model in {folder} is not in the manifest, so it cannot be "
                                        "verified", "use a model the kiosk lists: kiosk models verify --help")]
    fix = f"kiosk models install {spec.name}" + (" --from-zip FILE" if spec.url is None else "")
    if not folder.is_dir():
        return [Finding("models", FAIL, f"{spec.name}: the folder {folder} does not exist", fix)]
    problems = verify_model(folder, spec)
    if problems:
        listed = "; ".join(str(p) for p in problems[:4]) + (f"; and {len(problems) - 4} more" if len(problems) > 4
                                                            else "")
        return [Finding("models", FAIL, f"{spec.name} in {folder}: {listed}", fix)]
    found = [Finding("models", OK, f"{spec.name} in {folder}: all {len(spec.files)} files verified")]
    if engine == "vosk":
        found += _check_language(settings, folder, fix)
    return found


def _check_language(settings: Settings, folder: Path, fix: str) -> list[Finding]:
    from kiosk.asr.vosk_engine import check_language  # noqa: PLC0415
    from kiosk.grammar import AnswerPhrases  # noqa: PLC0415

    try:
        check_language(folder, AnswerPhrases.load(_content_paths(settings)[1]).language, fix)
    except KioskError as exc:
        return [Finding("models", FAIL, str(exc), fix)]
    return []


# --- voices ---

def check_voices(settings: Settings, prompt_dir: Path | None = None) -> list[Finding]:
    """Pre-rendered prompts up to date with the texts; Open JTalk and a live voice available."""
    found = [check_prompt_audio(settings, prompt_dir)]
    if importlib.util.find_spec("pyopenjtalk") is None:
        found.append(Finding("voices", WARN, "Open JTalk (pyopenjtalk) is not installed: prompts cannot be "
                                             "re-rendered and live speech of kanji is not possible",
                             "scripts/setup-env.sh voices (in the kiosk's folder)"))
    else:
        found.append(Finding("voices", OK, "Open JTalk (pyopenjtalk) is installed"))
    espeak = shutil.which("espeak-ng") or shutil.which("espeak")
    if importlib.util.find_spec("pyttsx3") is None or espeak is None:
        found.append(Finding("voices", WARN, "no live voice (pyttsx3 with espeak-ng): a text without "
                                             "pre-rendered audio is only shown", "sudo apt-get install espeak-ng"))
    else:
        found.append(Finding("voices", OK, f"live voice: pyttsx3 with {espeak}"))
    return found


def check_prompt_audio(settings: Settings, prompt_dir: Path | None = None,
                       texts: Mapping[str, str] | None = None) -> Finding:
    """Every prompt text has audio rendered from exactly that text; names the content item of each one not.

    `texts`: the prompt texts when the caller has loaded the content already (as `kiosk check` has).
    """
    from kiosk.content import Content  # noqa: PLC0415
    from kiosk.datafiles import prompt_audio_dir  # noqa: PLC0415
    from kiosk.prompt_audio import check_prompts  # noqa: PLC0415

    folder = prompt_dir or prompt_audio_dir(settings.content.folder)
    try:
        texts = texts if texts is not None else Content.load(*_content_paths(settings)).prompt_texts()
        status = check_prompts(texts, folder)
    except KioskError as exc:
        return Finding("voices", FAIL, f"prompt audio in {folder} cannot be checked: {exc}",
                       "fix the content (see the content check), then run `kiosk prompts build`")
    if status.ok:
        return Finding("voices", OK, f"all {len(texts)} prompts pre-rendered in {folder}")
    parts = [f"{len(ids)} {label}: " + "; ".join(f"{pid} ({prompt_source(pid)})" for pid in ids[:5])
             + ("; …" if len(ids) > 5 else "")
             for label, ids in (("missing", status.missing), ("stale", status.stale)) if ids]
    if status.orphaned:
        parts.append(f"{len(status.orphaned)} left over: {', '.join(status.orphaned[:5])}")
    emergency = [p for p in (*status.missing, *status.stale) if "emergency" in p]
    urgent = f"; the emergency prompt lacks audio for {', '.join(emergency)}" if emergency else ""
    return Finding("voices", FAIL, f"prompt audio in {folder} is out of date: {'. '.join(parts)}{urgent}",
                   "kiosk prompts build")


_PROMPT_SOURCES = {
    "speech": ("speech.yaml", "texts", "{rest}"),
    "question": ("questions.yaml", "{rest}", "text"),
    "hint": ("speech.yaml", "hint_two / hint_many", "for question {rest}"),
    "level": ("outcomes.yaml", "levels.{rest}", "speech"),
    "see_doctor": ("outcomes.yaml", "levels.{level}", "see_doctor_if[{index}]"),
    "department": ("outcomes.yaml", "departments.{rest}", "name"),
    "reason": ("rules.yaml", "{rest}", "reason"),
    "advice": ("advice.yaml", "{rest}", "text"),
}


def prompt_source(prompt_id: str) -> str:
    """Where a prompt's text comes from, as 'file: item ..., field ...' (see Content.prompt_texts)."""
    kind, _, rest = prompt_id.partition(".")
    if kind not in _PROMPT_SOURCES:
        return "unknown source"
    level, _, index = rest.partition(".")
    file, item, field = (part.format(rest=rest, level=level, index=index) for part in _PROMPT_SOURCES[kind])
    return f"{file}: item '{item}', field '{field}'"


# --- content ---

def check_content(settings: Settings) -> list[Finding]:
    """All content files load and pass their cross-checks and safety invariants (as `kiosk check`)."""
    from kiosk.content import Content  # noqa: PLC0415
    from kiosk.normalize import Normalizer  # noqa: PLC0415

    try:
        content = Content.load(*_content_paths(settings))
        Normalizer.load()
    except KioskError as exc:
        return [Finding("content", FAIL, str(exc), "correct the file, item and field named, then run `kiosk check`")]
    return [Finding("content", OK, f"{len(content.questionnaire.questions)} questions, "
                                   f"{len(content.rules.rules)} rules, {len(content.outcomes.advice)} advice items")]


def _content_paths(settings: Settings) -> tuple[Path | None, Path | None]:
    content = getattr(settings, "content", None)
    return getattr(content, "folder", None), getattr(content, "grammar", None)


# --- disk space ---

def check_disk(settings: Settings, fail_below_mb: float = FAIL_BELOW_MB,
               warn_below_mb: float = WARN_BELOW_MB) -> list[Finding]:
    """Free space where the database (and, when recording is on, the answer audio) is written."""
    places = [("database", settings.storage.database.parent)]
    if settings.storage.record_audio:
        places.append(("answer audio", settings.storage.audio_dir))
    found = []
    for what, where in places:
        existing = _existing(where)
        free_mb = shutil.disk_usage(existing).free / 1e6
        text = f"{free_mb:,.0f} MB free on {existing} ({what})"
        fix = f"free space on the disk that holds {existing}, or move the {what} elsewhere in the settings"
        if free_mb < fail_below_mb:
            found.append(Finding("disk", FAIL, text + ": new session records would be lost", fix))
        elif free_mb < warn_below_mb or (what == "answer audio" and free_mb < settings.storage.audio_max_mb):
            found.append(Finding("disk", WARN, text + ": getting low", fix))
        else:
            found.append(Finding("disk", OK, text))
    return found


def _existing(path: Path) -> Path:
    path = path.absolute()
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


# --- database ---

def check_database(settings: Settings) -> list[Finding]:
    """The session database: private, intact and writable now (checked without writing a record).

    Writable means what SQLite needs to save a record: the file and any -wal, -shm or -journal file beside it
    readable and writable by this user, and the folder writable too (SQLite creates and deletes those files
    there). That is judged by the operating system's own permission check (`os.access`, so for root, which
    permission bits do not stop, as for anyone else), plus a read-only mount, before SQLite opens anything.
    """
    db = settings.storage.database
    if not db.exists():
        parent = _existing(db.parent)
        if parent.is_dir() and _can(parent, os.W_OK | os.X_OK):
            return [Finding("database", OK, f"{db} will be created at the first session")]
        return [Finding("database", FAIL, f"{db} cannot be created: {parent} is not writable by this user",
                        f"create {db.parent} for the kiosk's user, or set KIOSK_DB / [storage] database")]
    found = []
    mode = stat.S_IMODE(db.stat().st_mode)
    if mode & 0o077:
        found.append(Finding("database", WARN, f"{db} is readable by other users (mode {mode:o})", f"chmod 600 {db}"))
    blocked = _not_writable(db)
    if blocked is not None:
        return found + [blocked]
    try:
        conn = sqlite3.connect(db, timeout=1.0)
        try:
            verdict = conn.execute("PRAGMA quick_check").fetchone()[0]
            if verdict != "ok":
                return found + [Finding("database", FAIL, f"{db} is damaged ({verdict})", _restore(db))]
            conn.execute("BEGIN IMMEDIATE")  # takes the write lock, as saving a record would; nothing written
            conn.rollback()
            count = conn.execute("SELECT count(*) FROM sqlite_master WHERE name = 'sessions'").fetchone()[0]
            rows = conn.execute("SELECT count(*) FROM sessions").fetchone()[0] if count else 0
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        text = str(exc)
        if "locked" in text or "busy" in text:
            fix = "another program holds the database (a backup or sqlite3 shell?); close it"
        elif "readonly" in text or "read-only" in text or "unable to open" in text:
            fix = (f"make {db}, the files beside it named {db.name}-* and the folder {db.parent} writable by the "
                   "kiosk's user (a read-only mount?); the records themselves are not damaged")
        else:
            fix = _restore(db)
        return found + [Finding("database", FAIL, f"{db} cannot be written ({text})", fix)]
    return found + [Finding("database", OK, f"{db}: {rows} session record(s), writable")]


_SQLITE_FILES = ("-wal", "-shm", "-journal")
"""Files SQLite keeps beside the database while writing: it must be able to write (or create) each one."""


def _can(path: Path, mode: int) -> bool:
    """What the operating system says this user (the effective one, as for opening a file) may do."""
    return os.access(path, mode, effective_ids=os.access in os.supports_effective_ids)


def _not_writable(db: Path) -> Finding | None:
    """None when this user can save a record in `db`; else why not and how to fix it, the data being fine."""
    folder = db.parent
    try:
        read_only_mount = bool(os.statvfs(folder).f_flag & os.ST_RDONLY)
    except (OSError, AttributeError):  # AttributeError: no statvfs (not a POSIX system)
        read_only_mount = False
    if read_only_mount:
        return Finding("database", FAIL, f"{db} cannot be written: the disk holding {folder} is mounted read-only; "
                                         "the records are kept but no new session can be saved",
                       f"remount it read-write (check /etc/fstab, and the lock switch of an SD card), or set "
                       f"KIOSK_DB / [storage] database to a writable place; do not delete {db}")
    problems = []
    if not _can(folder, os.W_OK | os.X_OK):
        problems.append((folder, "the folder, where SQLite must create its -wal and -journal files"))
    for path in (db, *(db.with_name(db.name + suffix) for suffix in _SQLITE_FILES)):
        if (path == db or path.exists()) and not _can(path, os.R_OK | os.W_OK):
            problems.append((path, "the database" if path == db else "a file SQLite keeps beside the database"))
    if not problems:
        return None
    user = _user_name(os.geteuid()) if hasattr(os, "geteuid") else "this user"
    described = "; ".join(f"{path} is not writable ({what}; {_owner_and_mode(path)})" for path, what in problems)
    paths = " ".join(shlex.quote(str(path)) for path, _ in problems)
    return Finding("database", FAIL, f"{db} cannot be written by {user} (the user running this check): {described}; "
                                     "the records themselves are not damaged",
                   f"make them writable by the kiosk's user, e.g. `sudo chown {user} {paths}` and "
                   f"`sudo chmod u+rwX {paths}` (were they made by running the kiosk with sudo?); do not delete or "
                   "restore the database")


def _user_name(uid: int) -> str:
    try:
        import pwd  # noqa: PLC0415 - POSIX only

        return pwd.getpwuid(uid).pw_name
    except (ImportError, KeyError):
        return str(uid)


def _owner_and_mode(path: Path) -> str:
    try:
        info = path.stat()
    except OSError as exc:
        return exc.strerror or str(exc)
    return f"owner {_user_name(info.st_uid)}, mode {stat.S_IMODE(info.st_mode):o}"


def _restore(db: Path) -> str:
    return f"move {db} aside (the kiosk then starts a new one) and restore the latest backup if needed"


# --- running the checks ---

CHECKS: dict[str, Check] = {"audio": check_audio, "models": check_models, "voices": check_voices,
                            "content": check_content, "disk": check_disk, "database": check_database}


def run_checks(settings: Settings, names: Sequence[str] | None = None) -> list[Finding]:
    """Every check (or those named); a check that breaks is itself a failure, never a crash."""
    findings: list[Finding] = []
    for name in names or CHECKS:
        try:
            findings += CHECKS[name](settings)
        except Exception as exc:  # noqa: BLE001 - the doctor must report, not crash
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
    doctor = subparsers.add_parser("doctor", help="check devices, models, voices, content, disk and database")
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
    """`python -m kiosk.doctor`: the same command, usable before it is registered on `kiosk`."""
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
