"""The weekly digest: when a store's is due, which week it covers, and what a manager reads.

Sent on Monday from SEND_HOUR store-local time, about the store's last local ISO week
(Monday 00:00 to the next Monday 00:00). A figure is read from ENOUGH_RESPONSES answers,
as the satisfaction API reads one; a trend needs that many in both weeks.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from .aggregates import ENOUGH_RESPONSES, Tally, bucket_start, figures, has_nps
from .survey import Store
from .text import quote_for_notification

SEND_HOUR = 8  # store-local, on Monday
TOP_REASONS = 3
LABEL_LIMIT = 80  # a kiosk label's characters in the message (labels are staff-entered)


def digest_due(now: datetime, zone: str) -> bool:
    """Whether a store in `zone` gets its digest at `now`: Monday, SEND_HOUR or later."""
    local = now.astimezone(ZoneInfo(zone))
    return local.weekday() == 0 and local.hour >= SEND_HOUR


def week_before(now: datetime, zone: str) -> datetime:
    """The start (store-local Monday 00:00) of the week before the one holding `now`."""
    this_week = bucket_start(now, zone, "week")
    return bucket_start(this_week - timedelta(minutes=1), zone, "week")


def week_label(start: datetime) -> str:
    """The ISO week of a week's start, as YYYY-Www (2026-W48)."""
    iso = start.isocalendar()
    return f"{iso.year}-W{iso.week:02d}"


def digest_message(
    store: Store,
    start: datetime,
    week: Tally,
    previous: Tally,
    recovery: Mapping[str, Any],
    silent_kiosks: Sequence[tuple[str, str | None]],
) -> tuple[str, str]:
    """The subject and the plain-text message of the store's digest of the week from `start`:
    `week` and `previous` are its tally and the week before's, `recovery` the recovery
    figures of its callback tasks (domain.tasks.recovery_metrics), `silent_kiosks` the
    (kiosk_id, label) of its paired kiosks silent now."""
    label = week_label(start)
    last_day = start + timedelta(days=6)
    lines = [
        f"{store.name}, week {label} ({start:%Y-%m-%d} to {last_day:%Y-%m-%d}, {store.timezone})",
        f"Responses: {week.responses} (the week before: {previous.responses})",
        _satisfaction_line(store, week, previous),
        _reasons_line(week),
        _callbacks_line(recovery),
        _kiosks_line(silent_kiosks),
    ]
    # The week first: SNS cuts a subject at 100 characters, and store names run to 120.
    return f"storepulse weekly digest {label}: {store.name}", "\n".join(lines)


def _satisfaction_line(store: Store, week: Tally, previous: Tally) -> str:
    scale = store.survey.scale
    name = "NPS" if has_nps(scale) else "CSAT"
    if week.responses < ENOUGH_RESPONSES:
        return f"{name}: too few answers ({week.responses}); too few answers to compare"
    figure = _figure(week, has_nps(scale), store)
    shown = f"{figure:+d}" if name == "NPS" else f"{figure}%"
    if previous.responses < ENOUGH_RESPONSES:
        return f"{name}: {shown} (too few answers to compare)"
    change = figure - _figure(previous, has_nps(scale), store)
    trend = f"{change:+d} points" if change else "no change"
    return f"{name}: {shown} ({trend} vs the week before)"


def _figure(tally: Tally, nps: bool, store: Store) -> int:
    """CSAT in whole percent, or NPS in whole points (the trend is their difference)."""
    values = figures(tally.responses, tally.total, tally.distribution, store.survey.scale)
    figure: float = values["nps"] if nps else 100 * values["csat"]
    return round(figure)


def _reasons_line(week: Tally) -> str:
    named = sorted(
        ((reason, count) for reason, count in week.reasons.items() if count),
        key=lambda item: (-item[1], item[0]),
    )[:TOP_REASONS]
    if not named:
        return "Top reasons: none given"
    return "Top reasons: " + ", ".join(f"{reason} ({count})" for reason, count in named)


def _callbacks_line(recovery: Mapping[str, Any]) -> str:
    """Of the week's callback tasks, how many were resolved by their deadline."""
    tasks = int(recovery.get("tasks") or 0)
    if not tasks:
        return "Callbacks: none requested"
    resolved = int(recovery.get("resolved") or 0)
    share = recovery.get("within_deadline_share")
    on_time = round(float(share) * resolved) if share is not None else 0
    still_open = int(recovery.get("open") or 0)
    return f"Callbacks resolved on time: {on_time} of {tasks}" + (
        f" ({still_open} still open)" if still_open else ""
    )


def _kiosks_line(silent_kiosks: Sequence[tuple[str, str | None]]) -> str:
    if not silent_kiosks:
        return "All kiosks reporting"
    named = [
        f"{quote_for_notification(label, LABEL_LIMIT)} ({kiosk_id})" if label else kiosk_id
        for kiosk_id, label in silent_kiosks
    ]
    return "Silent kiosks: " + ", ".join(named)
