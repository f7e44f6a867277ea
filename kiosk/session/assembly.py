"""Putting a voice session together from settings and the parts chosen by the caller."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from kiosk.asr.base import Recognizer
from kiosk.audio.endpoint import Endpointer, EndpointSettings
from kiosk.audio.recording import AudioRecorder
from kiosk.audio.sources import AnswerSource
from kiosk.audio.speaker import AudioOutput
from kiosk.clock import Clock
from kiosk.content.bundle import Content
from kiosk.content.datafiles import prompt_audio_dir
from kiosk.dialog.machine import Dialog
from kiosk.dialog.normalize import Normalizer
from kiosk.dialog.understanding import Understanding
from kiosk.session.records import SessionStore
from kiosk.session.staff_alert import StaffAlert
from kiosk.session.voice import VoiceSession
from kiosk.settings import ListenSettings, Settings
from kiosk.tts.voice import LiveRenderer, PromptLibrary, Voice


def endpoint_settings(listen: ListenSettings) -> EndpointSettings:
    return EndpointSettings(trailing_silence=listen.trailing_silence, no_input=listen.no_input or None,
                            max_utterance=listen.max_utterance or None, vad_mode=listen.vad_mode,
                            noise_margin_db=listen.noise_margin_db)


def emergency_prompts(content: Content) -> list[str]:
    """Every prompt the emergency message can be made of: read into memory before the first question."""
    ids = ["level.emergency", "speech.emergency_request", "speech.emergency_home", "speech.emergency_clinic",
           "speech.emergency_repeat", "speech.emergency_acknowledged", "speech.emergency_acknowledged_home",
           "speech.emergency_alert_failed"]
    return ids + [f"reason.{r.id}" for r in content.rules.rules if r.level == "emergency"]


@dataclass
class Parts:
    """Long-lived pieces shared by every session of a running kiosk (loaded once)."""

    content: Content
    understanding: Understanding
    library: PromptLibrary
    missing_emergency_audio: list[str]


def load_parts(settings: Settings) -> Parts:
    content = Content.load(settings.content.folder, settings.content.grammar)
    library = PromptLibrary(prompt_audio_dir(settings.content.folder), content.prompt_texts())
    missing = library.preload(emergency_prompts(content))
    return Parts(content, Understanding(content.phrases, Normalizer.load()), library, missing)


def build_session(settings: Settings, parts: Parts, recognizer: Recognizer, source: AnswerSource,
                  output: AudioOutput | None, live: LiveRenderer | None, events: Callable[[dict[str, Any]], None],
                  store: SessionStore | None, clock: Clock, channel: str,
                  keyboard: Callable[[], str | None] | None = None) -> VoiceSession:
    dialog = Dialog(parts.content, settings.site, settings.dialog, clock, channel)
    return VoiceSession(
        dialog, recognizer, source, Voice(parts.library, output, live), Endpointer(endpoint_settings(settings.listen)),
        parts.understanding, events, store, StaffAlert(settings.site.staff_alert_command), clock,
        echo_cancellation=settings.listen.echo_cancellation, emergency_repeats=settings.listen.emergency_repeats,
        keyboard=keyboard, recorder=AudioRecorder.from_settings(settings.storage))
