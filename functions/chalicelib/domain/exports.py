"""The CSV exports' rows: a store's ratings, and its satisfaction buckets, as spreadsheets
open them. Pure: the flows read what the rows are made of.

Every page is a whole file (the UTF-8 byte order mark, so spreadsheet programs read UTF-8,
then the header), so a page opens on its own. A text cell that starts with `=`, `+`, `-`,
`@`, a tab or a carriage return gets a leading `'`: a spreadsheet would run it as a formula
(CSV injection). Numbers are written as numbers, never changed.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from .ratings import Rating

BOM = "\ufeff"
RATINGS_HEADER = (
    "rating_id",
    "store_id",
    "kiosk_id",
    "channel",
    "score",
    "scale_max",
    "tapped_at",
    "received_at",
    "reasons",
    "comment",
    "expectation",
    "burst",
    "survey_version",
)
SATISFACTION_HEADER = (
    "store_id",
    "start",
    "responses",
    "filtered",
    "mean",
    "csat",
    "csat_low",
    "csat_high",
    "enough",
    "nps",
    "worse",
    "as_expected",
    "better",
    "kiosk_responses",
    "sms_responses",
    "link_responses",
    "reasons",
)
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralised(text: str) -> str:
    """A text cell a spreadsheet shows as text, never runs as a formula."""
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def _moment(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds")


def rating_row(rating: Rating, scale_max: int) -> list[str]:
    """One rating as RATINGS_HEADER orders it (never its contact): reasons joined by `;`,
    kiosk_id empty but for a kiosk's rating, times in UTC to the millisecond."""
    texts = [
        rating.rating_id,
        rating.store_id,
        rating.source_id if rating.channel == "kiosk" else "",
        rating.channel,
    ]
    return [
        *(neutralised(text) for text in texts),
        str(rating.score),
        str(scale_max),
        _moment(rating.tapped_at),
        _moment(rating.received_at),
        neutralised(";".join(rating.reasons)),
        neutralised(rating.comment or ""),
        rating.expectation or "",
        "true" if rating.burst else "false",
        str(rating.survey_version),
    ]


def _number(value: float | None) -> str:
    return "" if value is None else repr(value)


def bucket_row(store_id: str, bucket: Mapping[str, Any]) -> list[str]:
    """One satisfaction bucket (as the satisfaction endpoint shows it) as SATISFACTION_HEADER
    orders it: an empty cell where a figure is null, reasons as `wait_time:3;staff:1`
    (most named first)."""
    low, high = bucket.get("csat_interval") or (None, None)
    channels = bucket.get("channels", {})
    expectation = bucket["expectation"]
    reasons = sorted(bucket["reasons"].items(), key=lambda pair: (-pair[1], pair[0]))
    return [
        neutralised(store_id),
        bucket["start"],
        str(bucket["responses"]),
        str(bucket["filtered"]),
        _number(bucket["mean"]),
        _number(bucket["csat"]),
        _number(low),
        _number(high),
        "true" if bucket.get("enough") else "false",
        _number(bucket["nps"]),
        str(expectation["worse"]),
        str(expectation["as_expected"]),
        str(expectation["better"]),
        *(str(channels.get(name, {}).get("responses", 0)) for name in ("kiosk", "sms", "link")),
        neutralised(";".join(f"{reason}:{count}" for reason, count in reasons)),
    ]


def csv_lines(rows: Iterable[list[str]]) -> list[str]:
    """Each row as one CSV record (RFC 4180: CRLF, cells quoted where they hold a comma, a
    quote or a line break)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    lines = []
    for row in rows:
        writer.writerow(row)
        lines.append(out.getvalue())
        out.seek(0)
        out.truncate()
    return lines


def csv_page(header: Iterable[str], lines: Iterable[str]) -> str:
    """A whole CSV file: the byte order mark, the header, the records (of `csv_lines`)."""
    # The mark added last: a text of ASCII is held at a byte a character until then.
    return BOM + "".join([*csv_lines([list(header)]), *lines])
