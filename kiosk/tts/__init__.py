"""Offline Japanese speech synthesis: prompt rendering with Open JTalk and kana readings for other voices."""

from __future__ import annotations

from types import ModuleType

from kiosk.errors import ModelError

INSTALL_HINT = "scripts/setup-env.sh voices (in the kiosk's folder)"


def pyopenjtalk() -> ModuleType:
    """The pyopenjtalk module (from pyopenjtalk-plus), imported only when Japanese speech is needed."""
    # Imported here, not at module top: the kiosk must start (and type in answers) without the voice.
    try:
        import pyopenjtalk as module
    except ImportError as exc:
        raise ModelError(
            f"the Japanese voice (pyopenjtalk-plus) is not installed ({exc}); install it with: {INSTALL_HINT}"
        ) from exc
    return module
