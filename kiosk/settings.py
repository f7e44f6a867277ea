"""Settings: frozen dataclasses read from a TOML file and environment variables.

Where settings come from, later winning:
  1. the defaults below;
  2. a TOML file: `--config FILE`, else $KIOSK_CONFIG, else /etc/kiosk/kiosk.toml or
     ~/.config/kiosk/kiosk.toml when present; tables [content], [site], [dialog], [listen], [models],
     [storage];
  3. environment variables KIOSK_MODE, KIOSK_ENGINE, KIOSK_VOSK_MODEL, KIOSK_WHISPER_MODEL, KIOSK_DB,
     KIOSK_CONTENT, KIOSK_GRAMMAR.
"""

from __future__ import annotations

import math
import os
import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from kiosk.errors import SettingsError


def _data_home() -> Path:
    return Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share") / "kiosk"


@dataclass(frozen=True)
class SiteSettings:
    mode: str = "home"
    """'home': tell the person to call 119; 'clinic': also tell them staff are coming and alert staff."""
    staff_alert_command: tuple[str, ...] = ()
    """Program and fixed arguments run (without a shell) to alert staff in clinic mode. The program must exist
    and be executable: `kiosk check`, `kiosk doctor` and every start check it."""
    fallback: str = "keyboard"
    """When voice answers keep failing: 'keyboard' (keys/touch), 'staff' (call staff), or 'none'."""
    staff_alert_check_args: tuple[str, ...] = ()
    """Arguments after which the alert command checks itself without paging anyone (e.g. ["--dry-run"]):
    `kiosk doctor` then runs staff_alert_command plus these and expects status 0. Empty: not run by doctor."""


@dataclass(frozen=True)
class DialogSettings:
    max_reprompts: int = 2
    """Re-asks after silence or an answer not understood, before the fallback."""
    end_after_silent_questions: int = 2
    """Questions in a row passed over with nothing said at all before the check ends (the person has gone, or
    the next person must not inherit their answers); 0: never. Urgent answers so far are still spoken."""
    confirm_help_below: float = 0.85
    """At the invitation, before any check, a call for help (助けて, 救急車) heard with less confidence than this
    is confirmed first (「助けを呼びますか」): a television or a conversation in the room must not set off the 119
    prompt and a staff alert. Inside a check a call for help is never confirmed. Above 1: always confirm."""
    confirm_no_below: float = 0.85
    """On stroke/red-flag questions, a 'no' with lower confidence is asked again."""
    recheck_no_min: float = 0.6
    """On that second asking, a 'no' below this confidence or below confirm_no_below is recorded as 'unknown'
    (never as 'no'): a 'no' that stays unsure is not taken, and a lower value here cannot loosen that."""
    spoken_advice: int = 3
    """How many advice items are spoken (the screen and event stream show all)."""


@dataclass(frozen=True)
class ListenSettings:
    input_device: str = ""
    """Microphone by name substring, or by device number when all digits ("2" is device 2 as `kiosk doctor`
    lists the inputs, never a name containing 2 such as "hw:2,0"); empty: the system default."""
    output_device: str = ""
    """Speaker by name substring, or by device number when all digits (as input_device); empty: the default."""
    trailing_silence: float = 1.2
    """Seconds of silence after speech that end an answer (generous for elderly speakers)."""
    no_input: float = 8.0
    """Seconds without speech before the question is asked again; 0 turns the timeout off."""
    max_utterance: float = 15.0
    """Longest answer in seconds; 0: no limit of its own (the endpointer still stops at 600 s)."""
    vad_mode: int = 2
    """webrtcvad aggressiveness 0-3 (checked when the settings load)."""
    noise_margin_db: float = 4.5
    """How far above the room's noise floor a sound must be to count as speech; 0: off (quiet rooms only)."""
    echo_cancellation: bool = False
    """True only when the audio system cancels the kiosk's own voice; otherwise input is muted while speaking."""
    emergency_repeats: int = 0
    """How often the emergency prompt repeats while unacknowledged; 0: until acknowledged."""


@dataclass(frozen=True)
class ModelSettings:
    engine: str = "vosk"
    """'vosk' (default, runs on a Raspberry Pi) or 'whisper' (faster CPU, optional extra)."""
    vosk_model: Path = field(default_factory=lambda: _data_home() / "models" / "vosk-model-small-ja-0.22")
    whisper_model: Path = field(default_factory=lambda: _data_home() / "models" / "whisper-base")
    threads: int = 2
    """CPU threads for the recognizer, 1-64."""


@dataclass(frozen=True)
class StorageSettings:
    database: Path = field(default_factory=lambda: _data_home() / "sessions.sqlite3")
    """Session records (answers and outcomes only, no audio, no names)."""
    record_audio: bool = False
    """Keep answer audio for quality checks (off by default)."""
    audio_dir: Path = field(default_factory=lambda: _data_home() / "audio")
    audio_max_mb: int = 200
    audio_max_days: int = 14
    """Whole days answer audio is kept, at least 1."""
    spare_dir: Path = field(default_factory=lambda: Path("/var/tmp") / f"kiosk-{os.geteuid()}")
    """A second place for the pending-records journal when the database's folder cannot be written (a full
    disk, a read-only mount), best on another disk; merged into the database at the next start. The service
    sets /run/kiosk (KIOSK_SPARE_DIR): in memory, it outlives a restart of the kiosk but not a reboot."""


@dataclass(frozen=True)
class ContentSettings:
    folder: Path | None = None
    """Questionnaire content folder (questions.yaml, rules.yaml, …); None: the one shipped with the kiosk."""
    grammar: Path | None = None
    """Answer phrases file (answers.yaml); None: grammars/ja/answers.yaml. Its language picks the model check."""


@dataclass(frozen=True)
class Settings:
    content: ContentSettings = field(default_factory=ContentSettings)
    site: SiteSettings = field(default_factory=SiteSettings)
    dialog: DialogSettings = field(default_factory=DialogSettings)
    listen: ListenSettings = field(default_factory=ListenSettings)
    models: ModelSettings = field(default_factory=ModelSettings)
    storage: StorageSettings = field(default_factory=StorageSettings)


_ENV = {
    "KIOSK_MODE": ("site", "mode"),
    "KIOSK_ENGINE": ("models", "engine"),
    "KIOSK_VOSK_MODEL": ("models", "vosk_model"),
    "KIOSK_WHISPER_MODEL": ("models", "whisper_model"),
    "KIOSK_DB": ("storage", "database"),
    "KIOSK_CONTENT": ("content", "folder"),
    "KIOSK_GRAMMAR": ("content", "grammar"),
    "KIOSK_SPARE_DIR": ("storage", "spare_dir"),
}
_PATHS = {"folder", "grammar"}
_CHOICES = {("site", "mode"): ("home", "clinic"), ("site", "fallback"): ("keyboard", "staff", "none"),
            ("models", "engine"): ("vosk", "whisper")}
_RANGES: dict[tuple[str, str], tuple[float, float | None]] = {
    ("dialog", "max_reprompts"): (0, 10),
    ("dialog", "end_after_silent_questions"): (0, 100),
    ("dialog", "confirm_help_below"): (0, 2),  # above 1: always confirm
    ("dialog", "confirm_no_below"): (0, 2),  # above 1: every 'no' on a safety question is asked again
    ("dialog", "recheck_no_min"): (0, 2),
    ("dialog", "spoken_advice"): (0, 50),
    ("listen", "trailing_silence"): (0.3, 10),  # 0 ends every answer at its first frame; the endpointer refuses it
    ("listen", "no_input"): (1, 3600),
    ("listen", "max_utterance"): (1, 600),  # the endpointer's memory cap (audio.endpoint.MEMORY_CAP_SECONDS)
    ("listen", "vad_mode"): (0, 3),  # webrtcvad accepts 0-3 only; checked here, not as a traceback later
    ("listen", "noise_margin_db"): (0, 30),
    ("listen", "emergency_repeats"): (0, 1000),
    ("models", "threads"): (1, 64),  # 100000 made the recognizer crash, 5000 hang
    ("storage", "audio_max_mb"): (1, 1_000_000),
    ("storage", "audio_max_days"): (1, None),  # 0 would delete every recording as soon as it is made
}
"""Inclusive bounds (None: no upper bound) of every number setting, checked once when the settings load, so
`kiosk check`, `kiosk doctor` and every start refuse the same values with the same message."""
_OFF_BY_ZERO = {("listen", "no_input"), ("listen", "max_utterance")}
"""Number settings where 0 turns the limit off (WCAG 2.2.1), besides their range."""


def load_settings(config: Path | None = None, environ: dict[str, str] | None = None) -> Settings:
    """Defaults, then the TOML file, then the environment."""
    env = dict(os.environ) if environ is None else environ
    settings = Settings()
    path = config or _default_config(env)
    if path is not None:
        settings = _apply(settings, _read_toml(path), str(path))
    overrides: dict[str, dict[str, Any]] = {}
    for var, (section, name) in _ENV.items():
        if env.get(var):
            overrides.setdefault(section, {})[name] = env[var]
    settings = _apply(settings, overrides, "environment")
    _check_staff_alert(settings.site, str(path) if path is not None else "environment")
    return settings


def _check_staff_alert(site: SiteSettings, origin: str) -> None:
    # The kiosk would tell a person having a stroke that staff are on their way while nobody is told.
    uses = [why for why, used in (("mode = \"clinic\"", site.mode == "clinic"),
                                  ("fallback = \"staff\"", site.fallback == "staff")) if used]
    if uses and not site.staff_alert_command:
        raise SettingsError(
            f"{origin}: [site] {' and '.join(uses)} makes the kiosk say that staff are coming, but [site] "
            "staff_alert_command is empty, so nobody would be alerted; set it to the program that pages staff, "
            "e.g. staff_alert_command = [\"/usr/local/bin/kiosk-alert\", \"kiosk-1\"] (docs/operations.md, "
            "\"Alerting staff\"), or use mode = \"home\" and fallback = \"none\"")


def _default_config(env: dict[str, str]) -> Path | None:
    if "KIOSK_CONFIG" in env:
        # Set but empty means "no settings file": a developer's or a test's run on a deployed kiosk must not
        # pick up the site's /etc/kiosk/kiosk.toml (its content, its database, its staff pager).
        return Path(env["KIOSK_CONFIG"]) if env["KIOSK_CONFIG"] else None
    for candidate in (Path("/etc/kiosk/kiosk.toml"), Path.home() / ".config" / "kiosk" / "kiosk.toml"):
        if candidate.is_file():
            return candidate
    return None


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        # A byte-order mark (Windows Notepad's "UTF-8") is not TOML, but the file is otherwise fine.
        return tomllib.loads(path.read_bytes().removeprefix(b"\xef\xbb\xbf").decode("utf-8"))
    except FileNotFoundError:
        raise SettingsError(f"settings file {path} does not exist; create it or drop --config") from None
    except UnicodeDecodeError as exc:
        # TOML is UTF-8 only; a file saved as Shift_JIS (Japanese comments, Windows editors) lands here.
        raise SettingsError(f"settings file {path} is not UTF-8 (byte {exc.start} cannot be decoded); save it as "
                            f"UTF-8, e.g. iconv -f SHIFT_JIS -t UTF-8 {path} > kiosk.toml.utf8") from None
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise SettingsError(f"settings file {path} cannot be read: {exc}") from None


def _apply(settings: Settings, data: dict[str, Any], origin: str) -> Settings:
    sections = {f.name: getattr(settings, f.name) for f in fields(settings)}
    for section, values in data.items():
        if section not in sections or not isinstance(values, dict):
            raise SettingsError(f"{origin}: unknown settings table [{section}]; known: {', '.join(sections)}")
        current = sections[section]
        types = {f.name: f for f in fields(current)}
        changes: dict[str, Any] = {}
        for name, value in values.items():
            if name not in types:
                raise SettingsError(f"{origin}: [{section}] has no setting '{name}'; known: {', '.join(types)}")
            changes[name] = _convert(origin, section, name, getattr(current, name), value)
        sections[section] = replace(current, **changes)
    return Settings(**sections)


def _convert(origin: str, section: str, name: str, default: Any, value: Any) -> Any:
    where = f"{origin}: [{section}] {name}"
    # Values from the environment are always strings; from a TOML file they must have the setting's own type,
    # so that a typo such as "ture" or 0.5 days is an error rather than quietly False or 0.
    from_text = isinstance(value, str) and origin == "environment"
    try:
        if isinstance(default, bool):
            if isinstance(value, bool):
                return value
            words = {"true": True, "1": True, "yes": True, "on": True,
                     "false": False, "0": False, "no": False, "off": False}
            if from_text and value.strip().lower() in words:
                return words[value.strip().lower()]
            raise SettingsError(f"{where} must be true or false (a TOML boolean, without quotes); got {value!r}")
        if isinstance(default, Path) or (default is None and name in _PATHS):
            try:
                return Path(str(value)).expanduser()
            except RuntimeError:  # ~someone who is not a user here
                raise SettingsError(f"{where} is {value!r}, but that user's home folder is unknown here; "
                                    "write the full path") from None
        if isinstance(default, tuple):
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise SettingsError(f"{where} must be a list of strings, e.g. [\"/usr/bin/notify\", \"staff\"]")
            return tuple(value)
        if isinstance(default, (int, float)):
            if isinstance(value, bool) or not (from_text or isinstance(value, (int, float))):
                raise ValueError(value)
            if isinstance(default, int):
                if isinstance(value, float) or (from_text and not value.strip().lstrip("+-").isdigit()):
                    raise SettingsError(f"{where} must be a whole number (e.g. {default}); got {value!r}")
                number: float = int(value)
            else:
                number = float(value)
                if not math.isfinite(number):
                    raise SettingsError(f"{where} must be a finite number; got {value!r}")
            if number < 0:
                raise SettingsError(f"{where} must not be negative")
            low, high = _RANGES.get((section, name), (0, None))
            off = (section, name) in _OFF_BY_ZERO
            if (number < low or (high is not None and number > high)) and not (off and number == 0):
                span = f"from {low:g} to {high:g}" if high is not None else f"at least {low:g}"
                raise SettingsError(f"{where} is {value!r}; it must be {'0 (off) or ' if off else ''}{span}")
            return number
        text = str(value)
        allowed = _CHOICES.get((section, name))
        if allowed and text not in allowed:
            raise SettingsError(f"{where} is '{text}'; choose one of {', '.join(allowed)}")
        return text
    except (TypeError, ValueError):
        raise SettingsError(f"{where}: '{value}' is not a valid {type(default).__name__}") from None
