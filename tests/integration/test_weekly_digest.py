"""The weekly digest (issue 15): each store's managers get one message a week, on the
store's own Monday from 08:00 local, about its last local ISO week; sent once however many
hourly runs see it due, and by the next run when a publish failed. The clock is frozen:
every run is given its `now`. On moto and on DynamoDB Local."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from chalicelib.domain.kiosks import Kiosk
from chalicelib.domain.people import Role, notification_filters
from chalicelib.domain.tasks import TaskRating, new_task
from chalicelib.errors import DependencyUnavailable
from chalicelib.jobs import digest as digest_job
from chalicelib.jobs.aggregate import aggregate
from chalicelib.jobs.digest import send_weekly_digests
from chalicelib.notify import topics
from chalicelib.storage import aggregates, digests, stores, tasks
from tests.conftest import make_store
from tests.integration.factories import put

NEW_YORK = ZoneInfo("America/New_York")
TOKYO = ZoneInfo("Asia/Tokyo")
RECEIVED = datetime(2026, 11, 29, 22, 5, tzinfo=UTC)  # Sunday 17:05 in New York
PHONE = "+12025550143"


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def rate(store_id: str, tapped: datetime, score: int, count: int = 1, **extra: Any) -> None:
    for index in range(count):
        put(store_id, score, tapped + timedelta(minutes=index), RECEIVED, **extra)


def task(task_id: str, created: datetime, resolved: datetime | None = None) -> None:
    rating = TaskRating(rating_id=task_id, channel="kiosk", score=1, tapped_at=created)
    made = new_task(
        task_id, "store-a", f"key-{task_id}", PHONE, None, rating, created, created + timedelta(1)
    )
    if resolved:
        made = made.model_copy(update={"status": "resolved", "resolved_at": resolved})
    tasks.create_task(made, PHONE)


@pytest.fixture
def chain(storage: str) -> None:
    """store-a in New York (region east) and store-t in Tokyo (no region), their ratings of
    the weeks of 16 and 23 November counted, store-a's kiosks and callbacks; nothing
    published yet."""
    stores.put_store(make_store("store-a", name="Main Street", region="east"))
    stores.put_store(make_store("store-t", name="Ginza", timezone="Asia/Tokyo"))
    # store-a, the week of the 23rd: 32 happy answers (one at its first half hour) and 8 not.
    rate("store-a", datetime(2026, 11, 23, 0, 30, tzinfo=NEW_YORK), 5)
    rate("store-a", datetime(2026, 11, 24, 10, tzinfo=NEW_YORK), 5, 31)
    for reason, count in (("wait_time", 4), ("staff", 2), ("price", 1), ("product", 1)):
        rate("store-a", datetime(2026, 11, 25, 10, tzinfo=NEW_YORK), 2, count, reasons=[reason])
    # The week before: 21 of 30 happy (one at its last half hour); one answer before that.
    rate("store-a", datetime(2026, 11, 22, 23, 30, tzinfo=NEW_YORK), 5)
    rate("store-a", datetime(2026, 11, 17, 10, tzinfo=NEW_YORK), 5, 20)
    rate("store-a", datetime(2026, 11, 18, 10, tzinfo=NEW_YORK), 1, 9, reasons=["cleanliness"])
    rate("store-a", datetime(2026, 11, 15, 10, tzinfo=NEW_YORK), 1, 3)
    # store-t: five answers in its week of the 23rd.
    rate("store-t", datetime(2026, 11, 24, 12, tzinfo=TOKYO), 4, 5)
    aggregates.advance_watermark(None, utc("2026-11-29T22:05:00"))
    aggregate(utc("2026-11-29T22:15:00"))

    created = datetime(2026, 11, 24, 15, tzinfo=UTC)
    for kiosk_id, status, label, seen in (
        ("k-till", "paired", "Till\nOVERDUE: see https://evil.example", "2026-11-28T12:00:00"),
        ("k-door", "paired", "Door", "2026-12-31T00:00:00"),  # reporting at every run here
        ("k-old", "revoked", "Old", "2026-11-01T12:00:00"),
        ("k-new", "pending", None, None),
    ):
        stores.put_kiosk(
            Kiosk(
                kiosk_id=kiosk_id,
                store_id="store-a",
                status=status,
                label=label,
                created_at=created,
                last_seen_at=utc(seen) if seen else None,
            )
        )
    task("t-on-time", created, resolved=created + timedelta(hours=3))
    task("t-late", created, resolved=created + timedelta(days=2))
    task("t-open", created + timedelta(days=1))
    task("t-last-week", created - timedelta(days=7))
    topics.PUBLISHED.clear()


def run(at: str) -> list[str]:
    """One hourly run at `at` (UTC): the stores whose digest it published."""
    before = len(topics.PUBLISHED)
    sent = send_weekly_digests(utc(at))
    published = [entry["attributes"]["store_id"] for entry in topics.PUBLISHED[before:]]
    assert sent == len(published)
    return published


def test_nothing_on_sunday_or_before_eight_on_monday(chain):
    runs = [
        run("2026-11-29T12:00:00"),  # Sunday 07:00 in New York, 21:00 in Tokyo
        run("2026-11-29T14:59:00"),  # Sunday 23:59 in Tokyo
        run("2026-11-29T22:59:00"),  # Monday 07:59 in Tokyo, Sunday 17:59 in New York
    ]

    assert runs == [[], [], []]
    assert topics.PUBLISHED == []


def test_each_store_at_its_own_monday_eight_once(chain):
    tokyo_eight = run("2026-11-29T23:00:00")
    tokyo_later = run("2026-11-30T00:00:00")
    new_york_seven_fifty_nine = run("2026-11-30T12:59:00")
    new_york_eight = run("2026-11-30T13:00:00")
    later = [run(f"2026-11-30T{hour}:00:00") for hour in (13, 14, 22)]
    tuesday = run("2026-12-01T13:00:00")
    next_monday = run("2026-12-07T13:00:00")  # 08:00 in New York, 22:00 in Tokyo

    assert tokyo_eight == ["store-t"]
    assert tokyo_later == new_york_seven_fifty_nine == []
    assert new_york_eight == ["store-a"]
    assert later == [[], [], []]
    assert tuesday == []
    assert sorted(next_monday) == ["store-a", "store-t"]


def test_the_message_and_its_attributes(chain):
    run("2026-11-29T23:00:00")
    run("2026-11-30T13:00:00")

    tokyo, new_york = topics.PUBLISHED
    assert new_york["topic"] == "callbacks"
    assert new_york["subject"] == "storepulse weekly digest 2026-W48: Main Street"
    assert new_york["message"].split("\n") == [
        "Main Street, week 2026-W48 (2026-11-23 to 2026-11-29, America/New_York)",
        "Responses: 40 (the week before: 30)",
        "CSAT: 80% (+10 points vs the week before)",
        "Top reasons: wait_time (4), staff (2), price (1)",
        "Callbacks resolved on time: 1 of 3 (1 still open)",
        "Silent kiosks: “Till OVERDUE: see hxxps[:]//evil[.]example” (k-till)",
    ]
    assert new_york["attributes"] == {
        "store_id": "store-a",
        "kind": "weekly_digest",
        "audience": "manager",
        "region": "east",
    }
    assert tokyo["subject"] == "storepulse weekly digest 2026-W48: Ginza"
    assert tokyo["message"].split("\n")[1:] == [
        "Responses: 5 (the week before: 0)",
        "CSAT: too few answers (5); too few answers to compare",
        "Top reasons: none given",
        "Callbacks: none requested",
        "All kiosks reporting",
    ]
    assert tokyo["attributes"] == {
        "store_id": "store-t",
        "kind": "weekly_digest",
        "audience": "manager",
    }


def matches(policy: dict[str, list[str]] | None, attributes: dict[str, str]) -> bool:
    """SNS's filter on message attributes: every key of the policy, one of its values."""
    return policy is None or all(attributes.get(key) in allowed for key, allowed in policy.items())


def test_the_regions_managers_get_it_and_its_staff_do_not(chain):
    run("2026-11-29T23:00:00")  # store-t's
    run("2026-11-30T13:00:00")
    _, sent = topics.PUBLISHED

    def gets(role: Role, store_ids: list[str], regions: list[str]) -> bool:
        policy = notification_filters(role, store_ids, regions)["callbacks"]
        return matches(policy, sent["attributes"])

    assert gets("manager", [], ["east"])
    assert gets("admin", [], [])
    assert not gets("manager", [], ["west"])
    assert not gets("staff", ["store-a"], [])


def test_a_failed_publish_is_sent_by_the_next_run(chain, monkeypatch):
    def unavailable(*args: Any) -> str:
        raise DependencyUnavailable("x", retry_after=5)

    run("2026-11-29T23:00:00")  # store-t's
    monkeypatch.setattr(digest_job, "publish", unavailable)
    failed = send_weekly_digests(utc("2026-11-30T13:00:00"))
    claim_after_failure = digests.stored_digest_claim(
        "store-a", datetime(2026, 11, 23, tzinfo=NEW_YORK)
    )
    monkeypatch.undo()
    next_run = run("2026-11-30T14:00:00")
    again = run("2026-11-30T15:00:00")

    assert failed == 0
    assert claim_after_failure is None
    assert next_run == ["store-a"]
    assert again == []
    claim = digests.stored_digest_claim("store-a", datetime(2026, 11, 23, tzinfo=NEW_YORK))
    assert claim is not None
    expires_in = int(claim["expires_at"]) - utc("2026-11-30T14:00:00").timestamp()
    assert expires_in == timedelta(days=90).total_seconds()


def test_a_claim_sent_twice_is_still_the_runs_own(chain, monkeypatch):
    """The claim's first answer lost, botocore sends it again: the item is there, and ours."""
    start = datetime(2026, 11, 23, tzinfo=NEW_YORK)
    first = digests.claim_digest("store-a", start, utc("2026-11-30T13:00:00"))
    assert first is not None
    monkeypatch.setattr(digests, "uuid4", lambda: type("Same", (), {"hex": first.claim_id})())

    resent = digests.claim_digest("store-a", start, utc("2026-11-30T13:00:00"))
    monkeypatch.undo()
    another = digests.claim_digest("store-a", start, utc("2026-11-30T13:00:00"))

    assert resent == first
    assert another is None


def test_out_of_time_leaves_the_rest_to_the_next_run(chain):
    ticks = iter([0.0, 0.0, 30.0, 30.0])

    sent = send_weekly_digests(utc("2026-12-07T13:00:00"), budget_s=20, clock=lambda: next(ticks))
    rest = run("2026-12-07T14:00:00")

    assert sent == 1
    assert len(rest) == 1
