"""Answer audio kept for quality checks, only when a site turns it on: private files, bounded in size and age.

Off by default ([storage] record_audio = false): nothing a person says is written anywhere. When on, each
answer is one WAV file `<time>_<session token>_<question>_<attempt>.wav` in `audio_dir`, which is made
readable by the kiosk's user only (folder 0700, files 0600). After every file the folder is pruned: files
older than `audio_max_days` go first, then the oldest until the folder holds at most `audio_max_mb`. Only files
named like the kiosk's own are counted or pruned; a folder readable by others that holds other files is left
alone (and nothing is recorded) rather than made private.
A bound of 0 keeps nothing. Recording never disturbs a session: any failure is logged and skipped.
"""

from __future__ import annotations

import logging
import os
import re
import secrets
import stat
import time
from collections.abc import Callable
from pathlib import Path

from kiosk.atomicfile import leftovers
from kiosk.audio.wav import write_wav
from kiosk.errors import AudioError
from kiosk.settings import StorageSettings

log = logging.getLogger(__name__)

_UNSAFE = re.compile(r"[^A-Za-z0-9_-]+")
_OWN_NAME = r"\d{8}T\d{6}_(?:[0-9a-f]{8}|nosession)_[A-Za-z0-9_-]*_\d+\.wav"
_OWN = re.compile(_OWN_NAME)
"""The kiosk's own answer files, `<time>_<session token>_<question>_<attempt>.wav`: the only files it prunes,
so that a shared or mistyped audio_dir never loses anyone else's recordings."""
_OWN_TEMP = leftovers(_OWN_NAME)
"""write_wav's temporary file for one of them (atomicfile.replacing names it `.<name>.<random>.tmp`)."""
_DAY = 86_400.0
_STALE_TEMP = 3_600.0
"""A half-written temporary file older than this was left by a crash: removed when pruning."""


class AudioRecorder:
    """Saves answer audio as private WAV files and keeps the folder within its size and age bounds."""

    def __init__(self, folder: Path, max_mb: float, max_days: float,
                 clock: Callable[[], float] = time.time) -> None:
        self.folder = Path(folder)
        self.max_bytes = int(max_mb * 1_000_000)
        self.max_age = max_days * _DAY
        self.clock = clock
        self.session = ""

    @classmethod
    def from_settings(cls, storage: StorageSettings) -> AudioRecorder | None:
        """A recorder when the site turned recording on, else None (the default: no audio is kept)."""
        if not storage.record_audio:
            return None
        return cls(storage.audio_dir, storage.audio_max_mb, storage.audio_max_days)

    def begin_session(self) -> str:
        """A new random token that groups one session's files (it names no one)."""
        self.session = secrets.token_hex(4)
        return self.session

    def save(self, pcm: bytes, question: str, attempt: int = 1) -> Path | None:
        """Keep one answer (canonical 16 kHz mono 16-bit PCM); None when it was not kept."""
        if not pcm:
            return None
        try:
            if not self._private_folder():
                return None
            now = self.clock()
            stamp = time.strftime("%Y%m%dT%H%M%S", time.localtime(now))
            name = f"{stamp}_{self.session or 'nosession'}_{_UNSAFE.sub('-', question)}_{int(attempt)}.wav"
            path = self.folder / name
            write_wav(path, pcm)  # written to a 0600 temporary file, then renamed into place
            os.chmod(path, 0o600)
            os.utime(path, (now, now))
        except (OSError, ValueError, AudioError) as exc:
            log.warning("answer audio not kept (%s); the session goes on", exc)
            return None
        self.prune()
        return path if path.exists() else None

    def files(self) -> list[Path]:
        """The kept answer files, oldest first."""
        try:
            found = [p for p in self.folder.iterdir() if _OWN.fullmatch(p.name) and p.is_file()]
        except OSError:
            return []
        return sorted(found, key=_mtime)

    def foreign(self) -> list[Path]:
        """Entries of the folder that are not the kiosk's answer files (never touched, never pruned)."""
        try:
            return sorted(p for p in self.folder.iterdir()
                          if not (_OWN.fullmatch(p.name) or _OWN_TEMP.fullmatch(p.name)))
        except OSError:
            return []

    def total_bytes(self) -> int:
        return sum(_size(p) for p in self.files())

    def prune(self) -> list[Path]:
        """Remove files past the age bound, then the oldest until within the size bound; the removed files."""
        now = self.clock()
        removed: list[Path] = []
        kept: list[Path] = []
        for path in self.files():
            (removed if self.max_age <= 0 or now - _mtime(path) > self.max_age else kept).append(path)
        total = sum(_size(p) for p in kept)
        while kept and total > self.max_bytes:
            oldest = kept.pop(0)
            total -= _size(oldest)
            removed.append(oldest)
        for path in removed:
            _remove(path)
        for temp in self.folder.glob(".*.tmp") if self.folder.is_dir() else ():
            if _OWN_TEMP.fullmatch(temp.name) and now - _mtime(temp) > _STALE_TEMP:
                _remove(temp)
        return removed

    def _private_folder(self) -> bool:
        """Create the folder 0700, or tighten it; False (and nothing kept) when others could read it."""
        self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        mode = stat.S_IMODE(self.folder.stat().st_mode)
        if mode & 0o077:
            others = self.foreign()
            if others:
                # Not the kiosk's own folder (it holds other files): do not change who may read them.
                log.error("audio folder %s is readable by others and holds files that are not the kiosk's "
                          "(e.g. %s), so it is left as it is and answer audio is not kept: set [storage] "
                          "audio_dir to a folder of its own", self.folder, others[0].name)
                return False
            try:
                os.chmod(self.folder, 0o700)
            except OSError as exc:
                log.error("audio folder %s is readable by others and cannot be made private (%s); answer "
                          "audio is not kept: fix it with chmod 700 %s", self.folder, exc, self.folder)
                return False
        return True


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _remove(path: Path) -> None:
    try:
        path.unlink(missing_ok=True)
    except OSError as exc:
        log.warning("could not remove old answer audio %s: %s", path, exc)
