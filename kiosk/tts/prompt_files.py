"""Pre-rendered prompt audio: `<dir>/<prompt_id>.wav` plus `manifest.json` recording which text each was made from."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from kiosk.atomicfile import replacing
from kiosk.audio.chunk import CHANNELS, RATE, WIDTH
from kiosk.audio.wav import write_wav
from kiosk.errors import AudioError

MANIFEST = "manifest.json"
_SAFE_ID = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*")


class Renderer(Protocol):
    """Anything that speaks Japanese text as canonical PCM (16 kHz mono 16-bit little-endian bytes)."""

    def render(self, text: str) -> bytes:
        """Speak `text`."""


@dataclass(frozen=True)
class PromptStatus:
    """How a prompt folder compares with the prompt texts."""

    missing: tuple[str, ...]
    stale: tuple[str, ...]
    orphaned: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not (self.missing or self.stale or self.orphaned)

    def describe(self) -> str:
        """A one-paragraph explanation for a test failure or a log line."""
        parts = [
            f"{label}: {', '.join(ids)}"
            for label, ids in (("missing", self.missing), ("stale", self.stale), ("orphaned", self.orphaned))
            if ids
        ]
        if not parts:
            return "prompt audio is up to date"
        return "prompt audio is out of date (" + "; ".join(parts) + "); re-render it with render_prompts()"


def text_sha256(text: str) -> str:
    """The hash that ties a WAV file to the exact text it was rendered from."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def read_manifest(out_dir: Path) -> dict[str, dict[str, object]]:
    """The folder's manifest, or an empty one when there is none yet."""
    path = out_dir / MANIFEST
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise AudioError(f"{path} cannot be read ({exc}); delete it and re-render the prompts") from exc
    if not isinstance(data, dict) or not all(isinstance(v, dict) for v in data.values()):
        raise AudioError(f"{path} is not a mapping of prompt id -> entry; delete it and re-render the prompts")
    return data


def check_prompts(texts: Mapping[str, str], out_dir: Path) -> PromptStatus:
    """Prompts whose audio is missing, made from other text (stale), or left over without a text (orphaned)."""
    manifest = read_manifest(out_dir)
    missing, stale = [], []
    for prompt_id, text in texts.items():
        entry = manifest.get(prompt_id)
        if entry is None or not (out_dir / f"{prompt_id}.wav").is_file():
            missing.append(prompt_id)
        elif entry.get("sha256") != text_sha256(text):
            stale.append(prompt_id)
    on_disk = {p.stem for p in out_dir.glob("*.wav")} if out_dir.is_dir() else set()
    orphaned = sorted((on_disk | set(manifest)) - set(texts))
    return PromptStatus(tuple(missing), tuple(stale), tuple(orphaned))


def render_prompts(
    texts: Mapping[str, str], out_dir: Path, renderer: Renderer, *, prune: bool = True
) -> list[str]:
    """Render only the missing or stale prompts, update the manifest, and return the ids rendered.

    With `prune`, orphaned WAV files and manifest entries are removed too.
    """
    for prompt_id in texts:
        if not _SAFE_ID.fullmatch(prompt_id):
            raise AudioError(
                f"prompt id {prompt_id!r} cannot be used as a file name: use letters, digits, '_', '-' and '.'"
            )
    out_dir.mkdir(parents=True, exist_ok=True)
    status = check_prompts(texts, out_dir)
    manifest = read_manifest(out_dir)
    rendered = [*status.missing, *status.stale]
    for prompt_id in rendered:
        pcm = renderer.render(texts[prompt_id])
        name = f"{prompt_id}.wav"
        write_wav(out_dir / name, pcm)
        manifest[prompt_id] = {
            "sha256": text_sha256(texts[prompt_id]),
            "file": name,
            "seconds": round(len(pcm) / (RATE * WIDTH * CHANNELS), 3),
        }
    if prune:
        for prompt_id in status.orphaned:
            (out_dir / f"{prompt_id}.wav").unlink(missing_ok=True)
            manifest.pop(prompt_id, None)
    if rendered or (prune and status.orphaned) or not (out_dir / MANIFEST).exists():
        _write_json(out_dir / MANIFEST, {k: manifest[k] for k in sorted(manifest)})
    return rendered


def _write_json(path: Path, data: object) -> None:
    with replacing(path) as f:
        f.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")
