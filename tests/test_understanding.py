"""Typed-answer understanding: Japanese normalisation, leftmost-longest phrases, contradictions."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kiosk.asr.base import Recognition
from kiosk.content.bundle import Content
from kiosk.dialog.machine import Dialog
from kiosk.dialog.normalize import Normalizer
from kiosk.dialog.understanding import Understanding
from kiosk.settings import DialogSettings, SiteSettings
from tests.fakes import FakeClock

YES_NO = ("yes", "no", "unknown", "repeat", "emergency")
SIDE = ("right", "left", "both", "unknown", "repeat", "emergency")
DURATION = ("today", "yesterday", "days", "weeks", "months", "unknown", "repeat", "emergency")


@pytest.fixture(scope="module")
def understanding(content: Content) -> Understanding:
    return Understanding(content.phrases, Normalizer.load())


@pytest.mark.parametrize(("said", "accepted", "expected"), [
    ("はい", YES_NO, "yes"), ("はい、あります", YES_NO, "yes"), ("ハイ", YES_NO, "yes"), ("ﾊｲ", YES_NO, "yes"),
    ("ええ", YES_NO, "yes"), ("うん", YES_NO, "yes"), ("あります。", YES_NO, "yes"), ("はい　そうです", YES_NO, "yes"),
    ("いいえ", YES_NO, "no"), ("いいえ、ありません。", YES_NO, "no"), ("ありません", YES_NO, "no"),
    ("しびれはないです", YES_NO, "no"), ("イイエ", YES_NO, "no"), ("違います", YES_NO, "no"),
    ("わかりません", YES_NO, "unknown"), ("分かりません", YES_NO, "unknown"), ("わからないです", YES_NO, "unknown"),
    ("もう一度", YES_NO, "repeat"), ("もう1回お願いします", YES_NO, "repeat"), ("え？", YES_NO, "repeat"),
    ("救急車を呼んで", YES_NO, "emergency"), ("助けて！", SIDE, "emergency"),
    ("はい、助けてください", YES_NO, "emergency"),
    ("右です", SIDE, "right"), ("右側です", SIDE, "right"), ("ひだり", SIDE, "left"), ("両足です", SIDE, "both"),
    ("りょうほう", SIDE, "both"), ("はい、右です", SIDE, "right"),
    ("今日", DURATION, "today"), ("２、３日前", DURATION, "days"), ("きのうから", DURATION, "yesterday"),
    ("1日前", DURATION, "yesterday"),
    ("昨日の夜から", DURATION, "yesterday"), ("ゆうべから", DURATION, "yesterday"), ("11日前", DURATION, "days"),
    ("一日くらい前", DURATION, "yesterday"), ("1日ほど前", DURATION, "yesterday"), ("十一日前", DURATION, "days"),
    ("３週間", DURATION, "weeks"), ("半年くらい", DURATION, "months"), ("２年前から", DURATION, "months"),
])
def test_understood(understanding: Understanding, said: str, accepted: tuple[str, ...], expected: str) -> None:
    assert understanding.understand(said, accepted).answer == expected


@pytest.mark.parametrize(("said", "accepted"), [
    ("はい、いいえ", YES_NO),            # contradictory: ask again rather than guess
    ("あるかもしれないけど、ないです", YES_NO),
    ("右です", YES_NO),                   # an answer this question does not take
    ("どちらでもない", YES_NO),           # must not be read as ない (= no)
    ("今日はいい天気ですね", YES_NO), ("お茶はいかが", YES_NO),
    ("", YES_NO), ("えーと", YES_NO), ("まえ", YES_NO),
    ("はい", SIDE),
])
def test_not_understood(understanding: Understanding, said: str, accepted: tuple[str, ...]) -> None:
    assert understanding.understand(said, accepted).answer is None


ONSET = ("sudden", "gradual", "unknown", "repeat", "emergency")


@pytest.mark.parametrize(("said", "accepted"), [
    # A negated verb answers "yes" to a question about weakness: it must never be read as ない = "no".
    ("立てない", YES_NO), ("おしっこが出ない", YES_NO), ("力が入らないです", YES_NO), ("ろれつが回らない", YES_NO),
    ("見えない", YES_NO), ("腕が上がらない", YES_NO), ("痛くない", YES_NO), ("いやあ、立てないんですよ", YES_NO),
    # いえ inside 言えない ("cannot say"): to 「うまく話せないことがありますか」 this is a yes, never いえ = "no".
    ("うまくいえない", YES_NO), ("いえない", YES_NO), ("ことばがうまくいえないです", YES_NO),
    # A value that is denied is not the answer.
    ("急にではない", ONSET), ("右じゃないです", SIDE),
    # Hesitations are not はい/うん/ええ; 十分 (enough) is not ten minutes.
    ("うーん、ちょっと", YES_NO), ("ええと", YES_NO), ("えーっと", YES_NO), ("十分", DURATION),
])
def test_negated_words_and_hesitations_are_asked_again_never_taken(
        understanding: Understanding, said: str, accepted: tuple[str, ...]) -> None:
    assert understanding.understand(said, accepted).answer is None


@pytest.mark.parametrize(("said", "accepted", "expected"), [
    ("特にない", YES_NO, "no"), ("何もないです", YES_NO, "no"), ("ううん", YES_NO, "no"),
    ("ございません", YES_NO, "no"), ("なかったです", YES_NO, "no"), ("ありました", YES_NO, "yes"),
    ("ないこともない", YES_NO, "yes"),  # "not that there isn't": a hesitant yes, which may only raise the level
    ("なくはない", YES_NO, "yes"), ("ないわけじゃない", YES_NO, "yes"), ("ないとは言えない", YES_NO, "yes"),
    ("しびれがある", YES_NO, "yes"), ("いえいえ", YES_NO, "no"), ("いえ、ないです", YES_NO, "no"),
    ("わかんない", YES_NO, "unknown"), ("知らない", YES_NO, "unknown"), ("覚えてないです", YES_NO, "unknown"),
    ("はっきりしない", YES_NO, "unknown"), ("何とも言えない", YES_NO, "unknown"), ("わからん", YES_NO, "unknown"),
    ("ええと、はい", YES_NO, "yes"), ("うーん、いいえ", YES_NO, "no"),
    ("はい？", YES_NO, "repeat"), ("ありますか", YES_NO, "repeat"), ("右ですか？", SIDE, "repeat"),
    ("3ヶ月前", DURATION, "months"), ("1ヵ月", DURATION, "months"), ("今朝から", DURATION, "today"),
    ("2時間前", DURATION, "today"), ("おととい", DURATION, "days"), ("先月から", DURATION, "weeks"),
    ("去年", DURATION, "months"),
])
def test_everyday_phrasings(understanding: Understanding, said: str, accepted: tuple[str, ...],
                            expected: str) -> None:
    assert understanding.understand(said, accepted).answer == expected


PLACE = ("leg", "thigh", "back", "knee", "unknown", "repeat", "emergency")


@pytest.mark.parametrize(("said", "sure"), [
    ("いいえ", True), ("いいえ、ありません", True), ("ないです", True), ("何もないです", True), ("なにもない", True),
    ("特にない", True), ("どちらもありません", True), ("全然ない", True), ("そんなことはありません", True),
    ("特にはない", True), ("一度もない", True), ("一回もない", True), ("何にもない", True), ("今はない", True),
    ("しびれはないです", False), ("漏れることはない", False), ("痛みはありません", False), ("足にはない", False),
    ("いいえ、しびれはないです", False), ("しびれは特にない", False), ("しびれは全然ない", False),
    ("しびれはまったくありません", False),
])
def test_a_no_that_denies_one_thing_is_not_sure(understanding: Understanding, said: str, sure: bool) -> None:
    # 「最近、おしっこや便が出にくくなった、または漏れてしまうことがありますか」: 「漏れることはない」 says nothing of
    # a bladder that will not empty (cauda equina). Below confirm_no_below the dialog asks again, and a second
    # such answer is recorded as unknown, never as no.
    heard = understanding.understand(said, YES_NO)
    assert heard.answer == "no"
    assert (heard.confidence >= DialogSettings().confirm_no_below) == sure


def test_a_partial_denial_of_a_red_flag_typed_twice_is_recorded_as_unknown(content: Content,
                                                                             understanding: Understanding) -> None:
    dialog = Dialog(content, SiteSettings(), DialogSettings(), FakeClock(), "test")
    dialog.start()
    while True:
        ask = dialog._turn.question.id if dialog._turn else None
        if ask == "rf_bladder":
            break
        dialog.hear(understanding.understand("いいえ", YES_NO))
    again = dialog.hear(understanding.understand("漏れることはない", YES_NO))
    assert "rf_bladder" not in dialog.answers and any(getattr(a, "question_id", None) == "rf_bladder" for a in again)
    dialog.hear(understanding.understand("漏れることはないです", YES_NO))
    assert dialog.answers["rf_bladder"] == "unknown"


@pytest.mark.parametrize(("said", "expected"), [
    ("右足です", "leg"), ("左足", "leg"), ("ひざがいたい", "knee"), ("こしのあたり", "back"),
    ("左の膝", "knee"), ("右の太もも", "thigh"), ("腰です", "back"),
    ("ええ", None),  # a yes to a question that takes none: not え + え (もう一度)
    ("足腰", None),  # two places: the question asks for one, so it is asked again
])
def test_place_named_with_a_side(understanding: Understanding, said: str, expected: str | None) -> None:
    # 右足 is a phrase of the side question; asked where it hurts, the side is extra and the place counts.
    assert understanding.understand(said, PLACE).answer == expected


@pytest.mark.parametrize(("said", "expected"), [
    ("72歳です", "yes"), ("65歳", "yes"), ("６５さい", "yes"), ("七十二歳", "yes"), ("八十代です", "yes"),
    ("70代", "yes"), ("はい、78です", "yes"), ("80", "yes"), ("65歳以上です", "yes"), ("70過ぎ", "yes"),
    ("百歳", "yes"),
    ("64歳", "no"), ("58歳です", "no"), ("五十代", "no"), ("60歳未満", "no"), ("いいえ、50です", "no"),
    ("60代", None), ("60歳以上", None), ("65歳以下", None),  # either side of 65: asked again
    ("はい、50歳です", None), ("いいえ、70歳", None),          # contradicts itself: asked again
    ("70か80", None), ("200歳", None), ("0歳", None),
    ("わかりません", "unknown"), ("はい", "yes"),
])
def test_age_said_as_a_number(understanding: Understanding, said: str, expected: str | None) -> None:
    assert understanding.understand(said, YES_NO, yes_from_age=65).answer == expected


def test_numbers_answer_only_the_age_question(understanding: Understanding) -> None:
    assert understanding.understand("72歳です", YES_NO).answer is None
    assert understanding.understand("3日前", YES_NO, yes_from_age=65).answer is None


def test_recognizer_unknown_is_an_answer_only_when_wakarimasen_was_said(understanding: Understanding) -> None:
    assert understanding.from_recognition(Recognition("unknown", "わかり ませ ん", 0.9)).answer == "unknown"
    assert understanding.from_recognition(Recognition("unknown", "", 0.0)).answer is None
    assert understanding.from_recognition(Recognition("unknown", "[unk]", 0.3)).answer is None
    assert understanding.from_recognition(Recognition("yes", "はい", 0.8)).answer == "yes"


CONTENT = Content.load()
UNDERSTANDING = Understanding(CONTENT.phrases, Normalizer.load())


@settings(max_examples=400, deadline=None)
@given(text=st.text(max_size=60))
def test_any_text_is_handled(text: str) -> None:
    heard = UNDERSTANDING.understand(text, YES_NO)
    assert heard.answer in (*YES_NO, None)


@settings(max_examples=200, deadline=None)
@given(prefix=st.text(alphabet="あいうえおかきくけこ、。 ", max_size=8),
       suffix=st.text(alphabet="あいうえおかきくけこ、。 ", max_size=8))
def test_yes_and_no_together_are_never_taken_as_one_of_them(prefix: str, suffix: str) -> None:
    assert UNDERSTANDING.understand(f"はい{prefix}いいえ{suffix}", YES_NO).answer in (None, "emergency")
