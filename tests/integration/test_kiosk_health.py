"""Kiosk health (issue 15): the heartbeat, each kiosk's health on the store's list, the
fleet sorted by trouble, and one store alert per silence of 30 minutes inside opening
hours, under retries, overlapping runs and a failed publish. The clocks are frozen: the
routes' through `at`, the job's by its `now`. On moto and on DynamoDB Local."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from chalicelib.api import kiosk_routes, store_routes
from chalicelib.auth import issue_kiosk_token, issue_staff_token
from chalicelib.domain.kiosks import Kiosk
from chalicelib.errors import DependencyUnavailable
from chalicelib.jobs import kiosk_health
from chalicelib.jobs.kiosk_health import check_silent_kiosks
from chalicelib.notify import topics
from chalicelib.storage import stores
from tests.conftest import bearer, make_store

# A Wednesday, 10:00 in New York; store-a opens 9-17 on weekdays.
WEDNESDAY_10 = datetime(2026, 11, 18, 15, 0, tzinfo=UTC)
WEEKDAYS_9_TO_17 = {day: (9, 17) for day in range(5)}


def heartbeat(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "queue_length": 0,
        "last_sync_at": "2026-11-18T14:59:00Z",
        "app_version": "1.4.0",
        "battery": 0.8,
    }
    return body | overrides


@pytest.fixture
def chain(storage: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """store-a (west, open 9-17 on weekdays) with paired kiosks k-till and k-door, a
    pending and a revoked one; store-b (east) with k-east; the routes' clock (`at`)."""
    stores.put_store(make_store("store-a", region="west", opening_hours=WEEKDAYS_9_TO_17))
    stores.put_store(make_store("store-b", region="east"))
    created = WEDNESDAY_10 - timedelta(days=7)
    for store_id, kiosk_id, status in (
        ("store-a", "k-till", "paired"),
        ("store-a", "k-door", "paired"),
        ("store-a", "k-new", "pending"),
        ("store-a", "k-old", "revoked"),
        ("store-b", "k-east", "paired"),
    ):
        stores.put_kiosk(
            Kiosk(kiosk_id=kiosk_id, store_id=store_id, status=status, created_at=created)
        )
    clock = {"now": WEDNESDAY_10}
    for module in (kiosk_routes, store_routes):
        monkeypatch.setattr(module, "now", lambda: clock["now"])
    topics.PUBLISHED.clear()
    return clock


def beat(api: Any, kiosk_id: str, store_id: str = "store-a", **fields: Any) -> Any:
    token = issue_kiosk_token(kiosk_id, store_id, datetime.now(UTC))
    return api.http.post(
        "/v1/kiosk/heartbeat", headers=bearer(token), body=json.dumps(heartbeat(**fields))
    )


def staff(role: str = "staff", regions: tuple[str, ...] = ()) -> dict[str, str]:
    stores_of = ["store-a"] if role == "staff" else []
    return bearer(issue_staff_token("pat", role, stores_of, datetime.now(UTC), regions=regions))


def kiosk_list(api: Any) -> dict[str, dict[str, Any]]:
    answer = api.http.get("/v1/stores/store-a/kiosks", headers=staff())
    assert answer.status_code == 200
    return {kiosk["kiosk_id"]: kiosk for kiosk in answer.json_body["kiosks"]}


def fleet(api: Any, headers: dict[str, str]) -> list[str]:
    answer = api.http.get("/v1/kiosks", headers=headers)
    assert answer.status_code == 200, answer.body
    return [kiosk["kiosk_id"] for kiosk in answer.json_body["kiosks"]]


def silent_alerts() -> list[dict[str, Any]]:
    return [e for e in topics.PUBLISHED if e["attributes"].get("kind") == "kiosk_silent"]


def test_a_heartbeat_is_recorded_and_shown_with_the_health(api, chain):
    answer = beat(api, "k-till", queue_length=3, battery=0.456)

    assert answer.status_code == 204
    assert answer.body == b""
    listed = kiosk_list(api)
    till = listed["k-till"]
    assert till["last_seen_at"].startswith("2026-11-18T15:00:00")
    assert till["last_sync_at"].startswith("2026-11-18T14:59:00")
    assert (till["queue_length"], till["app_version"], till["battery"]) == (3, "1.4.0", 0.46)
    assert till["health"] == "ok"
    assert listed["k-door"]["health"] == "never_seen"
    assert listed["k-door"]["last_seen_at"] is None
    assert "silent_alert_for" not in till  # the alert mark is internal


def test_a_later_heartbeat_without_battery_or_sync_clears_them(api, chain):
    beat(api, "k-till")
    chain["now"] += timedelta(minutes=5)
    beat(api, "k-till", battery=None, last_sync_at=None, queue_length=9)

    till = kiosk_list(api)["k-till"]
    assert till["last_seen_at"].startswith("2026-11-18T15:05:00")
    assert (till["battery"], till["last_sync_at"], till["queue_length"]) == (None, None, 9)


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"queue_length": -1}, "queue_length"),
        ({"queue_length": 100_001}, "queue_length"),
        ({"battery": 1.5}, "battery"),
        ({"app_version": "1.0<script>"}, "app_version"),
        ({"app_version": "x" * 41}, "app_version"),
        ({"last_sync_at": "2026-11-18T14:59:00"}, "last_sync_at"),  # no zone
        ({"signal": "weak"}, "signal"),
    ],
)
def test_a_bad_heartbeat_is_refused_and_not_recorded(api, chain, fields, field):
    answer = beat(api, "k-till", **fields)

    assert answer.status_code == 400
    assert answer.json_body["error"]["code"] == "bad_request"
    assert field in json.dumps(answer.json_body["error"]["details"])
    assert kiosk_list(api)["k-till"]["last_seen_at"] is None


def test_a_kiosk_not_paired_gets_401_and_nothing_is_written(api, chain):
    unknown = beat(api, "k-ghost")
    pending = beat(api, "k-new")

    assert unknown.status_code == pending.status_code == 401
    assert "pair it again" in unknown.json_body["error"]["message"]
    assert [k.kiosk_id for k in stores.list_kiosks("store-a") if k.last_seen_at] == []
    assert "k-ghost" not in kiosk_list(api)


def test_silence_counts_opening_hours_only(api, chain):
    beat(api, "k-till")
    chain["now"] = WEDNESDAY_10 + timedelta(minutes=29)
    at_29_minutes = kiosk_list(api)["k-till"]["health"]
    chain["now"] = WEDNESDAY_10 + timedelta(minutes=30)
    at_30_minutes = kiosk_list(api)["k-till"]["health"]

    chain["now"] = datetime(2026, 11, 18, 21, 50, tzinfo=UTC)  # 16:50: 10 minutes to closing
    beat(api, "k-till")
    chain["now"] = datetime(2026, 11, 19, 13, 0, tzinfo=UTC)  # 08:00 the next day, closed
    overnight = kiosk_list(api)["k-till"]["health"]
    chain["now"] = datetime(2026, 11, 19, 14, 19, tzinfo=UTC)  # 09:19: 29 open minutes
    next_morning = kiosk_list(api)["k-till"]["health"]
    chain["now"] = datetime(2026, 11, 19, 14, 20, tzinfo=UTC)  # 09:20: 30 open minutes
    silent_at_last = kiosk_list(api)["k-till"]["health"]

    assert (at_29_minutes, at_30_minutes) == ("ok", "silent")
    assert (overnight, next_morning, silent_at_last) == ("ok", "ok", "silent")


def test_a_silent_kiosk_alerts_its_store_once_per_silence(api, chain):
    beat(api, "k-till")
    beat(api, "k-door")
    beat(api, "k-east", store_id="store-b")
    chain["now"] = WEDNESDAY_10 + timedelta(minutes=20)
    beat(api, "k-door")  # k-door keeps beating; k-east's store has no opening hours

    early = check_silent_kiosks(WEDNESDAY_10 + timedelta(minutes=29))
    due = check_silent_kiosks(WEDNESDAY_10 + timedelta(minutes=31))
    retried = check_silent_kiosks(WEDNESDAY_10 + timedelta(minutes=31))
    later = check_silent_kiosks(WEDNESDAY_10 + timedelta(hours=3))

    assert (early, due, retried) == (0, 2, 0)
    assert later == 1  # k-door is silent since its last beat; k-till and k-east alerted already
    alerts = silent_alerts()
    assert sorted(a["attributes"]["kiosk_id"] for a in alerts) == ["k-door", "k-east", "k-till"]
    till = next(a for a in alerts if a["attributes"]["kiosk_id"] == "k-till")
    assert till["attributes"] == {
        "store_id": "store-a",
        "kind": "kiosk_silent",
        "kiosk_id": "k-till",
        "region": "west",
    }
    assert "k-till" in till["message"]
    assert "2026-11-18 10:00" in till["message"]
    assert "\n" not in till["message"]

    chain["now"] = WEDNESDAY_10 + timedelta(hours=4)
    beat(api, "k-till")  # back, then silent again: a new silence alerts again
    assert check_silent_kiosks(WEDNESDAY_10 + timedelta(hours=4, minutes=5)) == 0
    assert check_silent_kiosks(WEDNESDAY_10 + timedelta(hours=4, minutes=31)) == 1
    assert len(silent_alerts()) == 4


def test_pending_revoked_and_never_seen_kiosks_raise_no_alert(api, chain):
    beat(api, "k-till")
    stores.put_kiosk(stores.get_kiosk("store-a", "k-till").model_copy(update={"status": "revoked"}))

    assert check_silent_kiosks(WEDNESDAY_10 + timedelta(hours=2)) == 0
    assert silent_alerts() == []


def test_overlapping_runs_alert_a_silence_once(api, chain):
    beat(api, "k-till")
    seen_by_both = stores.list_kiosks("store-a")
    first = kiosk_health.check_silent_kiosks(WEDNESDAY_10 + timedelta(hours=1))
    # A second run that listed the kiosks before the first claimed: its claim is refused.
    till = next(k for k in seen_by_both if k.kiosk_id == "k-till")

    assert first == 1
    assert stores.claim_silent_alert(till) is False
    assert len(silent_alerts()) == 1


def test_a_failed_publish_is_released_and_sent_by_the_next_run(api, chain, monkeypatch):
    beat(api, "k-till")

    def unavailable(*args: Any) -> str:
        raise DependencyUnavailable("SNS is down", retry_after=5)

    with monkeypatch.context() as patch:
        patch.setattr(kiosk_health, "publish", unavailable)
        failed = check_silent_kiosks(WEDNESDAY_10 + timedelta(hours=1))
    next_run = check_silent_kiosks(WEDNESDAY_10 + timedelta(hours=1, minutes=5))

    assert (failed, next_run) == (0, 1)
    assert len(silent_alerts()) == 1


def test_the_fleet_lists_the_most_trouble_first(api, chain):
    beat(api, "k-east", store_id="store-b")  # silent first (no opening hours): 15:00
    chain["now"] = WEDNESDAY_10 + timedelta(minutes=10)
    beat(api, "k-till", queue_length=2, battery=0.9)  # silent from 15:40 in opening hours
    chain["now"] = WEDNESDAY_10 + timedelta(minutes=50)
    beat(api, "k-door", queue_length=40, battery=0.2)  # ok, with a long queue
    chain["now"] = WEDNESDAY_10 + timedelta(minutes=55)

    admin = fleet(api, staff("admin"))
    west = fleet(api, staff("manager", regions=("west",)))
    staff_answer = api.http.get("/v1/kiosks", headers=staff())

    # silent longest, silent, never seen (k-new is pending), then ok; revoked k-old left out
    assert admin == ["k-east", "k-till", "k-new", "k-door"]
    assert west == ["k-till", "k-new", "k-door"]
    assert staff_answer.status_code == 403
    health = {
        k["kiosk_id"]: k["health"]
        for k in api.http.get("/v1/kiosks", headers=staff("admin")).json_body["kiosks"]
    }
    assert health == {"k-east": "silent", "k-till": "silent", "k-new": "never_seen", "k-door": "ok"}


def test_among_healthy_kiosks_the_longer_queue_then_the_emptier_battery_come_first(api, chain):
    beat(api, "k-till", queue_length=5, battery=0.9)
    beat(api, "k-door", queue_length=5, battery=0.1)
    beat(api, "k-east", store_id="store-b", queue_length=50)

    assert fleet(api, staff("admin")) == ["k-new", "k-east", "k-door", "k-till"]
