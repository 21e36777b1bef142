"""The CSV exports on DynamoDB Local: the scheduled run writes the rating log, the ratings
export pages through it (small pages, so a few thousand ratings make several), every row is
the rating as stored, the pages join without loss or repeat, runs read again (retried,
overlapping, a rebuild) add nothing, formulas come out neutralised, bad queries are 400s;
the satisfaction export's rows are the endpoint's buckets."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from chalicelib.auth import issue_staff_token
from chalicelib.domain.ratings import Contact, Rating
from chalicelib.flows import exports
from chalicelib.jobs.aggregate import aggregate, floor_hour, rebuild
from chalicelib.storage import aggregates, dynamodb, rating_log, ratings
from tests.conftest import bearer, now
from tests.integration.factories import NOW, put, scheduled_runs

pytestmark = pytest.mark.parametrize("storage", ["dynamodb_local"], indirect=True)

PAGE_ROWS = 400
EXPORT = "/v1/stores/store-a/ratings.csv?from=2026-11-14&to=2026-11-20"
COMMENTS = ["=cmd()", "fine, thanks", 'a "quote"', "two\nlines", "很好", "-1 star", None]
PHONE = "+12025550123"


def _headers() -> dict[str, str]:
    return bearer(issue_staff_token("alice", "staff", ["store-a"], now()))


def _history() -> list[Rating]:
    """Four days of taps of store-a (six kiosks, SMS, repeat presses, comments of every
    kind, a callback's contact) and some of store-b, all arriving in the hour before NOW
    (kiosks syncing late): one hour of slices for the run to read."""
    made = []
    start = datetime(2026, 11, 15, 4, tzinfo=UTC)  # 23:00 on the 14th in New York
    for index in range(1_500):
        tapped = start + timedelta(minutes=3 * index, seconds=index % 7)
        sms = index % 25 == 0
        made.append(
            Rating(
                rating_id=str(uuid.uuid4()),
                store_id="store-a" if index % 30 else "store-b",
                channel="sms" if sms else "kiosk",
                source_id=f"conv-{index}" if sms else f"k-{index % 6}",
                survey_id="default-smiley-5",
                survey_version=1 + index % 2,
                score=1 + index % 5,
                reasons=[["staff"], ["wait_time", "staff"], []][index % 3],
                comment=COMMENTS[index % len(COMMENTS)],
                expectation=[None, "worse", "as_expected", "better"][index % 4],
                tapped_at=tapped,
                received_at=NOW - timedelta(minutes=50) + timedelta(seconds=index),
                contact=Contact(phone=PHONE, name="Ann") if index == 7 else None,
            )
        )
    # Repeat presses: four taps two seconds apart on one kiosk (the run marks three).
    burst_start = datetime(2026, 11, 16, 15, 0, 1, tzinfo=UTC)
    made += [
        made[1].model_copy(
            update={
                "rating_id": str(uuid.uuid4()),
                "source_id": "k-burst",
                "tapped_at": burst_start + timedelta(seconds=2 * tap),
                "received_at": NOW - timedelta(minutes=20, seconds=-tap),
            }
        )
        for tap in range(4)
    ]
    dynamodb.client()  # made once, before the threads
    items = [{"PutRequest": {"Item": ratings.rating_item(rating)}} for rating in made]
    dynamodb.in_parallel(
        dynamodb.batch_write, [items[i : i + 25] for i in range(0, len(items), 25)]
    )
    return made


def _pages(api: Any, url: str) -> list[list[dict[str, str]]]:
    """Every page of an export, following Link rel=next, each parsed as a file alone."""
    pages = []
    while url:
        answer = api.http.get(url, headers=_headers())
        assert answer.status_code == 200, answer.body
        assert answer.headers["Content-Type"] == "text/csv; charset=utf-8"
        assert answer.body.startswith(b"\xef\xbb\xbf")  # every page opens alone
        text = answer.body.decode("utf-8-sig")
        assert text.splitlines()[0] == ",".join(exports.RATINGS_HEADER)
        pages.append(list(csv.DictReader(io.StringIO(text, newline=""))))
        link = answer.headers.get("Link")
        url = link[1 : link.index(">")] if link else ""
        if link:
            assert link.endswith('>; rel="next"')
    return pages


def _as_stored(rating: Rating) -> dict[str, str]:
    comment = rating.comment or ""
    return {
        "rating_id": rating.rating_id,
        "store_id": rating.store_id,
        "kiosk_id": rating.source_id if rating.channel == "kiosk" else "",
        "channel": rating.channel,
        "score": str(rating.score),
        "scale_max": "5",
        "tapped_at": rating.tapped_at.isoformat(timespec="milliseconds"),
        "received_at": rating.received_at.isoformat(timespec="milliseconds"),
        "reasons": ";".join(rating.reasons),
        "comment": "'" + comment if comment[:1] in ("=", "-") else comment,
        "expectation": rating.expectation or "",
        "burst": "true" if rating.burst else "false",
        "survey_version": str(rating.survey_version),
    }


@pytest.fixture
def counted(store: Any, monkeypatch: pytest.MonkeyPatch) -> list[Rating]:
    """The history, counted by one scheduled run; pages of PAGE_ROWS rows."""
    monkeypatch.setattr(exports, "EXPORT_PAGE_ROWS", PAGE_ROWS)
    made = _history()
    aggregates.advance_watermark(None, floor_hour(NOW - timedelta(hours=1)))
    scheduled_runs(NOW)
    return made


def test_the_pages_join_into_every_counted_rating_once_as_stored(api: Any, counted: list[Rating]):
    pages = _pages(api, EXPORT)
    rows = [row for page in pages for row in page]
    stored = {r.rating_id: r for r in ratings.every_rating() if r.store_id == "store-a"}

    assert len(pages) == -(-len(stored) // PAGE_ROWS) > 3
    assert all(len(page) == PAGE_ROWS for page in pages[:-1])
    assert len(rows) == len({row["rating_id"] for row in rows}) == len(stored)
    assert rows == [_as_stored(stored[row["rating_id"]]) for row in rows]
    assert [(r["tapped_at"], r["rating_id"]) for r in rows] == sorted(
        (r["tapped_at"], r["rating_id"]) for r in rows
    )
    # The marks the run made show (read from the items), as do the formulas, neutralised.
    assert sum(row["burst"] == "true" for row in rows) == 3
    assert {row["comment"] for row in rows} >= {"'=cmd()", "'-1 star", "two\nlines", "很好"}
    assert not any(PHONE in cell or "Ann" in cell for row in rows for cell in row.values())
    answer = api.http.get(EXPORT, headers=_headers())
    assert answer.headers["Content-Disposition"] == (
        'attachment; filename="store-a-ratings-2026-11-14-2026-11-20.csv"'
    )


def test_runs_that_read_the_slices_again_log_nothing_twice(
    api: Any, counted: list[Rating], monkeypatch: pytest.MonkeyPatch
):
    before = [row for page in _pages(api, EXPORT) for row in page]
    # A retried (or overlapping) run reads the same slices again, this time spreading each
    # hour's entries over parts (as a slice that grew would); then a rebuild does it all
    # again. A rating tapped and sent meanwhile is in the export only once a run counted it.
    monkeypatch.setattr(rating_log, "LOG_ENTRIES", 2)
    position = aggregates.watermark_position()
    assert aggregates.advance_watermark(position, floor_hour(NOW - timedelta(hours=1)))
    late = counted[2].model_copy(
        update={
            "rating_id": str(uuid.uuid4()),
            "tapped_at": datetime(2026, 11, 17, 12, tzinfo=UTC),
            "received_at": NOW - timedelta(minutes=1),
        }
    )
    assert ratings.put_rating(late)
    assert late.rating_id not in {row["rating_id"] for page in _pages(api, EXPORT) for row in page}
    aggregate(NOW)
    rebuild(NOW - timedelta(hours=1), NOW)

    after = [row for page in _pages(api, EXPORT) for row in page]
    assert [row for row in after if row["rating_id"] != late.rating_id] == before
    assert len(after) == len(before) + 1


def test_a_rebuild_logs_ratings_counted_before_the_log_existed(api: Any, store: Any):
    # Counted by runs from before the rating log: the watermark is past them, no log.
    older = [
        put("store-a", score, tapped_at=datetime(2026, 11, 18, 15, score, tzinfo=UTC))
        for score in (1, 3, 5)
    ]
    aggregates.advance_watermark(None, floor_hour(NOW))
    assert _pages(api, EXPORT) == [[]]

    rebuild(NOW - timedelta(hours=1), NOW)  # make rebuild-aggregates SINCE=...

    (page,) = _pages(api, EXPORT)
    assert [row["rating_id"] for row in page] == [rating.rating_id for rating in older]


@pytest.mark.parametrize(
    "query",
    [
        "cursor=bm90IGEgY3Vyc29y",  # "not a cursor"
        "cursor=MjAyNS0wMS0wMVQwMDowMDowMC4wMDArMDA6MDB8cjE",  # 2025-01-01: another period
        "from=2026-11-20&to=2026-11-14",
        "from=2025-01-01&to=2026-11-20",  # longer than 400 days
        "from=2026-13-01",
        "to=2150-01-01",
        "limit=10",
    ],
)
def test_a_bad_cursor_or_period_is_a_400(api: Any, store: Any, query: str):
    answer = api.http.get(f"/v1/stores/store-a/ratings.csv?{query}", headers=_headers())

    assert answer.status_code == 400
    assert answer.json_body["error"]["code"] == "bad_request"


def test_the_satisfaction_export_has_the_endpoints_buckets(api: Any, counted: list[Rating]):
    period = "granularity=day&from=2026-11-14&to=2026-11-20"
    shown = api.http.get(f"/v1/stores/store-a/satisfaction?{period}", headers=_headers())
    answer = api.http.get(f"/v1/stores/store-a/satisfaction.csv?{period}", headers=_headers())

    assert answer.status_code == 200
    assert answer.headers["Content-Disposition"] == (
        'attachment; filename="store-a-satisfaction-day-2026-11-14-2026-11-20.csv"'
    )
    rows = list(csv.DictReader(io.StringIO(answer.body.decode("utf-8-sig"), newline="")))
    buckets = shown.json_body["buckets"]
    assert len(rows) == len(buckets) == 5
    for row, bucket in zip(rows, buckets, strict=True):
        assert row["start"] == bucket["start"]
        assert int(row["responses"]) == bucket["responses"]
        assert int(row["filtered"]) == bucket["filtered"]
        assert float(row["mean"]) == bucket["mean"]
        assert float(row["csat"]) == bucket["csat"]
        assert int(row["sms_responses"]) == bucket["channels"]["sms"]["responses"]
    assert sum(int(row["filtered"]) for row in rows) == 3  # the repeat presses
    bad = api.http.get("/v1/stores/store-a/satisfaction.csv?granularity=minute", headers=_headers())
    assert bad.status_code == 400
