"""The voice session: speaks the dialog's actions, listens for answers, and keeps the emergency prompt first."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from kiosk.asr.base import Recognizer, prepare
from kiosk.audio.endpoint import Endpointer
from kiosk.audio.recording import AudioRecorder
from kiosk.audio.sources import AnswerSource
from kiosk.clock import Clock
from kiosk.content.questionnaire import ALWAYS_ACCEPTED
from kiosk.dialog.actions import Action, Ask, Emergency, Ended, Fallback, Finished, Say
from kiosk.dialog.machine import Dialog
from kiosk.dialog.understanding import UNDERSTOOD, Heard, Understanding
from kiosk.errors import AudioError, StorageError
from kiosk.session.events import Emit, action_event, isolated
from kiosk.session.listening import Listened, listen
from kiosk.session.records import SessionStore, commit_records, keep_record, save_record
from kiosk.session.staff_alert import StaffAlert
from kiosk.tts.voice import Voice

ALERT_WATCH_SECONDS = 30.0
"""After an acknowledged emergency in a clinic: how long the staff pager is watched for a failure (a network
timeout) that must still be told to the person."""
log = logging.getLogger(__name__)

# Markers for "nothing was said" and "no more audio will come" (e.g. the replay files ran out).
NO_INPUT = Heard(None, "<no input>", 0.0)
ENDED = Heard(None, "<ended>", 0.0)


@dataclass
class Timings:
    """Where the time of each turn went, for the benchmark (seconds)."""

    turns: list[dict[str, Any]] = field(default_factory=list)
    emergency_prompt_delay: float | None = None
    """From the dialog's emergency decision to the emergency audio starting."""


class VoiceSession:
    """One spoken self-check: the Dialog plus ears, a voice and an event stream for the screen."""

    def __init__(self, dialog: Dialog, recognizer: Recognizer, source: AnswerSource, voice: Voice,
                 endpointer: Endpointer, understanding: Understanding, events: Emit,
                 store: SessionStore | None, alert: StaffAlert, clock: Clock, *, echo_cancellation: bool = False,
                 emergency_repeats: int = 0, keyboard: Callable[[], str | None] | None = None,
                 recorder: AudioRecorder | None = None) -> None:
        self.dialog = dialog
        self.recognizer = recognizer
        self.source = source
        self.voice = voice
        self.endpointer = endpointer
        self.understanding = understanding
        self.events = isolated(events)
        """Every display (stdout, a screen, a transcript): one that fails costs only itself."""
        self.store = store
        self.alert = alert
        self.clock = clock
        self.echo_cancellation = echo_cancellation
        self.emergency_repeats = emergency_repeats
        self.keyboard = keyboard
        self.recorder = recorder
        """Keeps each answer's audio when the site turned recording on; None (the default): no audio kept."""
        self.timings = Timings()
        self.finished: Finished | None = None
        self._fallback_keyboard = False
        self._turn_log: dict[str, Any] = {}
        self._decided_at: float | None = None

    def run(self, first: Heard | None = None) -> Finished | None:
        """Run to the outcome; None when the answers ran out or the microphone did not come back.

        `first`: what the person said before the session began, at the invitation (a call for help): the
        dialog hears it at once, so its prompt is the first thing said — no welcome, no question before it.
        """
        if self.recorder is not None:
            self.recorder.begin_session()
        try:
            actions = self.dialog.start()
            if first is not None:
                self._decided_at = self.clock.monotonic()
                actions = self.dialog.hear(first)
            while True:
                ask = self._perform(actions)
                if ask is None:  # after the outcome, only 「くわしく聞きますか」 is still asked
                    return self.finished
                heard = self._answer(ask)
                if heard is ENDED:
                    self._perform(self.dialog.abort())
                    return self.finished
                self._decided_at = self.clock.monotonic()
                actions = self.dialog.no_input() if heard is NO_INPUT else self.dialog.hear(heard)
        except KeyboardInterrupt:
            # Ctrl-C, or SIGTERM from systemctl stop/restart: the answers given so far are still saved, and
            # records kept in memory after a failed save are tried once more.
            ended = self.dialog.interrupted()
            if ended is not None:
                save_record(self.store, ended.record)  # the record first, then the displays
                self.events(action_event(ended))
            elif self.store is not None and self.store.unsaved:
                try:
                    self.store.flush()
                except StorageError as exc:
                    log.error("%s", exc)
            raise

    # --- listening ---

    def _answer(self, ask: Ask) -> Heard:
        """The answer heard; NO_INPUT when nothing was said; ENDED when no more audio will come."""
        if self._fallback_keyboard and self.keyboard is not None:
            line = self.keyboard()
            if line is not None:
                return self.understanding.understand(line, (*ask.answers, *ALWAYS_ACCEPTED), ask.yes_from_age)
        grammar = self.dialog.content.phrases.grammar(ask.answers)
        while True:
            try:
                # A bad recorded file fails here; a device fails while listening.
                chunks = self.source.next_answer(ask.question_id)
                if chunks is None:
                    return ENDED
                if not self.echo_cancellation:
                    self.source.unmute()
                listened = listen(chunks, self.endpointer, self.recognizer, grammar, self.clock)
                self.source.mute()
                break
            except AudioError as exc:
                if not self._audio_failed(exc):
                    return ENDED
                if self._live_source:
                    self.events(action_event(ask))  # microphone_back promises to ask again
                    self.voice.say(ask.prompts, ask.text)
        self._log_turn(ask, listened)
        self._keep_audio(ask, listened)
        if listened.recognition is None:
            return NO_INPUT
        return self.understanding.from_recognition(listened.recognition)

    @property
    def _live_source(self) -> bool:
        return bool(getattr(self.source, "live", True))

    def _audio_failed(self, exc: AudioError) -> bool:
        """The microphone failed or a recorded answer is unusable: pause, say so, recover; False to end."""
        log.error("%s", exc)
        self.events({"type": "error", "kind": "audio", "message": str(exc)})
        if not self._live_source:
            return self.source.recover()  # replay: skip the bad file and go on with the next one
        self.source.mute()
        self.say_text("microphone_lost")
        if not self.source.recover():
            return False
        self.say_text("microphone_back")
        return True

    def _keep_audio(self, ask: Ask, listened: Listened) -> None:
        if self.recorder is not None and listened.audio is not None:
            self.recorder.save(listened.audio.audio, ask.question_id, ask.attempt)

    def _log_turn(self, ask: Ask, listened: Listened) -> None:
        self._turn_log = {
            "question": ask.question_id,
            "attempt": ask.attempt,
            "answer": listened.recognition.answer if listened.recognition else None,
            "confidence": listened.recognition.confidence if listened.recognition else None,
            "speech_end": listened.speech_end,
            "endpoint": listened.endpoint,
            "endpoint_delay": (listened.endpoint - listened.speech_end)
            if listened.speech_end is not None and listened.endpoint is not None else None,
            "decide_seconds": listened.decide_seconds,
            "decided_early": listened.decided_early,
        }
        self.timings.turns.append(self._turn_log)

    # --- speaking ---

    def _perform(self, actions: list[Action]) -> Ask | None:
        ask: Ask | None = None
        emergency = next((a for a in actions if isinstance(a, Emergency)), None)
        records = [a.record for a in actions if isinstance(a, (Finished, Ended))]
        first_audio = True
        if emergency is not None:
            self._emergency(emergency, records)
        else:
            # The record first, then the minute of outcome speech: a stop (systemctl restart) while it is
            # spoken must not lose it.
            for record in records:
                save_record(self.store, record)
        for action in actions:
            if action is emergency:
                continue
            self.events(action_event(action))
            if isinstance(action, Fallback):
                self._fallback(action)
            elif isinstance(action, Finished):
                self.finished = action
            elif isinstance(action, (Say, Ask)):
                started = self.voice.start(action.prompts, action.text)
                if first_audio:
                    self._mark_next_prompt()  # after start(): the prompt's first sample is on its way
                    first_audio = False
                if isinstance(action, Ask):
                    ask = action
                    # Per-grammar work (Whisper's silence priors, ~1 s) while the question is spoken,
                    # not after the person has answered.
                    prepare(self.recognizer, self.dialog.content.phrases.grammar(action.answers))
                if started:
                    self.voice.wait()
        if emergency is not None:
            # The journaled record into the database, once the prompt plays and the outcome is shown; then the
            # repeating, which may go on for a long time.
            commit_records(self.store)
            self.voice.wait()
            self._repeat_until_acknowledged(emergency)
        return ask

    def _mark_next_prompt(self) -> None:
        if self._decided_at is not None and self._turn_log:
            self._turn_log["decision_to_prompt"] = self.clock.monotonic() - self._decided_at

    def _emergency(self, action: Emergency, records: list[dict[str, Any]]) -> None:
        """Staff first, then the record, then every display. Starting the pager (not waited for) and an
        fsynced journal append take milliseconds, so the spoken prompt still starts at once; the database,
        which may wait seconds for a lock, gets the record after the prompt has started."""
        decided = self._decided_at if self._decided_at is not None else self.clock.monotonic()
        if action.alert_staff:
            self.alert.send()
        for record in records:
            keep_record(self.store, record)
        self.voice.start(action.prompts, action.text)  # preloaded audio: the first display
        self.timings.emergency_prompt_delay = self.clock.monotonic() - decided
        self.events(action_event(action))

    def _repeat_until_acknowledged(self, action: Emergency) -> None:
        phrases = self.dialog.content.phrases
        # 「わかりましたら、はい」 is often answered 「わかりました」; a grammar without that value still takes はい.
        grammar = phrases.grammar(tuple(v for v in ("yes", "no", UNDERSTOOD) if v in phrases.by_answer))
        repeats = 0
        told_alert_failed = False
        while self.emergency_repeats == 0 or repeats < self.emergency_repeats:
            if action.alert_staff and not told_alert_failed and self.alert.failed():
                # 「今、スタッフを呼んでいます」 has been said; it must not stay the last word when nobody was paged.
                told_alert_failed = True
                self._tell_alert_failed("the staff alert command could not be started or failed")
            self.say_text("emergency_repeat")
            try:
                chunks = self.source.next_answer("emergency_ack")
                if chunks is None:
                    return
                if not self.echo_cancellation:
                    self.source.unmute()
                listened = listen(chunks, self.endpointer, self.recognizer, grammar, self.clock)
                self.source.mute()
            except AudioError as exc:
                # The prompt and the outcome are already shown and the record saved; without a microphone
                # the kiosk cannot hear an acknowledgement, so it stops repeating rather than spin.
                log.error("%s", exc)
                self.events({"type": "error", "kind": "audio", "message": str(exc)})
                if not self.source.recover():
                    return
                listened = Listened(None, None, None, None, 0.0)
            if listened.recognition is not None and listened.recognition.answer in ("yes", UNDERSTOOD):
                # At home nobody has been called yet: 「はい」 only means the prompt was understood.
                self.say_text("emergency_acknowledged" if action.alert_staff else "emergency_acknowledged_home")
                if action.alert_staff and not told_alert_failed and self.alert.failed(wait=ALERT_WATCH_SECONDS):
                    # 「スタッフや救急隊が来るまで…」 was just said: a pager that gives up later must not leave the
                    # person waiting for nobody.
                    self._tell_alert_failed("the staff alert command failed after the prompt was acknowledged")
                return
            repeats += 1
            self.events({"type": "emergency", "text": action.text, "reasons": list(action.reasons),
                         "staff_alerted": action.alert_staff, "repeat": repeats})
            self.voice.say(action.prompts, action.text)

    def _tell_alert_failed(self, message: str) -> None:
        self.events({"type": "error", "kind": "staff_alert", "message": message})
        self.say_text("emergency_alert_failed")

    def _fallback(self, action: Fallback) -> None:
        if action.mode == "staff":
            self.alert.send()
        elif action.mode == "keyboard" and self.keyboard is not None:
            self._fallback_keyboard = True

    def say_text(self, key: str) -> None:
        """Say (and show) one of the fixed texts of speech.yaml by its key."""
        text = self.dialog.content.speech[key]
        self.events({"type": "say", "text": text})
        self.voice.say((f"speech.{key}",), text)

