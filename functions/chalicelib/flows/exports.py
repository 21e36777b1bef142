"""A store's ratings and satisfaction buckets as CSV: the ratings a page at a time, read by
tap time from the rating log the aggregation run keeps (so an export holds exactly the
ratings the figures count), each row from the rating's item as it is now.

Loaded on first use, as the satisfaction figures are: the kiosk ingest path never needs it."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import islice
from typing import Protocol
from zoneinfo import ZoneInfo

from ..domain.exports import (
    RATINGS_HEADER,
    SATISFACTION_HEADER,
    bucket_row,
    csv_lines,
    csv_page,
    rating_row,
)
from ..domain.survey import Store
from ..errors import BadRequest
from ..storage import rating_log, ratings
from ..storage.rating_log import LoggedRating
from .satisfaction import DEFAULT_SPAN as FIGURES_SPAN
from .satisfaction import Asked, store_figures

# Rows of one answer: a Lambda answer is at most 6 MB, and a row is at most about 900
# bytes (a 500-character comment, in the worst case three bytes a character, quoted).
EXPORT_PAGE_ROWS = 5_000
# The body of one answer at most, as the Lambda answer (at most 6 MB with its headers)
# carries it: 5,000 rows of 500-character comments in Chinese would be over 15 MB.
EXPORT_PAGE_BYTES = 5_000_000
# Ratings read at once: BATCHES_IN_FLIGHT BatchGetItems of 100 (storage.ratings_by_id).
FETCH_GROUP = 400
DEFAULT_SPAN = timedelta(days=30)
MAX_SPAN = timedelta(days=400)


class Period(Protocol):
    def period(self, zone: str, at: datetime, default_span: timedelta) -> tuple[datetime, datetime]:
        """[start, end) in the store's zone `zone`; `default_span` if the start is left out."""
        ...


@dataclass(frozen=True)
class CsvPage:
    """One answer of an export: a whole CSV file, the period's first and last local days
    (the file's name says them) and, when rows remain, the cursor of the next page."""

    text: str
    first_day: str
    last_day: str
    next_cursor: str | None = None


def ratings_page(
    store: Store,
    asked: Period,
    cursor: str | None,
    at: datetime,
    *,
    page_rows: int | None = None,
) -> CsvPage:
    """The page of the store's ratings tapped in the asked period (by default the last 30
    days; at most MAX_SPAN) after `cursor` (None: the first page), by tap time: at most
    `page_rows` rows (None: EXPORT_PAGE_ROWS, read now, so tests may make pages small), and
    fewer when they would not fit in EXPORT_PAGE_BYTES."""
    page_rows = page_rows or EXPORT_PAGE_ROWS
    start, end = _bounded(store, asked, at)
    after = _decoded(cursor, start, end) if cursor is not None else None
    logged = list(
        islice(rating_log.logged_ratings(store.store_id, start, end, after), page_rows + 1)
    )
    lines: list[str] = []
    size = 0
    last: LoggedRating | None = None
    more = len(logged) > page_rows
    for entry, line in _lines(logged[:page_rows], store.survey.scale.max):
        # As the Lambda answer carries the body: a JSON string (non-ASCII escaped).
        size += len(json.dumps(line)) if line else 0
        if size > EXPORT_PAGE_BYTES and lines:
            more = True
            break
        if line:
            lines.append(line)
        last = entry
    return CsvPage(
        csv_page(RATINGS_HEADER, lines),
        *_days(store, start, end),
        _encoded(last) if more and last is not None else None,
    )


def _lines(shown: list[LoggedRating], scale_max: int) -> Iterator[tuple[LoggedRating, str | None]]:
    """Each logged rating and its CSV line (None: its item is gone), from the items as
    stored now, read FETCH_GROUP at a time (side by side) and written out before the next:
    a page holds its text and one group of ratings, not all of its ratings."""
    for index in range(0, len(shown), FETCH_GROUP):
        group = shown[index : index + FETCH_GROUP]
        found = ratings.ratings_by_id([entry.rating_id for entry in group])
        rows = [rating_row(found[e.rating_id], scale_max) for e in group if e.rating_id in found]
        written = iter(csv_lines(rows))
        for entry in group:
            yield entry, next(written) if entry.rating_id in found else None


def satisfaction_page(store: Store, asked: Asked, at: datetime) -> CsvPage:
    """The store's buckets of the asked period (not the period before), one row each: the
    same figures as the satisfaction endpoint's."""
    figures = store_figures(store, asked, at)
    rows = [bucket_row(store.store_id, bucket) for bucket in figures["buckets"]]
    period = asked.period(store.timezone, at, FIGURES_SPAN[asked.granularity])
    return CsvPage(csv_page(SATISFACTION_HEADER, csv_lines(rows)), *_days(store, *period))


def _bounded(store: Store, asked: Period, at: datetime) -> tuple[datetime, datetime]:
    start, end = asked.period(store.timezone, at, DEFAULT_SPAN)
    if end - start > MAX_SPAN:
        raise BadRequest(f"at most {MAX_SPAN.days} days of ratings in one export")
    return start, end


def _days(store: Store, start: datetime, end: datetime) -> tuple[str, str]:
    zone = ZoneInfo(store.timezone)
    last = end - timedelta(microseconds=1)
    return start.astimezone(zone).date().isoformat(), last.astimezone(zone).date().isoformat()


def _encoded(last: LoggedRating) -> str:
    raw = f"{last.tapped_at}|{last.rating_id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decoded(cursor: str, start: datetime, end: datetime) -> LoggedRating:
    """The page's last rating that a cursor names; 400 if it is not a cursor of this period
    (opaque to clients: made by `_encoded`, only ever copied from a Link header)."""
    bad = BadRequest(
        "the cursor is not valid: use the Link header's URL as it is",
        [{"field": "cursor", "message": "not a cursor of this export"}],
    )
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        tapped_at, rating_id = text.split("|", 1)
        moment = datetime.fromisoformat(tapped_at)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise bad from None
    if moment.tzinfo is None or not start <= moment < end or not rating_id or "|" in rating_id:
        raise bad
    return LoggedRating(tapped_at, rating_id)
