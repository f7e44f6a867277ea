"""Where the kiosk's data folders are, whether it runs from a clone or from an installed wheel."""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent
PROMPTS = "audio_prompts"


def data_dir(name: str) -> Path:
    """The folder `name` (e.g. 'grammars', 'audio_prompts'), shipped inside the package or at the repo top.

    A wheel carries the top-level folders as `kiosk/_data/<name>`; an editable install or a clone reads
    them where they live in the repository, so a developer's edit is seen without reinstalling.
    """
    packaged = _PACKAGE / "_data" / name
    if packaged.is_dir():
        return packaged
    return _PACKAGE.parent / name


def prompt_audio_dir(content_folder: Path | None) -> Path:
    """Where the pre-rendered prompts of this content are.

    A site's content folder keeps its own (`<folder>/audio_prompts`, made by `kiosk prompts build`), so that
    rendering the prompts of an edited copy never changes the audio the running kiosk plays, and the audio
    is swapped together with the texts. Without one (or before it has its own): the shipped prompts.
    """
    if content_folder is not None and (content_folder / PROMPTS).is_dir():
        return content_folder / PROMPTS
    return data_dir(PROMPTS)


def content_dir() -> Path:
    """The questionnaire content (questions, rules, outcomes, advice, speech texts)."""
    return _PACKAGE / "content"
