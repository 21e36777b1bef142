"""Satisfaction aggregates: tallies of ratings per store and bucket, and what they mean.

A tally holds only sums and counts, so tallies of disjoint sets of ratings add up. Derived
figures (mean, CSAT, NPS) are computed when a bucket is read, from the summed tally.

Top-box rules (CSAT = share of satisfied answers):
- 0-10 scales: 9-10 (the NPS promoters); NPS = % promoters (9-10) - % detractors (0-6).
- scales of 4 points or more: the top two points (4-5 on 1-5, 6-7 on 1-7, 3-4 on 1-4).
- 3-point scales: the top point.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field

from .survey import Scale

Granularity = Literal["hour", "day", "week"]
CHANNELS = ("kiosk", "sms", "link")  # every bucket lists each (link: the survey on a phone)
GRANULARITIES: tuple[Granularity, ...] = ("hour", "day", "week")


class ChannelTally(BaseModel):
    """One channel's share of a tally: enough for every figure of the bucket, per channel.
    (Partials written before `distribution` was kept lack it: a rebuild adds it.)"""

    model_config = ConfigDict(defer_build=True)  # built on first use, not at cold start

    responses: int = 0
    total: int = 0
    distribution: dict[str, int] = Field(default_factory=dict)


class KioskTally(BaseModel):
    """One kiosk's share of a tally (partials written before kiosks were kept lack it: a
    rebuild adds it)."""

    model_config = ConfigDict(defer_build=True)

    responses: int = 0
    total: int = 0


class Tally(BaseModel):
    """Counts and sums of a set of ratings; `filtered` counts the answers left out: repeat
    presses, and answers of a visit another answer counts for (`same_visit`)."""

    model_config = ConfigDict(defer_build=True)

    responses: int = 0
    filtered: int = 0
    total: int = 0
    distribution: dict[str, int] = Field(default_factory=dict)
    expectation: dict[str, int] = Field(default_factory=dict)
    reasons: dict[str, int] = Field(default_factory=dict)
    channels: dict[str, ChannelTally] = Field(default_factory=dict)
    kiosks: dict[str, KioskTally] = Field(default_factory=dict)

    def add_rating(self, rating: Mapping[str, Any]) -> None:
        """Count one rating as the arrivals index projects it."""
        if rating.get("burst") or rating.get("same_visit"):
            self.filtered += 1
            return
        score = int(rating["score"])
        self.responses += 1
        self.total += score
        _bump(self.distribution, str(score))
        if rating.get("expectation"):
            _bump(self.expectation, str(rating["expectation"]))
        for reason in rating.get("reasons") or ():
            _bump(self.reasons, str(reason))
        channel = self.channels.setdefault(str(rating["channel"]), ChannelTally())
        channel.responses += 1
        channel.total += score
        _bump(channel.distribution, str(score))
        if rating["channel"] == "kiosk":
            kiosk = self.kiosks.setdefault(str(rating["source_id"]), KioskTally())
            kiosk.responses += 1
            kiosk.total += score

    def merge(self, other: Tally) -> None:
        self.responses += other.responses
        self.filtered += other.filtered
        self.total += other.total
        for mine, theirs in (
            (self.distribution, other.distribution),
            (self.expectation, other.expectation),
            (self.reasons, other.reasons),
        ):
            for key, count in theirs.items():
                _bump(mine, key, count)
        for name, tally in other.channels.items():
            channel = self.channels.setdefault(name, ChannelTally())
            channel.responses += tally.responses
            channel.total += tally.total
            for key, count in tally.distribution.items():
                _bump(channel.distribution, key, count)
        for name, part in other.kiosks.items():
            kiosk = self.kiosks.setdefault(name, KioskTally())
            kiosk.responses += part.responses
            kiosk.total += part.total


def _bump(counts: dict[str, int], key: str, by: int = 1) -> None:
    counts[key] = counts.get(key, 0) + by


def bucket_start(moment: datetime, zone: str, granularity: Granularity) -> datetime:
    """Start of the store-local hour, day or week (Monday) holding `moment`, in local time."""
    local = moment.astimezone(ZoneInfo(zone))
    if granularity == "hour":
        return local.replace(minute=0, second=0, microsecond=0)
    midnight = datetime(local.year, local.month, local.day, tzinfo=ZoneInfo(zone))
    if granularity == "day":
        return midnight
    monday = midnight - timedelta(days=midnight.weekday())
    return datetime(monday.year, monday.month, monday.day, tzinfo=ZoneInfo(zone))


def next_bucket(start: datetime, granularity: Granularity) -> datetime:
    """The start of the following bucket (wall-clock arithmetic, so DST days have 23/25 h)."""
    zone = start.tzinfo
    if granularity == "hour":
        return (start.astimezone(ZoneInfo("UTC")) + timedelta(hours=1)).astimezone(zone)
    days = 1 if granularity == "day" else 7
    following = start.replace(tzinfo=None) + timedelta(days=days)
    return following.replace(tzinfo=zone)


def tally_ratings(
    ratings: Iterable[Mapping[str, Any]], zone_of: dict[str, str]
) -> dict[tuple[str, Granularity, datetime], Tally]:
    """Tallies per (store, granularity, bucket start) of ratings (arrivals index items)."""
    tallies: dict[tuple[str, Granularity, datetime], Tally] = {}
    for rating in ratings:
        store_id = str(rating["store_id"])
        tapped_at = datetime.fromisoformat(str(rating["tapped_at"]))
        for granularity in GRANULARITIES:
            start = bucket_start(tapped_at, zone_of[store_id], granularity)
            tallies.setdefault((store_id, granularity, start), Tally()).add_rating(rating)
    return tallies


def top_box(scale: Scale) -> int:
    """The lowest score that counts as satisfied on this scale (see the module docstring)."""
    points = scale.max - scale.min + 1
    if scale.kind == "nps" or (scale.min == 0 and scale.max == 10):
        return 9
    return scale.max - 1 if points >= 4 else scale.max


def has_nps(scale: Scale) -> bool:
    """NPS is defined on the 0-10 scale only."""
    return scale.min == 0 and scale.max == 10


def figures(responses: int, total: int, counts: dict[str, int], scale: Scale) -> dict[str, Any]:
    """`mean`, the full `distribution`, `csat` and `nps` (None where the scale has none) of
    `responses` answers summing to `total` with these counts per score."""
    distribution = {str(s): counts.get(str(s), 0) for s in range(scale.min, scale.max + 1)}
    satisfied = sum(n for s, n in distribution.items() if int(s) >= top_box(scale))
    nps = None
    if responses and has_nps(scale):
        promoters = sum(n for s, n in distribution.items() if int(s) >= 9)
        detractors = sum(n for s, n in distribution.items() if int(s) <= 6)
        nps = round(100 * (promoters - detractors) / responses, 1)
    return {
        "mean": round(total / responses, 3) if responses else None,
        "distribution": distribution,
        "csat": round(satisfied / responses, 4) if responses else None,
        "nps": nps,
    }


# A bucket's share is read on its own from this many answers. Below it one answer moves the
# share by more than 3 points and its 95 % interval is wider than about ±17 points (CSAT
# near 0.5), so the figure says "too few" instead of swinging; docs/api.md states it.
ENOUGH_RESPONSES = 30
_Z95 = 1.959964  # the standard normal's 97.5th percentile


def wilson_interval(satisfied: int, responses: int) -> tuple[float, float] | None:
    """The Wilson score interval (95 %) of the share `satisfied / responses`, which, unlike
    the share plus or minus its standard error, stays inside 0..1 and is honest for small
    counts; None without answers."""
    if responses <= 0:
        return None
    share, z2 = satisfied / responses, _Z95 * _Z95
    scale = 1 + z2 / responses
    centre = (share + z2 / (2 * responses)) / scale
    half = _Z95 * math.sqrt(share * (1 - share) / responses + z2 / (4 * responses**2)) / scale
    return round(max(0.0, centre - half), 4), round(min(1.0, centre + half), 4)


def bucket_view(start: datetime, tally: Tally, scale: Scale) -> dict[str, Any]:
    """A bucket as the satisfaction API shows it: the figures of all answers (with the CSAT's
    Wilson interval and whether there are enough answers to read it alone), and the same
    figures per channel."""
    whole = figures(tally.responses, tally.total, tally.distribution, scale)
    channels = {}
    for name in CHANNELS:
        channel = tally.channels.get(name, ChannelTally())
        channels[name] = {"responses": channel.responses} | figures(
            channel.responses, channel.total, channel.distribution, scale
        )
    return {
        "start": start.isoformat(),
        "responses": tally.responses,
        "filtered": tally.filtered,
        "mean": whole["mean"],
        "distribution": whole["distribution"],
        "csat": whole["csat"],
        "nps": whole["nps"],
        "csat_interval": _interval(tally, scale),
        "enough": tally.responses >= ENOUGH_RESPONSES,
        "expectation": {
            key: tally.expectation.get(key, 0) for key in ("worse", "as_expected", "better")
        },
        "reasons": dict(sorted(tally.reasons.items())),
        "channels": channels,
        "kiosks": {
            kiosk_id: {"responses": part.responses, "mean": round(part.total / part.responses, 3)}
            for kiosk_id, part in sorted(tally.kiosks.items())
            if part.responses
        },
    }


def _interval(tally: Tally, scale: Scale) -> list[float] | None:
    satisfied = sum(
        count for score, count in tally.distribution.items() if int(score) >= top_box(scale)
    )
    interval = wilson_interval(satisfied, tally.responses)
    return list(interval) if interval else None
