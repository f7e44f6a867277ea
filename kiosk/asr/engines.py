"""Loading the configured recognizer engine from local model paths (never from the network)."""

from __future__ import annotations

from kiosk.asr.base import Recognizer
from kiosk.errors import ModelError
from kiosk.settings import ModelSettings


def load_recognizer(models: ModelSettings, engine: str | None = None, language: str = "ja") -> Recognizer:
    """The engine named by `engine` (default: the settings), loaded once, for answers in `language`."""
    name = engine or models.engine
    if name == "vosk":
        from kiosk.asr.vosk_engine import VoskRecognizer

        return VoskRecognizer(models.vosk_model, language=language)
    if name == "whisper":
        try:
            from kiosk.asr.whisper_engine import WhisperRecognizer
        except ImportError as exc:
            raise ModelError(f"the Whisper engine is not available ({exc}); install it with: "
                             f"scripts/setup-env.sh voices,whisper (in the kiosk's folder)") from None
        return WhisperRecognizer(models.whisper_model, cpu_threads=models.threads)
    raise ModelError(f"unknown engine '{name}'; choose vosk or whisper")
