"""Where the kiosk's data folders are, whether it runs from a clone or from an installed wheel."""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def data_dir(name: str) -> Path:
    """The folder `name` (e.g. 'grammars', 'audio_prompts'), shipped inside the package or at the repo top.

    A wheel carries the top-level folders as `kiosk/_data/<name>`; an editable install or a clone reads
    them where they live in the repository, so a developer's edit is seen without reinstalling.
    """
    packaged = _PACKAGE / "_data" / name
    if packaged.is_dir():
        return packaged
    return _PACKAGE.parent / name


def content_dir() -> Path:
    """The questionnaire content (questions, rules, outcomes, advice, speech texts)."""
    return _PACKAGE / "content"
