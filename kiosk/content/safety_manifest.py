"""The safety manifest: what no edit of the content may remove, relabel, reorder or weaken.

Pinned here, in the program, and not in the YAML: the labels of questions.yaml and rules.yaml (`section:`,
`level:`) are exactly what a content edit changes, so they cannot also be what the edit is checked against.
A site's content folder ([content] folder) never replaces this. It pins question ids and properties, not
wording: the texts may be reworded freely. Checked on every content load (every start, `kiosk check`,
`kiosk doctor`) by kiosk/content/safety.py, with errors naming the content file, the item and the field.
"""

from __future__ import annotations

from kiosk.content.levels import CONSULT, EMERGENCY, URGENT

MANIFEST = "kiosk/content/safety_manifest.py"
"""How the messages name this manifest."""

STROKE_GATE: dict[str, str] = {
    # BE-FAST (CLINICAL.md#stroke-signs); each must exist, be in the stroke section (a safety gate: an unsure
    # 「いいえ」 is asked again), be asked of everyone before any question outside that section, take yes/no,
    # and its 「はい」 alone must fire an emergency rule.
    "stroke_limb": "sudden weakness of one arm or leg (the leg included: BE-FAST, Aroor et al. 2017)",
    "stroke_face": "one side of the face drooping or numb (Face)",
    "stroke_speech": "slurred speech or words not coming (Speech)",
    "stroke_vision": "sudden loss or doubling of vision (Eyes)",
    "stroke_balance": "sudden loss of balance, cannot stand without support (Balance)",
    "stroke_numbness": "sudden numbness of one side of the body (消防庁's 突然のしびれ)",
}

RED_FLAGS: dict[str, str] = {
    # Red flags for the back and legs (CLINICAL.md#red-flags-for-low-back--leg-weakness): each must exist,
    # stay in the red_flag section (no ask_if; after the stroke signs and the complaint, before the history; an
    # unsure 「いいえ」 asked again), and its 「はい」 must fire a rule of at least this level for every complaint
    # RED_FLAG_SCOPES gives it (alone, where it gives none).
    "rf_bladder": EMERGENCY,  # cauda equina: same-day emergency care
    "rf_saddle": EMERGENCY,
    "rf_cannot_stand": URGENT,
    "rf_leg_weak": URGENT,
    "rf_foot_drop": URGENT,
    "rf_both_legs": URGENT,
    "rf_progressive": URGENT,
    "rf_fall": URGENT,
    "rf_fever": URGENT,
    "rf_night_pain": CONSULT,
    "rf_cancer": CONSULT,
    "rf_weight_loss": CONSULT,
}

Scope = tuple[dict[str, tuple[str, ...]], ...]
"""Complaints, as alternatives of answers to the complaint questions (place, kind, side, onset, duration)."""


def scope(*alternatives: dict[str, tuple[str, ...]]) -> Scope:
    return alternatives


BACK_OR_LEG: dict[str, tuple[str, ...]] = {"place": ("back", "leg", "thigh", "unknown")}
WEAKNESS: dict[str, tuple[str, ...]] = {"kind": ("weak", "unknown")}

RED_FLAG_SCOPES: dict[str, Scope] = {
    # Where CLINICAL.md applies each red flag. Its list is for the low back and leg weakness; the knee has flags
    # of its own (a hot swollen knee with fever, locking, swelling, giving way more often), and a knee that gives
    # way is leg weakness too (seed 004: the lumbar nerves). A red flag is not asked outside its scope (the
    # rules cannot fire there: kiosk/content/relevance.py); inside it, its 「はい」 must reach its level.
    "rf_bladder": scope(BACK_OR_LEG, WEAKNESS),
    "rf_saddle": scope(BACK_OR_LEG, WEAKNESS),
    "rf_cannot_stand": scope({"place": ("back", "unknown")}, WEAKNESS),  # with the signs of weakness; 立てない
    # legs weak with the trouble: for the back (seed 001's 赤信号, 002's 片脚だけ), and legs in pain
    "rf_leg_weak": scope({"place": ("back", "unknown")}, {"place": ("leg", "thigh"), "kind": ("pain", "unknown")}),
    "rf_foot_drop": scope({"place": ("leg", "thigh", "unknown"), "kind": ("weak", "unknown")}),
    # both legs newly weak: a knee complaint; for the legs and back the complaint (両方, 力が入らない, 数日) and
    # rf_leg_weak say it, and rules.yaml's both_legs_new fires on them
    "rf_both_legs": scope({"place": ("knee", "unknown"), "kind": ("weak", "unknown")}),
    "rf_progressive": scope(WEAKNESS),  # progressive weakness
    "rf_fall": scope({"onset": ("sudden",), "duration": ("today", "yesterday", "days")}),  # a fall began it
    "rf_night_pain": scope({"place": ("back", "leg", "thigh", "unknown"), "kind": ("pain", "unknown")}),
    "rf_cancer": scope(BACK_OR_LEG),
    "rf_weight_loss": scope(BACK_OR_LEG),
}

EMERGENCY_DEPARTMENTS: tuple[str, ...] = ("neuro",)
"""Named first in an emergency raised by a call for help (救急車, 助けて), and among the emergency level's
default departments: where an ambulance takes a person with possible stroke signs."""

SELF_CARE_ONLY_DEPARTMENTS: tuple[str, ...] = ("rehab",)
"""Places that are not medical institutions (整骨院・リハビリ外来): never named above the self_care level,
whatever the rules or the level's defaults say."""
