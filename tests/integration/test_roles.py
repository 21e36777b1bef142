"""Roles end to end on both backends: people signed in through moto's Cognito work the
stores their groups give them, and a removed person's live ID token stops working at once."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from chalicelib.domain.tasks import TaskRating, new_task
from chalicelib.storage import stores, tasks
from tests.cognito import LocalPool
from tests.conftest import bearer, make_store, now, reset_caches

PHONE = "+12025550143"


def _task(store_id: str) -> str:
    at = now()
    task_id = f"t-{store_id}"
    rating = TaskRating(rating_id=task_id, channel="kiosk", score=1, tapped_at=at)
    task = new_task(task_id, store_id, f"key-{task_id}", PHONE, None, rating, at, at + timedelta(1))
    tasks.create_task(task, PHONE)
    return task_id


@pytest.fixture
def region(api: Any, cognito: LocalPool) -> dict[str, str]:
    """Two stores of region west and one of east, each with an open task."""
    for store_id, where in (("west-1", "west"), ("west-2", "west"), ("east-1", "east")):
        stores.put_store(make_store(store_id, region=where))
        _task(store_id)
    return {
        "manager": cognito.id_token("mia@example.com", ["manager:west"]),
        "staff": cognito.id_token("sam@example.com", ["store:west-1"]),
        "admin": cognito.id_token("ada@example.com", ["admin"]),
    }


def test_a_manager_works_the_tasks_of_every_store_of_the_region(
    api: Any, region: dict[str, str]
) -> None:
    manager = bearer(region["manager"])

    for store_id in ("west-1", "west-2"):
        listed = api.http.get(f"/v1/callbacks?store_id={store_id}", headers=manager)
        claimed = api.http.post(f"/v1/callbacks/t-{store_id}/claim", headers=manager)
        figures = api.http.get(f"/v1/stores/{store_id}/satisfaction", headers=manager)

        assert [t["task_id"] for t in listed.json_body["tasks"]] == [f"t-{store_id}"]
        assert claimed.json_body["claimed_by"] == "mia@example.com"
        assert figures.status_code == 200
    assert api.http.get("/v1/callbacks?store_id=east-1", headers=manager).status_code == 403
    assert api.http.post("/v1/callbacks/t-east-1/claim", headers=manager).status_code == 403
    group = api.http.get("/v1/satisfaction", headers=manager).json_body
    assert sorted(view["store_id"] for view in group["stores"]) == ["west-1", "west-2"]


def test_staff_of_a_store_see_it_and_nothing_else(api: Any, region: dict[str, str]) -> None:
    staff = bearer(region["staff"])

    assert api.http.get("/v1/callbacks", headers=staff).json_body["tasks"][0]["task_id"] == (
        "t-west-1"
    )
    for store_id in ("west-2", "east-1"):
        assert api.http.get(f"/v1/callbacks?store_id={store_id}", headers=staff).status_code == 403
    assert api.http.get("/v1/satisfaction", headers=staff).status_code == 403


def test_a_removed_person_is_refused_at_once(
    api: Any, region: dict[str, str], cognito: LocalPool, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STOREPULSE_SNS_ENDPOINT", cognito.endpoint)  # subscriptions removed there
    reset_caches()
    staff = bearer(region["staff"])
    assert api.http.get("/v1/callbacks/limits", headers=staff).status_code == 200

    removed = api.http.delete("/v1/staff/sam@example.com", headers=bearer(region["admin"]))
    answer = api.http.get("/v1/callbacks/limits", headers=staff)

    assert removed.status_code == 204
    assert answer.status_code == 401
    assert "removed" in answer.json_body["error"]["message"]
