"""The kiosk's voice: pre-rendered prompts first, live TTS for anything else, text when neither works.

Every fixed text is pre-rendered to `audio_prompts/<prompt id>.wav` (kiosk prompts build). A prompt whose
text changed since rendering (hash mismatch in the manifest) is not played: the person would hear words
different from the screen. The emergency prompts are read into memory at start-up, so playing them costs
no disk access; nothing may delay them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from kiosk.audio.speaker import AudioOutput
from kiosk.audio.wav import read_wav
from kiosk.errors import AudioError
from kiosk.tts.prompt_files import read_manifest, text_sha256

log = logging.getLogger(__name__)

PAUSE = b"\x00\x00" * int(16_000 * 0.4)  # between pieces of one utterance (phrase boundary)
LiveRenderer = Callable[[str], bytes | None]


@dataclass
class PromptLibrary:
    """Pre-rendered prompt audio, checked against the current texts."""

    folder: Path
    texts: Mapping[str, str]
    _cache: dict[str, bytes] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._manifest = read_manifest(self.folder) if self.folder.is_dir() else {}

    def fresh(self, prompt_id: str) -> bool:
        entry = self._manifest.get(prompt_id)
        text = self.texts.get(prompt_id)
        return entry is not None and text is not None and entry.get("sha256") == text_sha256(text)

    def get(self, prompt_id: str) -> bytes | None:
        """The prompt's PCM, or None when it is missing, stale or unreadable."""
        if prompt_id in self._cache:
            return self._cache[prompt_id]
        if not self.fresh(prompt_id):
            return None
        try:
            pcm = read_wav(self.folder / f"{prompt_id}.wav").audio
        except (AudioError, OSError) as exc:
            log.warning("prompt %s unusable: %s", prompt_id, exc)
            return None
        return pcm

    def preload(self, prompt_ids: Iterable[str]) -> list[str]:
        """Keep these prompts in memory; returns the ids that have no usable audio."""
        missing = []
        for pid in prompt_ids:
            pcm = self.get(pid)
            if pcm is None:
                missing.append(pid)
            else:
                self._cache[pid] = pcm
        return missing


class Voice:
    """Says texts made of prompt pieces; reports what it could not say aloud."""

    def __init__(self, library: PromptLibrary, output: AudioOutput | None, live: LiveRenderer | None) -> None:
        self.library = library
        self.output = output
        self.live = live
        self.silent: list[str] = []
        """Texts that were only shown, never spoken (no audio for them, or no working speaker)."""

    def compose(self, prompts: Iterable[str], text: str) -> bytes | None:
        """PCM for the pieces; a missing piece is rendered live, or the whole text if that fails."""
        pieces: list[bytes] = []
        for pid in prompts:
            pcm = self.library.get(pid) or self._live(self.library.texts.get(pid))
            if pcm is None:
                return self._live(text)
            pieces.append(pcm)
        return PAUSE.join(pieces) if pieces else self._live(text)

    def start(self, prompts: Iterable[str], text: str) -> bool:
        """Start saying it (non-blocking); False when it could only be shown. Never raises: the text is
        always on the screen / event stream, so a voice failure must not stop the session."""
        try:
            pcm = self.compose(prompts, text)
        except Exception as exc:
            log.error("no audio for %r (%s); the text stays on the screen / event stream", text, exc)
            pcm = None
        if pcm is None or self.output is None:
            self.silent.append(text)
            return False
        try:
            self.output.start(pcm)
        except Exception as exc:
            log.error("%s; the text stays on the screen / event stream", exc)
            self.output = None  # the device is gone: go on with text only
            self.silent.append(text)
            return False
        return True

    def say(self, prompts: Iterable[str], text: str) -> bool:
        """Say it and wait until it has been said."""
        started = self.start(prompts, text)
        if started:
            self.wait()
        return started

    def wait(self) -> None:
        """Wait until what was started has been said (returns at once when nothing is playing)."""
        if self.output is not None:
            try:
                self.output.wait()
            except Exception as exc:
                log.error("%s; the text stays on the screen / event stream", exc)
                self.output = None

    def _live(self, text: str | None) -> bytes | None:
        if not text or self.live is None:
            return None
        try:
            return self.live(text)
        except Exception as exc:
            log.warning("live speech failed: %s", exc)
            return None
