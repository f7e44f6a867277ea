"""Exception tree for the kiosk.

    KioskError                 every error the kiosk reports to a person, with what to do
    ├── ContentError           a data file (YAML) is broken: names file, item and field
    ├── SettingsError          a setting is missing or invalid
    ├── AudioError             an audio file or device cannot be used
    ├── ModelError             a speech model is missing, damaged or of the wrong kind
    └── StorageError           the session database cannot be used
    Stopped (a KeyboardInterrupt)   SIGTERM: the service is stopped; sessions end as on Ctrl-C, records saved
"""

from __future__ import annotations


class KioskError(Exception):
    """Base class: the message says what is wrong and what to do about it."""


class ContentError(KioskError):
    """A content file is invalid; the message names the file, the item and the field."""

    def __init__(self, file: str, item: str, field: str, problem: str) -> None:
        self.file = file
        self.item = item
        self.field = field
        self.problem = problem
        super().__init__(f"{file}: item '{item}', field '{field}': {problem}")


class SettingsError(KioskError):
    """A setting is missing or invalid."""


class AudioError(KioskError):
    """An audio file or device cannot be used."""


class ModelError(KioskError):
    """A speech model is missing, damaged or of the wrong kind."""


class StorageError(KioskError):
    """The session database cannot be used."""


class Stopped(KeyboardInterrupt):
    """SIGTERM (systemctl stop or restart, a shutdown): raised in the main thread so that a session in progress
    saves its record on the way out, as on Ctrl-C."""
