"""`kiosk` (the voice kiosk): microphone in, speaker out, one check after another, as the service runs it."""

from __future__ import annotations

import argparse
import logging
import select
import sys
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any, TextIO

from kiosk.clock import SystemClock
from kiosk.errors import AudioError, ModelError
from kiosk.session.events import stdout_printer
from kiosk.session.records import SessionStore
from kiosk.settings import Settings

log = logging.getLogger(__name__)

EXIT_MICROPHONE_LOST = 75
"""Exit status when the microphone did not come back (EX_TEMPFAIL: try again later). Non-zero, so that
deploy/kiosk.service (Restart=on-failure, no RestartPreventExitStatus) restarts the kiosk until a microphone
is there, as docs/operations.md promises; distinct from 1 (incomplete) and 2 (a configuration error)."""


def run_voice(args: argparse.Namespace, settings: Settings, *, microphone: Any = None, output: Any = None,
              retry_sleep: Callable[[float], None] = time.sleep, stdin: TextIO | None = None) -> int:
    """The hands-free kiosk: microphone in, speaker out, sessions one after another.

    Exit status: 0 when it stops normally (`--once`, or no one answers the invitation to begin);
    EXIT_MICROPHONE_LOST (75) when the microphone was lost and did not come back within the retries, so
    that the service manager restarts the kiosk. `microphone`, `output` and `retry_sleep` replace the
    devices and the clock (tests); `stdin` is where typed answers come from (default: sys.stdin).
    """
    from kiosk.asr.engines import load_recognizer
    from kiosk.audio.microphone import Microphone
    from kiosk.audio.sources import MicrophoneSource
    from kiosk.audio.speaker import SpeakerOutput
    from kiosk.session.assembly import build_session, load_parts
    from kiosk.session.invitation import NOBODY, wait_for_next_person
    from kiosk.tts.live import LazyLiveRenderer, choose_live_renderer

    parts = load_parts(settings)
    if parts.missing_emergency_audio:
        log.warning("no pre-rendered audio for %s; run `kiosk prompts build`", ", ".join(parts.missing_emergency_audio))

    def load() -> Any:
        return load_recognizer(settings.models, language=parts.content.phrases.language)

    once = bool(getattr(args, "once", False))
    try:
        recognizer = load()
    except ModelError as exc:
        if once or _is_terminal(sys.stdin if stdin is None else stdin):
            raise  # someone at a terminal reads the message and what to do
        output = output if output is not None else _speaker_or_none(settings)
        recognizer = _wait_for_model(exc, load, parts, output, retry_sleep)
    try:
        if microphone is None:
            microphone = Microphone(settings.listen.input_device or None)
        microphone.start()
    except AudioError as exc:
        hint = "" if "replay" in str(exc) else "; replay recorded answers with `kiosk replay FOLDER`"
        raise AudioError(f"{exc}{hint}; or type the answers with `kiosk --text`") from None
    if output is None:
        output = SpeakerOutput(settings.listen.output_device or None)
    events = stdout_printer(getattr(args, "events", False), _is_terminal(sys.stdout))
    store = SessionStore.from_settings(settings.storage)
    store.start()  # records a storage fault kept in the journal are merged now
    # Every text pre-rendered (the normal case): the live voice is loaded only if one is ever missing.
    texts = parts.content.prompt_texts()
    live = LazyLiveRenderer() if all(parts.library.fresh(pid) for pid in texts) else choose_live_renderer()
    keyboard = keyboard_reader(sys.stdin if stdin is None else stdin, settings.site.fallback,
                               settings.listen.no_input or None)
    if keyboard is None and settings.site.fallback == "keyboard":
        # No keyboard to type at (a service): telling a struggling person to use the keys would leave them
        # with nothing; the kiosk goes on asking by voice instead.
        settings = replace(settings, site=replace(settings.site, fallback="none"))

    def new_session() -> Any:
        return build_session(settings, parts, recognizer, MicrophoneSource(microphone, sleep=retry_sleep), output,
                             live, events, store, SystemClock(), "voice", keyboard=keyboard)

    try:
        session = new_session()
        # A kiosk that is always on (the service) begins only when someone asks: it does not start asking
        # questions of an empty room after a boot or a restart. `--once` (someone at the keyboard) begins now.
        first = None if once else wait_for_next_person(session)
        while True:
            if first is NOBODY:
                return _microphone_lost() if session.source.gave_up else 0
            session.run(first=first)
            if session.source.gave_up:
                return _microphone_lost()
            if once:
                return 0
            session = new_session()  # built before listening, so that a call for help is answered at once
            first = wait_for_next_person(session)
    finally:
        microphone.stop()


MODEL_CHECK_SECONDS = 30.0
"""How often the service looks again for a speech model that is not installed yet."""


def _wait_for_model(error: ModelError, load: Callable[[], Any], parts: Any, output: Any,
                    sleep: Callable[[float], None]) -> Any:
    """The service started before its speech model was installed (a new Pi, a model deleted): say so once,
    aloud, since a kiosk at home has no screen, and wait for the model; restarting every few seconds would
    either say it every few seconds or say nothing at all. Starts as soon as the model is there."""
    from kiosk.tts.voice import Voice

    log.error("%s; the kiosk waits for the model (looking again every %.0f s)", error, MODEL_CHECK_SECONDS)
    if output is not None:
        text = parts.content.speech["model_missing"]
        try:
            Voice(parts.library, output, None).say(("speech.model_missing",), text)
        except AudioError as exc:
            log.warning("the notice could not be spoken: %s", exc)
    while True:
        sleep(MODEL_CHECK_SECONDS)
        try:
            recognizer = load()
        except ModelError:
            continue
        log.warning("the speech model is there now; starting")
        return recognizer


def _speaker_or_none(settings: Settings) -> Any:
    from kiosk.audio.speaker import SpeakerOutput

    try:
        return SpeakerOutput(settings.listen.output_device or None)
    except AudioError as exc:
        log.warning("no speaker either (%s)", exc)
        return None


def _microphone_lost() -> int:
    log.error("the microphone is gone; exiting with status %d so that the service restarts the kiosk "
              "(check the cable; `kiosk doctor` lists the audio devices)", EXIT_MICROPHONE_LOST)
    return EXIT_MICROPHONE_LOST


def keyboard_reader(stdin: TextIO, fallback: str, wait: float | None = None) -> Callable[[], str | None] | None:
    """Typed answers for the site's 'keyboard' fallback: one line from `stdin` per answer, when it is a terminal.

    `wait`: seconds to wait for a line; None when nothing was typed by then, so the kiosk listens to the
    microphone for that turn (the person may speak again, or call for help) instead of waiting on the keys.

    None when the fallback is not 'keyboard', or there is no terminal to type at (a service without a
    keyboard): then run_voice drops the fallback (nobody is told to use keys that are not there), and logs it.
    """
    if fallback != "keyboard":
        return None
    if not _is_terminal(stdin):
        log.warning("[site] fallback is 'keyboard' but there is no keyboard (stdin is not a terminal), so typed "
                    "answers cannot be read; run the kiosk on a terminal, or set [site] fallback = \"staff\"")
        return None

    def read() -> str | None:
        try:
            if wait is not None and not select.select([stdin], [], [], wait)[0]:
                return None
            line = stdin.readline()
        except (OSError, ValueError) as exc:
            log.warning("the keyboard cannot be read (%s); listening instead", exc)
            return None
        # End of input (the terminal closed): None, so the kiosk listens instead of reading nothing forever.
        return line.strip() if line else None

    return read


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError, OSError):  # closed or not a real file
        return False
