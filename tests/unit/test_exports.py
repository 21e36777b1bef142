"""The CSV exports on plain values: the rows (formula cells neutralised, every field as
stored, never a contact), the rating log's writes, the cursor's checks, and 200,000 ratings
exported page by page in bounded memory (a fake rating log and rating store at the storage
seam: what is measured is the export's own holding)."""

from __future__ import annotations

import base64
import csv
import io
import json
import tracemalloc
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from chalicelib.api.export_routes import RatingsExportQuery
from chalicelib.domain.aggregates import Tally, bucket_view, tally_ratings
from chalicelib.domain.exports import (
    RATINGS_HEADER,
    SATISFACTION_HEADER,
    bucket_row,
    csv_lines,
    csv_page,
    neutralised,
    rating_row,
)
from chalicelib.domain.ratings import Contact, Rating
from chalicelib.domain.survey import DEFAULT_SURVEY
from chalicelib.errors import BadRequest
from chalicelib.flows import exports
from chalicelib.storage import rating_log, ratings
from chalicelib.storage.rating_log import LoggedRating
from tests.conftest import make_store

STORE = make_store("store-a")
AT = datetime(2026, 11, 20, 18, 30, tzinfo=UTC)
TAPPED = datetime(2026, 11, 1, 4, 0, tzinfo=UTC)  # midnight in New York


def rating(**overrides: object) -> Rating:
    values: dict[str, object] = {
        "rating_id": "r-1",
        "store_id": "store-a",
        "channel": "kiosk",
        "source_id": "k-1",
        "survey_id": "default-smiley-5",
        "score": 4,
        "tapped_at": TAPPED,
        "received_at": TAPPED + timedelta(seconds=20),
    }
    return Rating.model_validate(values | overrides)


def rows_of(text: str) -> Iterator[dict[str, str]]:
    assert text.startswith("\ufeff")
    return csv.DictReader(io.StringIO(text.removeprefix("\ufeff"), newline=""))


def parsed(text: str) -> list[dict[str, str]]:
    return list(rows_of(text))


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_a_cell_a_spreadsheet_would_run_gets_a_leading_quote(start: str) -> None:
    assert neutralised(f"{start}cmd()") == f"'{start}cmd()"


def test_other_cells_and_numbers_are_left_as_they_are() -> None:
    assert neutralised("fine = good") == "fine = good"
    assert neutralised("") == ""
    view = bucket_view(TAPPED, Tally(), DEFAULT_SURVEY.scale)
    row = dict(zip(SATISFACTION_HEADER, bucket_row("store-a", view), strict=True))
    assert row["mean"] == row["nps"] == row["csat_low"] == ""  # null: an empty cell


def test_a_row_holds_every_field_as_stored_and_never_the_contact() -> None:
    stored = rating(
        reasons=["wait_time", "staff"],
        comment='=HYPERLINK("x"), and\na "quote"',
        expectation="worse",
        burst=True,
        survey_version=3,
        contact=Contact(phone="+12025550123", name="Ann"),
    )
    sms = rating(rating_id="r-2", channel="sms", source_id="conv-1", score=2)
    text = csv_page(RATINGS_HEADER, csv_lines([rating_row(stored, 5), rating_row(sms, 5)]))

    assert text.splitlines()[0] == "\ufeff" + ",".join(RATINGS_HEADER)
    assert "+12025550123" not in text
    assert "Ann" not in text
    kiosk_row, sms_row = parsed(text)
    assert kiosk_row == {
        "rating_id": "r-1",
        "store_id": "store-a",
        "kiosk_id": "k-1",
        "channel": "kiosk",
        "score": "4",
        "scale_max": "5",
        "tapped_at": "2026-11-01T04:00:00.000+00:00",
        "received_at": "2026-11-01T04:00:20.000+00:00",
        "reasons": "wait_time;staff",
        "comment": '\'=HYPERLINK("x"), and\na "quote"',
        "expectation": "worse",
        "burst": "true",
        "survey_version": "3",
    }
    assert sms_row["kiosk_id"] == ""
    assert sms_row["burst"] == "false"


def test_a_bucket_row_has_the_endpoints_figures() -> None:
    tallies = tally_ratings(
        [
            {
                "rating_id": f"r-{i}",
                "store_id": "store-a",
                "channel": "kiosk" if i % 2 else "sms",
                "source_id": "k-1",
                "score": 1 + i % 5,
                "tapped_at": TAPPED.isoformat(),
                "reasons": ["staff"] if i % 3 else ["wait_time", "staff"],
                "expectation": "better",
            }
            for i in range(40)
        ],
        {"store-a": STORE.timezone},
    )
    (day,) = [tally for (_, granularity, _), tally in tallies.items() if granularity == "day"]
    view = bucket_view(TAPPED, day, STORE.survey.scale)
    row = dict(zip(SATISFACTION_HEADER, bucket_row("store-a", view), strict=True))

    assert row["responses"] == "40"
    assert row["enough"] == "true"
    assert float(row["mean"]) == view["mean"]
    assert float(row["csat"]) == view["csat"]
    assert [float(row["csat_low"]), float(row["csat_high"])] == view["csat_interval"]
    assert (row["kiosk_responses"], row["sms_responses"], row["link_responses"]) == (
        "20",
        "20",
        "0",
    )
    assert row["better"] == "40"
    assert row["worse"] == "0"
    assert row["reasons"] == "staff:40;wait_time:14"


# 200,000 ratings, one every 10 s from TAPPED: about 23 days, inside a 30-day export.
MANY = 200_000


def _fake_log(count: int) -> object:
    def logged_ratings(
        store_id: str, start: datetime, end: datetime, after: LoggedRating | None = None
    ) -> Iterator[LoggedRating]:
        first = int(after.rating_id.removeprefix("r")) + 1 if after else 0
        for index in range(first, count):
            moment = TAPPED + timedelta(seconds=10 * index)
            yield LoggedRating(moment.isoformat(timespec="milliseconds"), f"r{index:07d}")

    return logged_ratings


@dataclass(frozen=True, slots=True)
class StoredRating:
    """What a row reads of a rating: a stand-in for the store's Rating models, whose checks
    would be most of the test's time (200,000 of them)."""

    rating_id: str
    tapped_at: datetime
    received_at: datetime
    score: int
    comment: str | None
    reasons: list[str]
    store_id: str = "store-a"
    channel: str = "kiosk"
    source_id: str = "k-1"
    expectation: str | None = None
    burst: bool = False
    survey_version: int = 1


def _fake_ratings(rating_ids: list[str]) -> dict[str, Any]:
    made = {}
    for rating_id in rating_ids:
        index = int(rating_id.removeprefix("r"))
        moment = TAPPED + timedelta(seconds=10 * index)
        made[rating_id] = StoredRating(
            rating_id,
            moment,
            moment + timedelta(seconds=5),
            1 + index % 5,
            f"comment {index}, long enough to make the file grow" if index % 3 else None,
            ["wait_time", "staff"][: index % 3],
        )
    return made


def test_200000_ratings_export_page_by_page_in_bounded_memory(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(rating_log, "logged_ratings", _fake_log(MANY))
    monkeypatch.setattr(ratings, "ratings_by_id", _fake_ratings)
    query = RatingsExportQuery.model_validate({"from": "2026-11-01", "to": "2026-11-30"})
    cursor: str | None = None
    pages = rows = size = 0
    peaks = []
    last = MANY // exports.EXPORT_PAGE_ROWS - 1
    while True:
        # What making a page allocates at most, the page before it let go: traced for the
        # first, every eighth and the last page (tracing makes a page three times slower),
        # and only while it is made (the parsing below is the test's own).
        traced = pages % 8 == 0 or pages == last
        if traced:
            tracemalloc.start()
        try:
            page = exports.ratings_page(STORE, query, cursor, AT)
            if traced:
                peaks.append(tracemalloc.get_traced_memory()[1])
        finally:
            tracemalloc.stop()
        size += len(page.text.encode())
        for row in rows_of(page.text):
            # Every row parsed back: in order, none lost or repeated, as made.
            assert row["rating_id"] == f"r{rows:07d}"
            assert row["score"] == str(1 + rows % 5)
            rows += 1
        pages += 1
        cursor = page.next_cursor
        del page
        if cursor is None:
            break

    assert rows == MANY
    assert pages == MANY // exports.EXPORT_PAGE_ROWS
    assert size > 25_000_000
    # One page's worth (its text, held at two bytes a character for the byte order mark,
    # one group of ratings, the page's log entries), the same for the last page as for the
    # first: far below the file's size, and not growing with it.
    assert max(peaks) < size / 5, (max(peaks), size)
    assert len(peaks) == 6
    assert max(peaks) < 2 * min(peaks)


def test_a_page_of_long_comments_fits_in_a_lambda_answer(monkeypatch: pytest.MonkeyPatch) -> None:
    def long_comments(rating_ids: list[str]) -> dict[str, Any]:
        made = _fake_ratings(rating_ids)
        return {key: replace(value, comment="很" * 500) for key, value in made.items()}

    monkeypatch.setattr(rating_log, "logged_ratings", _fake_log(3_000))
    monkeypatch.setattr(ratings, "ratings_by_id", long_comments)
    query = RatingsExportQuery.model_validate({"from": "2026-11-01", "to": "2026-11-30"})
    cursor: str | None = None
    seen: list[str] = []
    sizes = []
    while True:
        page = exports.ratings_page(STORE, query, cursor, AT)
        # The body as the Lambda answer carries it: a JSON string, each 很 six bytes.
        sizes.append(len(json.dumps(page.text)))
        seen += [row["rating_id"] for row in rows_of(page.text)]
        cursor = page.next_cursor
        if cursor is None:
            break

    assert seen == [f"r{index:07d}" for index in range(3_000)]
    assert len(sizes) == 2  # 3,000 rows, fewer than a page's 5,000: split by size
    assert max(sizes) <= exports.EXPORT_PAGE_BYTES + 200  # the header


def _cursor(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "cursor",
    [
        "not base64 at all!",
        _cursor("no separator"),
        _cursor("not a time|r1"),
        _cursor("2026-11-05T10:00:00|r1"),  # no offset: not one the export made
        _cursor("2025-01-01T00:00:00.000+00:00|r1"),  # outside the period asked
        _cursor("2026-11-05T10:00:00.000+00:00|"),
        base64.urlsafe_b64encode(b"\xff\xfe|r1").decode(),
    ],
)
def test_a_cursor_the_export_did_not_make_for_this_period_is_a_400(
    monkeypatch: pytest.MonkeyPatch, cursor: str
) -> None:
    monkeypatch.setattr(rating_log, "logged_ratings", _fake_log(10))
    monkeypatch.setattr(ratings, "ratings_by_id", _fake_ratings)
    query = RatingsExportQuery.model_validate({"from": "2026-11-01", "to": "2026-11-30"})

    with pytest.raises(BadRequest, match="cursor"):
        exports.ratings_page(STORE, query, cursor, AT)


def test_an_export_of_more_than_400_days_is_a_400() -> None:
    query = RatingsExportQuery.model_validate({"from": "2025-01-01", "to": "2026-11-30"})

    with pytest.raises(BadRequest, match="400 days"):
        exports.ratings_page(STORE, query, None, AT)
