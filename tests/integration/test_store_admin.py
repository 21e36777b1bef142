"""Stores and survey versions through the Chalice app, on moto and DynamoDB Local: create,
list, read, edit; saving a survey makes a new version (conditional on the one read), the
old one is kept; the scale is locked once the store has ratings; ratings record the version
they answered."""

from __future__ import annotations

import json
import threading
from datetime import timedelta
from typing import Any

import pytest

from chalicelib.auth import (
    StaffPrincipal,
    issue_integration_token,
    issue_kiosk_token,
    issue_staff_token,
)
from chalicelib.domain.store_edits import SurveyChange
from chalicelib.domain.survey import DEFAULT_SURVEY, Survey
from chalicelib.errors import Conflict
from chalicelib.flows import stores as store_flows
from chalicelib.jobs.aggregate import aggregate
from chalicelib.storage import ratings, stores
from tests.conftest import bearer, kiosk_rating, make_store, now, rating_batch
from tests.integration.callers import Phone, invite_by_api

NEW_STORE = {
    "store_id": "store-n",
    "name": "Store North",
    "timezone": "Europe/Paris",
    "country": "FR",
    "region": "west",
    "opening_hours": {"mon": [8, 20], "sat": [9, 18]},
}

LOCALES = ("en", "zh-CN")
# A 0-10 survey in two languages, as the admin screen sends it.
ZERO_TO_TEN = {
    "locales": ["en", "zh-CN"],
    "question": {
        "en": "How likely are you to recommend us?",
        "zh-CN": "您推荐我们的可能性有多大？",
    },
    "scale": {"kind": "nps", "min": 0, "max": 10},
    "reasons": ["wait_time", "staff"],
    "reason_labels": {
        "en": {"wait_time": "Wait time", "staff": "Staff"},
        "zh-CN": {"wait_time": "等待时间", "staff": "员工服务"},
    },
    "ask_expectation": True,
    "callback_at_or_below": 6,
}


def admin() -> dict[str, str]:
    return bearer(issue_staff_token("root", "admin", [], now()))


def manager(*regions: str) -> dict[str, str]:
    return bearer(issue_staff_token("mia", "manager", [], now(), regions=regions))


def staff(*store_ids: str) -> dict[str, str]:
    return bearer(issue_staff_token("alice", "staff", store_ids, now()))


def post_store(api: Any, headers: dict[str, str], **changes: Any) -> Any:
    return api.http.post("/v1/stores", headers=headers, body=json.dumps(NEW_STORE | changes))


def put_survey(api: Any, headers: dict[str, str], store_id: str = "store-a", **changes: Any) -> Any:
    body = json.dumps(ZERO_TO_TEN | changes)
    return api.http.put(f"/v1/stores/{store_id}/survey", headers=headers, body=body)


def test_an_admin_creates_a_store_with_the_default_survey_and_reads_it_back(api, store):
    created = post_store(api, admin())
    read = api.http.get("/v1/stores/store-n", headers=admin())
    survey = api.http.get("/v1/stores/store-n/survey", headers=admin())

    assert created.status_code == 201
    assert created.json_body == {
        "store_id": "store-n",
        "name": "Store North",
        "timezone": "Europe/Paris",
        "country": "FR",
        "region": "west",
        "opening_hours": {"mon": [8, 20], "sat": [9, 18]},
        "sms_window": None,
        "survey_version": 1,
    }
    assert read.json_body == created.json_body
    assert survey.json_body["version"] == 1
    assert survey.json_body["scale"] == {"kind": "smiley", "min": 1, "max": 5}
    # Stored in the shape callback deadlines count (Monday is 0).
    assert stores.read_store("store-n").opening_hours == {0: (8, 20), 5: (9, 18)}
    assert "store-n" in stores.list_store_ids()


def test_a_second_creation_of_an_id_is_409_store_exists_and_changes_nothing(api, store):
    post_store(api, admin())

    again = post_store(api, admin(), name="Another name")

    assert again.status_code == 409
    assert again.json_body["error"]["code"] == "store_exists"
    assert stores.read_store("store-n").name == "Store North"
    assert store_flows.create_store(make_store("store-n", name="Other")) == "exists"
    assert store_flows.create_store(make_store("store-m")) == "created"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("timezone", "Mars/Olympus"),
        ("timezone", "../../etc/passwd"),
        ("country", "XX"),
        ("country", "fr"),
        ("opening_hours", {"mon": [20, 8]}),
        ("opening_hours", {"monday": [8, 20]}),
        ("opening_hours", {"mon": [8, 25]}),
        ("region", "West Coast"),
        ("store_id", "Store N"),
        ("sms_window", [9, 9]),
    ],
)
def test_a_store_with_a_bad_field_is_400_naming_it(api, store, field, value):
    answer = post_store(api, admin(), **{field: value})

    assert answer.status_code == 400
    assert answer.json_body["error"]["code"] == "bad_request"
    assert any(field in d["field"] for d in answer.json_body["error"]["details"])
    assert stores.read_store(NEW_STORE["store_id"]) is None


def test_a_manager_creates_stores_in_their_region_only_and_staff_none(api, store):
    theirs = post_store(api, manager("west"))
    elsewhere = post_store(api, manager("west"), store_id="store-e", region="east")
    no_region = post_store(api, manager("west"), store_id="store-x", region=None)
    by_staff = post_store(api, staff("store-a"), store_id="store-s")

    assert theirs.status_code == 201
    assert [elsewhere.status_code, no_region.status_code, by_staff.status_code] == [403] * 3
    assert stores.read_store("store-e") is None


def test_the_list_holds_what_the_caller_may_see_of_the_region_asked(api, store):
    stores.put_store(make_store("store-w1", region="west"))
    stores.put_store(make_store("store-w2", region="west"))
    stores.put_store(make_store("store-e1", region="east"))

    def listed(headers: dict[str, str], query: str = "") -> list[str]:
        answer = api.http.get(f"/v1/stores{query}", headers=headers)
        assert answer.status_code == 200
        return [s["store_id"] for s in answer.json_body["stores"]]

    assert listed(admin()) == ["store-a", "store-b", "store-e1", "store-w1", "store-w2"]
    assert listed(admin(), "?region=west") == ["store-w1", "store-w2"]
    assert listed(manager("west")) == ["store-w1", "store-w2"]
    assert listed(manager("west"), "?region=east") == []
    assert listed(staff("store-a", "store-e1")) == ["store-a", "store-e1"]
    assert listed(staff("store-a", "store-e1"), "?region=east") == ["store-e1"]
    assert api.http.get("/v1/stores?region=West!", headers=admin()).status_code == 400
    assert api.http.get("/v1/stores").status_code == 401


def test_a_patch_changes_the_fields_sent_and_keeps_the_others_and_the_survey(api, store):
    post_store(api, admin())
    put_survey(api, admin(), store_id="store-n")

    changed = api.http.patch(
        "/v1/stores/store-n",
        headers=admin(),
        body=json.dumps(
            {
                "timezone": "Asia/Shanghai",
                "country": "CN",
                "opening_hours": None,
                "sms_window": [9, 19],
            }
        ),
    )

    assert changed.status_code == 200
    assert changed.json_body == {
        **{k: v for k, v in NEW_STORE.items() if k != "opening_hours"},
        "timezone": "Asia/Shanghai",
        "country": "CN",
        "opening_hours": None,
        "sms_window": [9, 19],
        "survey_version": 2,
    }
    saved = stores.read_store("store-n")
    assert saved.survey.scale.max == 10
    assert saved.opening_hours is None


@pytest.mark.parametrize(
    "body", [{"name": None}, {"timezone": "Nowhere/Else"}, {"survey": {}}, {"store_id": "x-y"}]
)
def test_a_bad_patch_is_400(api, store, body):
    answer = api.http.patch("/v1/stores/store-a", headers=admin(), body=json.dumps(body))

    assert answer.status_code == 400


def test_who_may_edit_a_store(api, store):
    stores.put_store(make_store("store-w", region="west"))

    def patch(headers: dict[str, str], body: dict[str, Any], store_id: str = "store-w") -> int:
        encoded = json.dumps(body)
        return api.http.patch(f"/v1/stores/{store_id}", headers=headers, body=encoded).status_code

    assert patch(manager("west"), {"name": "West 1"}) == 200
    assert patch(manager("west"), {"region": "east"}) == 403  # never out of their region
    assert patch(manager("east"), {"name": "Mine now"}) == 403
    assert patch(staff("store-w"), {"name": "Staff's"}) == 403
    assert patch(staff("store-w"), {"name": "x"}, store_id="store-nope") == 403  # no probing
    assert patch(admin(), {"name": "x"}, store_id="store-nope") == 404
    assert patch(admin(), {"region": "east"}) == 200
    assert stores.read_store("store-w").name == "West 1"
    assert api.http.get("/v1/stores/store-w", headers=staff("store-w")).status_code == 200
    assert api.http.get("/v1/stores/store-w", headers=staff("store-a")).status_code == 403
    assert api.http.get("/v1/stores/store-w", headers=manager("east")).status_code == 200


def test_saving_a_survey_makes_the_next_version_and_keeps_the_old_one(api, store):
    saved = put_survey(api, admin())
    again = put_survey(api, admin(), question={"en": "Again?", "zh-CN": "再来？"}, version=2)
    current = api.http.get("/v1/stores/store-a/survey", headers=staff("store-a"))

    assert saved.status_code == 200
    assert saved.json_body["version"] == 2
    assert saved.json_body["scale"] == {"kind": "nps", "min": 0, "max": 10}
    assert saved.json_body["survey_id"] == "default-smiley-5"
    assert again.json_body["version"] == 3
    assert current.json_body == again.json_body
    kept = stores.kept_surveys("store-a")
    assert [s.version for s in kept] == [1, 2]
    assert kept[0].scale.max == 5
    assert kept[1].question["en"] == "How likely are you to recommend us?"
    assert api.http.get("/v1/stores/store-a", headers=admin()).json_body["survey_version"] == 3


def test_a_save_of_a_version_already_replaced_is_409(api, store):
    put_survey(api, admin())

    stale = put_survey(api, admin(), version=1)

    assert stale.status_code == 409
    assert stale.json_body["error"]["code"] == "conflict"
    assert stores.read_store("store-a").survey.version == 2


# On DynamoDB Local only: moto does not serialise transactions from two threads, so both
# conditions can pass there (a race the real engine never lets through).
@pytest.mark.parametrize("storage", ["dynamodb_local"], indirect=True)
def test_of_two_saves_at_once_one_is_saved_and_one_refused(store, monkeypatch):
    # Both read version 1 before either writes: the condition on the version decides. (The
    # flow, not the route: Chalice's test client keeps one current request per app.)
    both_read = threading.Barrier(2, timeout=20)
    waited = threading.local()  # each thread waits once, before its first write
    real_save = stores.save_survey

    def save_after_both_read(*args: Any) -> bool:
        if not getattr(waited, "done", False):
            waited.done = True
            both_read.wait()
        return real_save(*args)

    monkeypatch.setattr(stores, "save_survey", save_after_both_read)
    principal = StaffPrincipal("root", "admin", frozenset())
    outcomes: list[Any] = []

    def save(question: str) -> None:
        change = SurveyChange.model_validate(
            ZERO_TO_TEN | {"question": dict.fromkeys(LOCALES, question)}
        )
        try:
            outcomes.append(store_flows.save_survey(principal, "store-a", change, now()))
        except Conflict as refused:
            outcomes.append(refused)

    runs = [threading.Thread(target=save, args=(q,)) for q in ("First?", "Second?")]
    for run in runs:
        run.start()
    for run in runs:
        run.join(timeout=60)

    saved = [o for o in outcomes if isinstance(o, Survey)]
    assert len(saved) == 1, outcomes
    assert len([o for o in outcomes if isinstance(o, Conflict)]) == 1, outcomes
    assert saved[0].version == 2
    assert stores.read_store("store-a").survey.question == saved[0].question
    assert [s.version for s in stores.kept_surveys("store-a")] == [1]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"question": {"en": "Only English?"}}, "question"),
        ({"reason_labels": {"en": {"wait_time": "Wait", "staff": "Staff"}}}, "reason_labels"),
        ({"callback_at_or_below": 11}, "callback_at_or_below"),
        ({"locales": ["en", "fr"]}, "locales"),
        ({"scale": {"kind": "stars", "min": 5, "max": 1}}, "scale"),
        ({"reasons": ["Wait Time"]}, "reasons"),
    ],
)
def test_an_incomplete_survey_is_400_and_saves_nothing(api, store, changes, field):
    answer = put_survey(api, admin(), **changes)

    assert answer.status_code == 400
    assert field in answer.json_body["error"]["message"] + json.dumps(
        answer.json_body["error"]["details"]
    )
    assert stores.read_store("store-a").survey.version == 1


def test_only_an_admin_or_the_regions_manager_saves_a_survey(api, store):
    stores.put_store(make_store("store-w", region="west"))

    assert put_survey(api, staff("store-w"), store_id="store-w").status_code == 403
    assert put_survey(api, manager("east"), store_id="store-w").status_code == 403
    assert put_survey(api, manager("west"), store_id="store-w").status_code == 200
    assert put_survey(api, admin(), store_id="store-zz").status_code == 404


def rate_as_kiosk(api: Any, store_id: str = "store-a", **rating: Any) -> Any:
    headers = bearer(issue_kiosk_token("k-1", store_id, now()))
    body = json.dumps(rating_batch(kiosk_rating(**rating)))
    return api.http.post("/v1/kiosk/ratings", headers=headers, body=body)


def test_the_scale_is_locked_once_the_store_has_a_rating_and_free_before(api, store):
    free = put_survey(
        api, admin(), scale={"kind": "stars", "min": 1, "max": 5}, callback_at_or_below=2
    )
    rate_as_kiosk(api, score=4)

    locked = put_survey(api, admin())  # 0-10: another scale
    same_scale = put_survey(
        api, admin(), scale={"kind": "stars", "min": 1, "max": 5}, callback_at_or_below=1
    )

    assert free.status_code == 200
    assert locked.status_code == 409
    assert locked.json_body["error"]["code"] == "scale_locked"
    assert same_scale.status_code == 200
    assert same_scale.json_body["version"] == 3
    assert stores.read_store("store-a").survey.scale.max == 5


def test_the_scale_stays_locked_after_the_ratings_are_aggregated(api, store):
    rate_as_kiosk(api, score=4)
    aggregate(now() + timedelta(minutes=15))  # the watermark passes the rating's arrival

    locked = put_survey(api, admin())

    assert locked.status_code == 409
    assert locked.json_body["error"]["code"] == "scale_locked"
    assert store_flows.has_ratings("store-a", now() + timedelta(minutes=15))
    assert not store_flows.has_ratings("store-b", now() + timedelta(minutes=15))


def test_kiosk_ratings_record_the_version_they_answered(api, store):
    first = rate_as_kiosk(api, score=4)  # a kiosk that sends no version: the one checked
    put_survey(api, admin(), scale={"kind": "smiley", "min": 1, "max": 5}, callback_at_or_below=2)
    queued = rate_as_kiosk(api, score=3, survey_version=1)  # kept offline from version 1
    fresh = rate_as_kiosk(api, score=5, survey_version=2)
    unknown = rate_as_kiosk(api, score=5, survey_version=9)

    versions = [
        ratings.get_rating(answer.json_body["results"][0]["rating_id"]).survey_version
        for answer in (first, queued, fresh, unknown)
    ]

    assert [a.json_body["results"][0]["status"] for a in (first, queued, fresh)] == ["stored"] * 3
    assert versions == [1, 1, 2, 2]
    stored = ratings.stored_rating(first.json_body["results"][0]["rating_id"])
    assert stored["survey_version"] == 1


def test_an_sms_rating_records_the_version_current_when_it_was_given(api, store):
    smiley = {"kind": "smiley", "min": 1, "max": 5}
    put_survey(api, admin(), scale=smiley, callback_at_or_below=2, ask_expectation=False)
    integration = bearer(issue_integration_token("pos", ["store-a"], now()))
    invite_by_api(api, integration, visit_ref="receipt-9")

    Phone(api).send("5")

    sms = [r for r in ratings.every_rating() if r.channel == "sms"]
    assert [(r.score, r.survey_version) for r in sms] == [(5, 2)]


def test_the_kiosk_gets_the_new_version_from_its_next_survey_read(api, store):
    headers = bearer(issue_kiosk_token("k-1", "store-a", now()))
    before = api.http.get("/v1/kiosk/survey", headers=headers).json_body
    put_survey(api, admin())

    after = api.http.get("/v1/kiosk/survey", headers=headers).json_body

    assert before["version"] == 1
    assert after["version"] == 2
    assert after["scale"] == {"kind": "nps", "min": 0, "max": 10}
    assert after["store_name"] == "Store store-a"
    code = api.http.post("/v1/stores/store-a/kiosks", headers=admin(), body="").json_body
    paired = api.http.post(
        "/v1/kiosks/pair",
        headers={"Content-Type": "application/json"},
        body=json.dumps({"pairing_code": code["pairing_code"]}),
    )
    assert paired.json_body["survey"]["version"] == 2


def test_staff_read_the_survey_as_stored_and_kiosks_within_the_store_cache(api, store):
    headers = bearer(issue_kiosk_token("k-1", "store-a", now()))
    assert api.http.get("/v1/kiosk/survey", headers=headers).json_body["version"] == 1
    # Another function saved version 2: this one's cached copy of the store stays older.
    with pytest.MonkeyPatch.context() as other_function:
        other_function.setattr(stores._cache, "clear", lambda: None)
        next_version = DEFAULT_SURVEY.model_copy(update={"version": 2})
        assert stores.save_survey("store-a", next_version, DEFAULT_SURVEY, now())

    kiosk_sees = api.http.get("/v1/kiosk/survey", headers=headers).json_body["version"]
    staff_sees = api.http.get("/v1/stores/store-a/survey", headers=staff("store-a")).json_body
    kiosk_then = api.http.get("/v1/kiosk/survey", headers=headers).json_body["version"]

    assert kiosk_sees == 1  # within STOREPULSE_STORE_CACHE_S of its last read
    assert staff_sees["version"] == 2  # an editor reads what was saved
    assert kiosk_then == 2  # the staff read refreshed this function's copy


def test_people_signed_in_through_the_pool_get_the_stores_their_groups_give(api, store, cognito):
    stores.put_store(make_store("store-w", region="west"))
    mia = bearer(cognito.id_token("mia@example.com", ["manager:west"]))
    sam = bearer(cognito.id_token("sam@example.com", ["store:store-w"]))

    created = post_store(api, mia, store_id="store-w2")
    listed = api.http.get("/v1/stores", headers=mia).json_body["stores"]
    saved = put_survey(api, mia, store_id="store-w2")
    by_staff = put_survey(api, sam, store_id="store-w")
    seen_by_staff = api.http.get("/v1/stores", headers=sam).json_body["stores"]

    assert created.status_code == 201
    assert [s["store_id"] for s in listed] == ["store-w", "store-w2"]
    assert saved.json_body["version"] == 2
    assert by_staff.status_code == 403
    assert [s["store_id"] for s in seen_by_staff] == ["store-w"]


def test_a_rating_of_a_version_newer_than_the_functions_copy_is_checked_against_it(api, store):
    assert rate_as_kiosk(api, store_id="store-b", score=4).status_code == 200  # caches store-b
    headers = bearer(issue_kiosk_token("k-1", "store-a", now()))
    api.http.get("/v1/kiosk/survey", headers=headers)  # this function's copy: version 1, 1-5
    with pytest.MonkeyPatch.context() as other_function:  # saves 0-10 as version 2
        other_function.setattr(stores._cache, "clear", lambda: None)
        change = SurveyChange.model_validate(ZERO_TO_TEN)
        assert stores.save_survey("store-a", change.survey(DEFAULT_SURVEY), DEFAULT_SURVEY, now())

    # A kiosk synced by that other function sends a 9 of version 2.
    answer = rate_as_kiosk(api, score=9, survey_version=2)
    again = rate_as_kiosk(api, score=10, survey_version=2)

    result = answer.json_body["results"][0]
    assert result["status"] == "stored"
    assert ratings.get_rating(result["rating_id"]).survey_version == 2
    assert again.json_body["results"][0]["status"] == "stored"
    assert api.http.get("/v1/kiosk/survey", headers=headers).json_body["version"] == 2
