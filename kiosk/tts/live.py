"""Live speech for texts that are not pre-rendered: Open JTalk when installed, else pyttsx3.

On Linux pyttsx3 speaks through espeak-ng, which reads kanji as "Chinese letter": it only ever gets a
kana reading (from Open JTalk's dictionary). Without a reading, a text with kanji is not spoken at all,
only shown, rather than spoken wrongly.
"""

from __future__ import annotations

import contextlib
import logging
import re
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from kiosk.audio.wav import read_wav
from kiosk.errors import KioskError

log = logging.getLogger(__name__)

_KANJI = re.compile(r"[\u3400-\u9fff]")
# pyttsx3's rate is words per minute for espeak; ~130 gives about 4-5 mora per second for kana text.
ESPEAK_RATE = 130


def choose_live_renderer() -> Callable[[str], bytes | None] | None:
    """The best offline live voice available here, or None."""
    try:
        from kiosk.tts.openjtalk import OpenJTalkRenderer

        renderer = OpenJTalkRenderer()
        renderer.render("はい")  # fails fast when the package or its dictionary is missing
        return renderer.render
    except (KioskError, ImportError, OSError) as exc:
        log.info("Open JTalk not available for live speech (%s); trying pyttsx3", exc)
    try:
        return Pyttsx3Renderer().render
    except KioskError as exc:
        log.warning("no live voice: %s; texts that are not pre-rendered are shown only", exc)
        return None


class LazyLiveRenderer:
    """The live voice, chosen at its first use. With every prompt pre-rendered that is never, and Open JTalk's
    dictionary (about 58 MB resident) is not loaded on a Raspberry Pi for nothing."""

    def __init__(self, choose: Callable[[], Callable[[str], bytes | None] | None] = choose_live_renderer) -> None:
        self._choose = choose
        self._renderer: Callable[[str], bytes | None] | None = None
        self._chosen = False

    def __call__(self, text: str) -> bytes | None:
        if not self._chosen:
            self._chosen = True
            self._renderer = self._choose()
        return self._renderer(text) if self._renderer is not None else None


class Pyttsx3Renderer:
    """pyttsx3 rendered to a WAV file and read back as canonical PCM."""

    def __init__(self, engine: Any = None) -> None:
        if engine is None:
            try:
                import pyttsx3

                engine = pyttsx3.init()
            except Exception as exc:  # pyttsx3 raises bare errors when no driver (espeak, SAPI) is present
                raise KioskError(f"pyttsx3 has no speech engine here ({exc}); on Debian install "
                                 f"espeak-ng: sudo apt-get install espeak-ng") from None
        self.engine = engine
        self.kana_only = sys.platform.startswith("linux")  # espeak-ng
        if self.kana_only:
            self._choose_japanese_voice()
            engine.setProperty("rate", ESPEAK_RATE)

    def _choose_japanese_voice(self) -> None:
        for voice in self.engine.getProperty("voices") or []:
            langs = " ".join(str(x) for x in (getattr(voice, "languages", None) or []))
            if "ja" in langs.lower() or "japanese" in str(getattr(voice, "name", "")).lower():
                self.engine.setProperty("voice", voice.id)
                return

    def speakable(self, text: str) -> str | None:
        """What this engine may be given for `text`: never kanji for a kana-only voice."""
        if not self.kana_only:
            return text
        try:
            from kiosk.tts.reading import kana_reading

            return kana_reading(text)
        except (KioskError, ImportError):
            return None if _KANJI.search(text) else text

    def render(self, text: str) -> bytes | None:
        spoken = self.speakable(text)
        if spoken is None:
            log.warning("not speaking %r: this voice reads only kana and no reading is available", text)
            return None
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "live.wav"
            # pyttsx3's espeak driver prints to stdout, which carries the JSON-lines event stream.
            with contextlib.redirect_stdout(sys.stderr):
                self.engine.save_to_file(spoken, str(path))
                self.engine.runAndWait()
            if not path.is_file() or path.stat().st_size <= 44:
                raise KioskError("pyttsx3 produced no audio; check `espeak-ng -v ja 'テスト'`")
            return read_wav(path).audio
