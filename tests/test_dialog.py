"""Dialog behaviour people expect: repeat, reprompts, fallback, unsure 'no', calls for help, records."""

from __future__ import annotations

from kiosk.content.bundle import Content
from kiosk.dialog.actions import Ask, Emergency, Ended, Fallback, Finished, Say, Understood
from kiosk.dialog.machine import Dialog, State
from kiosk.dialog.understanding import Heard
from kiosk.settings import DialogSettings, SiteSettings
from tests.fakes import FakeClock


def new(content: Content, **site: str) -> tuple[Dialog, list[object]]:
    dialog = Dialog(content, SiteSettings(**site), DialogSettings(), FakeClock(), "test")  # type: ignore[arg-type]
    return dialog, list(dialog.start())


def asks(actions: list[object]) -> list[Ask]:
    return [a for a in actions if isinstance(a, Ask)]


def test_start_welcomes_and_asks_the_first_stroke_question(content: Content) -> None:
    _, actions = new(content)
    assert isinstance(actions[0], Say) and "診断ではありません" in actions[0].text
    assert asks(actions)[0].question_id == "stroke_limb"


def test_repeat_asks_the_same_question_again_with_a_hint(content: Content) -> None:
    dialog, _ = new(content)
    again = asks(dialog.hear(Heard("repeat", "もう一度")))
    assert again[0].question_id == "stroke_limb" and again[0].attempt == 2
    assert "はい、か、いいえ、で" in again[0].text


def test_silence_reprompts_then_falls_back_then_records_unknown(content: Content) -> None:
    dialog, _ = new(content, fallback="staff")
    first = dialog.no_input()
    assert [type(a) for a in first] == [Say, Ask] and "聞こえません" in first[0].text  # type: ignore[attr-defined]
    dialog.no_input()
    third = dialog.no_input()
    assert isinstance(third[0], Fallback) and third[0].mode == "staff"
    dialog.no_input()
    dialog.no_input()
    last = dialog.no_input()
    assert any(isinstance(a, Understood) and a.answer == "unknown" for a in last)
    assert dialog.answers["stroke_limb"] == "unknown"
    assert asks(last)[0].question_id == "stroke_face"


def test_speech_never_understood_on_a_stroke_question_says_at_once_when_to_call_119(content: Content) -> None:
    # Slurred speech (ろれつが回らない) is itself a stroke sign; the kiosk cannot tell it from its own mishearing,
    # so it does not call an emergency, but says what to do now rather than at the end of the check.
    dialog, _ = new(content, fallback="none")
    unclear = content.speech["unclear_speech"]
    said: list[str] = []
    for question in ("stroke_limb", "stroke_face"):
        while dialog.answers.get(question) is None:
            said += [a.text for a in dialog.hear(Heard(None, "あうあう", 0.5)) if isinstance(a, Say)]
        assert dialog.answers[question] == "unknown"
    assert said.count(unclear) == 1, "said once, when the first stroke question is given up"
    assert said.index(unclear) < said.index(content.speech["moving_on"])
    quiet, _ = new(content, fallback="none")
    texts = [a.text for _ in range(3) for a in quiet.no_input() if isinstance(a, Say)]
    assert unclear not in texts, "silence is not speech that could not be understood"


def test_not_understood_is_asked_again_not_guessed(content: Content) -> None:
    dialog, _ = new(content)
    actions = dialog.hear(Heard(None, "今日はいい天気"))
    assert "聞き取れません" in actions[0].text  # type: ignore[attr-defined]
    assert asks(actions)[0].question_id == "stroke_limb"
    assert "stroke_limb" not in dialog.answers


def test_unsure_no_on_a_red_flag_is_asked_again(content: Content) -> None:
    dialog, _ = new(content)
    actions = dialog.hear(Heard("no", "いいえ", 0.5))
    assert "念のため" in actions[0].text  # type: ignore[attr-defined]
    assert asks(actions)[0].question_id == "stroke_limb"
    dialog.hear(Heard("no", "いいえ", 0.95))
    assert dialog.answers["stroke_limb"] == "no"


def test_unsure_no_twice_is_recorded_as_unknown_never_as_no(content: Content) -> None:
    dialog, _ = new(content)
    dialog.hear(Heard("no", "いいえ", 0.5))
    dialog.hear(Heard("no", "いいえ", 0.3))
    assert dialog.answers["stroke_limb"] == "unknown"


def test_a_no_that_stays_unsure_after_the_recheck_is_not_taken(content: Content) -> None:
    # Vosk never reports a word below 0.7, so "unsure" must mean below confirm_no_below on both askings.
    dialog, _ = new(content)
    dialog.hear(Heard("no", "いいえ", 0.8))
    dialog.hear(Heard("no", "いいえ", 0.75))
    assert dialog.answers["stroke_limb"] == "unknown"


def test_an_emergency_reached_by_moving_on_is_said_before_anything_else(content: Content) -> None:
    # Weakness of the right leg that began suddenly today, then no understandable answer to what set it off:
    # "unknown" cannot explain it away as an injury.
    dialog, actions = new(content, fallback="none")
    script = {"place": "leg", "kind": "weak", "side": "right", "duration": "today", "onset": "sudden"}
    for _ in range(40):
        ask = asks(actions)[-1]
        if ask.question_id == "injury":
            break
        value = script.get(ask.question_id) or ("no" if "no" in ask.answers else ask.answers[0])
        actions = dialog.hear(Heard(value, value))
    for _ in range(10):
        actions = dialog.hear(Heard(None, "ぶぶぶ"))
        if any(isinstance(a, Emergency) for a in actions):
            break
    assert isinstance(actions[0], Emergency), actions
    assert not any(isinstance(a, Say) for a in actions)  # no "moving on" sentence before or after it


def test_unsure_yes_escalates_at_once(content: Content) -> None:
    dialog, _ = new(content)
    actions = dialog.hear(Heard("yes", "はい", 0.2))
    assert any(isinstance(a, Emergency) for a in actions)


def test_call_for_help_at_any_time_is_an_emergency(content: Content) -> None:
    dialog, _ = new(content)
    for _ in range(8):
        dialog.hear(Heard("no", "いいえ"))
    actions = dialog.hear(Heard("emergency", "救急車を呼んで"))
    assert isinstance(actions[0], Emergency) and "助けを求める声" in actions[0].text
    finished = actions[-1]
    assert isinstance(finished, Finished) and finished.outcome.level == "emergency"
    assert finished.record["emergency_request"] is True
    assert dialog.state is State.FINISHED and dialog.hear(Heard("no", "いいえ")) == []


def test_clinic_emergency_tells_staff_are_coming_and_alerts(content: Content) -> None:
    dialog, _ = new(content, mode="clinic")
    emergency = dialog.hear(Heard("yes", "はい"))[0]
    assert isinstance(emergency, Emergency) and emergency.alert_staff
    assert "スタッフを呼んでいます" in emergency.text and "119" in emergency.text
    home, _ = new(content, mode="home")
    at_home = home.hear(Heard("yes", "はい"))[0]
    assert isinstance(at_home, Emergency) and not at_home.alert_staff and "119" in at_home.text


def test_a_session_record_has_answers_outcome_and_timings_but_no_words(content: Content) -> None:
    clock = FakeClock()
    dialog = Dialog(content, SiteSettings(), DialogSettings(), clock, "test")
    dialog.start()
    clock.advance(4.0)
    dialog.hear(Heard("no", "いいえ、ありません"))
    clock.advance(2.0)
    actions = dialog.hear(Heard("yes", "はい"))
    record = actions[-1].record  # type: ignore[attr-defined]
    assert record["answers"] == {"stroke_limb": "no", "stroke_face": "yes"}
    assert [t["seconds"] for t in record["turns"]] == [4.0, 2.0]
    assert record["duration_s"] == 6.0 and record["completed"] and record["level"] == "emergency"
    assert "いいえ、ありません" not in str(record), "what was said is not stored"


def test_knee_questions_are_skipped_without_knee_trouble(content: Content) -> None:
    from tests.scripted import by_id, run_session

    base = {"place": "back", "kind": "pain", "side": "both", "onset": "gradual", "duration": "days",
            "work_posture": "neither"}
    run = run_session(content, by_id(base, content))
    assert not [q for q in run.asked if q.startswith("knee_")]
    knee = run_session(content, by_id({**base, "place": "knee", "kind": "weak", "knee_giving_way": "yes",
                                       "knee_situation": "stairs"}, content))
    assert {"knee_giving_way", "knee_situation", "knee_swelling", "knee_hot", "knee_locking"} <= set(knee.asked)
    assert "claudication" not in knee.asked


def silent_question(dialog: Dialog) -> list[object]:
    """Nothing said at all until the dialog moves on (or ends): every re-ask and the fallback's tries."""
    while True:
        actions = dialog.no_input()
        if not asks(actions) or asks(actions)[0].attempt == 1:
            return actions


def test_nobody_answering_two_questions_in_a_row_ends_the_check_and_keeps_the_record(content: Content) -> None:
    # The person walked away (or a service started in an empty room): the kiosk must not ask every question
    # of nobody for an hour, nor hand the next person a check half-answered by someone else.
    dialog, _ = new(content, fallback="staff")
    first = silent_question(dialog)
    assert asks(first)[0].question_id == "stroke_face", "one silent question: the check goes on"
    ended = silent_question(dialog)
    assert [type(a) for a in ended][0] is Say and "終わります" in ended[0].text  # type: ignore[attr-defined]
    record = ended[-1].record  # type: ignore[attr-defined]
    assert isinstance(ended[-1], Ended) and record["completed"] is False
    assert record["answers"] == {"stroke_limb": "unknown", "stroke_face": "unknown"}
    assert dialog.state is State.FINISHED and dialog.no_input() == [] and dialog.hear(Heard("yes", "はい")) == []


def test_silence_on_the_stroke_questions_ends_with_the_urgent_level_they_leave(content: Content) -> None:
    # A person who cannot answer may be the one having a stroke: ending the check must still tell them.
    dialog, _ = new(content, fallback="none")
    silent_question(dialog)
    ended = silent_question(dialog)
    assert [a.prompts for a in ended if isinstance(a, Say)][-1] == ("level.urgent",)


def test_a_person_who_speaks_is_never_cut_off_for_silence(content: Content) -> None:
    dialog, _ = new(content)
    dialog.hear(Heard(None, "えっと"))  # said something, not understood, then fell silent
    silent_question(dialog)
    after = silent_question(dialog)
    assert asks(after) and asks(after)[0].question_id == "stroke_speech", "only one question was wholly silent"


def test_a_check_that_stops_early_still_says_an_urgent_level_reached(content: Content) -> None:
    def answered(urgent: bool) -> Dialog:
        dialog, _ = new(content)
        script = {"place": "back", "kind": "pain", "duration": "weeks"}  # and no stroke sign, bladder or saddle
        while dialog._turn is not None and dialog._turn.question.id != "rf_cannot_stand":
            value = script.get(dialog._turn.question.id, "no")
            dialog.hear(Heard(value, value, 1.0))
        assert dialog._turn is not None and dialog._turn.question.id == "rf_cannot_stand"
        if urgent:
            dialog.hear(Heard("yes", "はい", 1.0))  # cannot stand: urgent
        return dialog

    def said(actions: list[object]) -> list[tuple[str, ...]]:
        return [a.prompts for a in actions if isinstance(a, Say)]

    assert said(answered(urgent=False).abort()) == [("speech.incomplete",)], "nothing urgent: nothing more to say"
    stopped = answered(urgent=True).abort()  # the microphone is lost, or the input ends
    assert said(stopped) == [("speech.incomplete",), ("speech.interim_intro",), ("level.urgent",)]
    assert isinstance(stopped[-1], Ended) and stopped[-1].reason == "input_ended"
    assert stopped[-1].record["completed"] is False and stopped[-1].record["answers"]["rf_cannot_stand"] == "yes"
    walked_away = answered(urgent=True)
    silent_question(walked_away)
    ended = silent_question(walked_away)
    assert said(ended)[-1] == ("level.urgent",)
    assert isinstance(ended[-1], Ended) and ended[-1].reason == "unanswered"
