"""The weekly digest's text and timing with plain values (domain/digest.py)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from chalicelib.domain.aggregates import Tally
from chalicelib.domain.digest import digest_due, digest_message, week_before, week_label
from chalicelib.domain.survey import DEFAULT_SURVEY, Scale, Store

pytestmark = pytest.mark.unit

NEW_YORK = ZoneInfo("America/New_York")
WEEK = datetime(2026, 11, 23, tzinfo=NEW_YORK)  # Monday of 2026-W48
STORE = Store(
    store_id="store-a", name="Main Street", timezone="America/New_York", survey=DEFAULT_SURVEY
)
NPS_STORE = STORE.model_copy(
    update={"survey": DEFAULT_SURVEY.model_copy(update={"scale": Scale(kind="nps", min=0, max=10)})}
)
NO_CALLBACKS: dict[str, Any] = {"tasks": 0, "open": 0, "resolved": 0, "within_deadline_share": None}


def tally(reasons: dict[str, int] | None = None, **scores: int) -> Tally:
    """tally(s1=3, s5=7): three 1s and seven 5s; `reasons` named by the first answers."""
    result = Tally()
    named = [reason for reason, count in (reasons or {}).items() for _ in range(count)]
    for key, count in scores.items():
        for _ in range(count):
            rating: dict[str, Any] = {"score": int(key[1:]), "channel": "kiosk", "source_id": "k1"}
            if named:
                rating["reasons"] = [named.pop()]
            result.add_rating(rating)
    return result


def lines(
    week: Tally,
    previous: Tally,
    *,
    store: Store = STORE,
    recovery: dict[str, Any] = NO_CALLBACKS,
    silent: list[tuple[str, str | None]] | None = None,
) -> list[str]:
    return digest_message(store, WEEK, week, previous, recovery, silent or [])[1].split("\n")


def test_csat_with_its_change_in_points_vs_the_week_before():
    subject, message = digest_message(
        STORE, WEEK, tally(s5=32, s2=8), tally(s5=21, s1=9), NO_CALLBACKS, []
    )

    assert subject == "storepulse weekly digest 2026-W48: Main Street"
    assert message.split("\n") == [
        "Main Street, week 2026-W48 (2026-11-23 to 2026-11-29, America/New_York)",
        "Responses: 40 (the week before: 30)",
        "CSAT: 80% (+10 points vs the week before)",
        "Top reasons: none given",
        "Callbacks: none requested",
        "All kiosks reporting",
    ]


def test_a_fall_and_no_change():
    assert (
        lines(tally(s5=15, s1=15), tally(s5=30))[2] == "CSAT: 50% (-50 points vs the week before)"
    )
    assert lines(tally(s4=30), tally(s5=40))[2] == "CSAT: 100% (no change vs the week before)"


def test_nps_instead_of_csat_on_a_0_to_10_scale():
    week = tally(s10=20, s8=5, s3=5)  # 20 promoters, 5 detractors of 30: +50
    previous = tally(s9=15, s7=10, s0=15)  # 15 promoters, 15 detractors of 40: 0

    assert lines(week, previous, store=NPS_STORE)[2] == "NPS: +50 (+50 points vs the week before)"
    assert lines(previous, week, store=NPS_STORE)[2] == "NPS: +0 (-50 points vs the week before)"


@pytest.mark.parametrize(
    ("week", "previous", "expected"),
    [
        (tally(s5=29), tally(s5=40), "CSAT: too few answers (29); too few answers to compare"),
        (tally(s5=30), tally(s5=29), "CSAT: 100% (too few answers to compare)"),
        (tally(), tally(), "CSAT: too few answers (0); too few answers to compare"),
    ],
)
def test_too_few_answers_in_either_week_gives_no_trend(week, previous, expected):
    assert lines(week, previous)[1:3] == [
        f"Responses: {week.responses} (the week before: {previous.responses})",
        expected,
    ]


def test_the_top_three_reasons_by_count():
    week = tally({"staff": 2, "wait_time": 5, "price": 2, "product": 1}, s1=10, s5=20)

    assert lines(week, tally())[3] == "Top reasons: wait_time (5), price (2), staff (2)"


def test_callbacks_resolved_on_time_of_the_weeks_callbacks():
    recovery = {"tasks": 5, "open": 1, "resolved": 4, "within_deadline_share": 0.75}
    all_late = {"tasks": 2, "open": 0, "resolved": 2, "within_deadline_share": 0.0}
    none_resolved = {"tasks": 2, "open": 2, "resolved": 0, "within_deadline_share": None}

    assert lines(tally(), tally(), recovery=recovery)[4] == (
        "Callbacks resolved on time: 3 of 5 (1 still open)"
    )
    assert lines(tally(), tally(), recovery=all_late)[4] == "Callbacks resolved on time: 0 of 2"
    assert lines(tally(), tally(), recovery=none_resolved)[4] == (
        "Callbacks resolved on time: 0 of 2 (2 still open)"
    )


def test_silent_kiosks_by_label_and_id():
    silent = [("k-1", "Front door"), ("k-2", None)]

    assert lines(tally(), tally(), silent=silent)[5] == "Silent kiosks: “Front door” (k-1), k-2"


def test_a_staff_entered_label_cannot_forge_a_line_or_a_link():
    label = "Till\nOVERDUE: call https://evil.example/x <!here>" + "x" * 100

    (line,) = [
        line
        for line in lines(tally(), tally(), silent=[("k-9", label)])
        if line.startswith("Silent")
    ]

    assert line.startswith("Silent kiosks: “Till OVERDUE: call hxxps[:]//evil[.]example/x ‹!here›")
    assert line.endswith("…” (k-9)")
    assert len(line) <= len("Silent kiosks: “” (k-9)") + 80


@pytest.mark.parametrize(
    ("at", "due"),
    [
        ("2026-11-29T23:59:00-05:00", False),  # Sunday
        ("2026-11-30T07:59:00-05:00", False),
        ("2026-11-30T08:00:00-05:00", True),
        ("2026-11-30T23:59:00-05:00", True),
        ("2026-12-01T08:00:00-05:00", False),  # Tuesday
    ],
)
def test_due_on_monday_from_eight_local(at, due):
    assert digest_due(datetime.fromisoformat(at), "America/New_York") is due


def test_the_week_is_the_local_iso_week_before():
    monday = datetime(2026, 11, 30, 13, 0, tzinfo=UTC)  # 08:00 in New York
    start = week_before(monday, "America/New_York")

    assert start == datetime(2026, 11, 23, tzinfo=NEW_YORK)
    assert week_label(start) == "2026-W48"
    # Over the turn of the year the ISO week keeps its own year.
    assert week_label(week_before(datetime(2027, 1, 4, 9, tzinfo=UTC), "UTC")) == "2026-W53"
