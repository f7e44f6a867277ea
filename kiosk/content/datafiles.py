"""Where the kiosk's data folders are: the content beside this module, the rest at the top of the checkout."""

from __future__ import annotations

from pathlib import Path

_CONTENT = Path(__file__).resolve().parent
_TOP = _CONTENT.parent.parent
PROMPTS = "audio_prompts"


def data_dir(name: str) -> Path:
    """The top-level folder `name` (e.g. 'grammars', 'audio_prompts') of the checkout the kiosk runs from.

    The kiosk is installed editable (scripts/setup-env.sh), so a developer's or a site's edit is seen without
    reinstalling.
    """
    return _TOP / name


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
    return _CONTENT
