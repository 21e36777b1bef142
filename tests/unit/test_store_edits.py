"""What staff may send to create and edit stores and surveys (plain values), and the version
a kiosk rating records."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pydantic import ValidationError

from chalicelib.domain.ratings import accept_kiosk_rating, answered_version
from chalicelib.domain.store_edits import (
    NewStore,
    StoreChanges,
    SurveyChange,
    hours_by_weekday,
    store_view,
)
from chalicelib.domain.survey import DEFAULT_SURVEY, Scale, Store

SURVEY: dict[str, Any] = {
    "locales": ["en", "zh-CN"],
    "question": {"en": "How was it?", "zh-CN": "怎么样？"},
    "scale": {"kind": "nps", "min": 0, "max": 10},
    "reasons": ["wait_time", "staff"],
    "reason_labels": {
        "en": {"wait_time": "Wait time", "staff": "Staff"},
        "zh-CN": {"wait_time": "等待时间", "staff": "员工服务"},
    },
    "callback_at_or_below": 6,
}
STORE: dict[str, Any] = {
    "store_id": "store-n",
    "name": "North",
    "timezone": "Europe/Paris",
    "country": "FR",
}


def test_a_survey_change_is_the_next_version_of_the_current_one():
    survey = SurveyChange.model_validate(SURVEY).survey(DEFAULT_SURVEY)

    assert survey.version == DEFAULT_SURVEY.version + 1
    assert survey.survey_id == DEFAULT_SURVEY.survey_id
    assert survey.scale == Scale(kind="nps", min=0, max=10)
    assert survey.default_locale == "en"
    assert survey.reason_labels["zh-CN"]["staff"] == "员工服务"


@pytest.mark.parametrize(
    ("changes", "says"),
    [
        ({"question": {"en": "How was it?"}}, "question: one per locale"),
        ({"question": {"en": "x", "zh-CN": "y", "fr": "z"}}, "question"),
        ({"reason_labels": {"en": {"wait_time": "Wait", "staff": "Staff"}}}, "reason_labels.zh-CN"),
        (
            {"reason_labels": SURVEY["reason_labels"] | {"en": {"wait_time": "Wait"}}},
            "reason_labels.en",
        ),
        ({"callback_at_or_below": 11}, "a score of the scale (0 to 10)"),
        ({"callback_at_or_below": -1}, "a score of the scale"),
        ({"locales": ["en", "en"], "question": {"en": "x"}}, "each once"),
        ({"locales": []}, "locales"),
        ({"default_locale": "zh-CN", "locales": ["en"], "question": {"en": "x"}}, "default_locale"),
        ({"reasons": ["wait_time", "wait_time"]}, "reasons: each once"),
        ({"reasons": ["Wait time"]}, "reasons"),
        ({"reasons": [f"r{i}" for i in range(11)]}, "reasons"),
        ({"scale": {"kind": "stars", "min": 3, "max": 3}}, "scale"),
        ({"question": {"en": "", "zh-CN": "y"}}, "question"),
        ({"surprise": True}, "surprise"),
    ],
)
def test_an_incomplete_survey_is_refused_naming_what_is_missing(changes, says):
    with pytest.raises(ValidationError) as refused:
        SurveyChange.model_validate(SURVEY | changes)

    assert says in str(refused.value)


def test_a_survey_without_reasons_needs_no_labels():
    change = SurveyChange.model_validate(SURVEY | {"reasons": [], "reason_labels": {}})

    assert change.survey(DEFAULT_SURVEY).reasons == []


def test_a_new_store_gets_the_survey_given_and_its_hours_by_weekday():
    request = NewStore.model_validate(
        STORE | {"region": "west", "opening_hours": {"mon": [8, 20], "sun": [10, 16]}}
    )

    store = request.store(DEFAULT_SURVEY)

    assert store.opening_hours == {0: (8, 20), 6: (10, 16)}
    assert store.region == "west"
    assert store.survey is DEFAULT_SURVEY
    assert store_view(store)["opening_hours"] == {"mon": [8, 20], "sun": [10, 16]}


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("timezone", "Europe/Atlantis"),
        ("timezone", "/etc/localtime"),
        ("timezone", ""),
        ("country", "ZZ"),
        ("country", "France"),
        ("opening_hours", {"mon": [8, 8]}),
        ("opening_hours", {"holiday": [8, 20]}),
        ("opening_hours", {"mon": [-1, 20]}),
        ("sms_window", [20, 8]),
        ("region", "-west"),
        ("name", "two\nlines"),
        ("store_id", "x"),
    ],
)
def test_a_store_field_out_of_its_rules_is_refused(field, value):
    with pytest.raises(ValidationError) as refused:
        NewStore.model_validate(STORE | {field: value})

    assert field in str(refused.value)


def test_a_store_change_touches_only_the_fields_sent_and_null_clears():
    store = NewStore.model_validate(
        STORE | {"region": "west", "opening_hours": {"mon": [8, 20]}}
    ).store(DEFAULT_SURVEY)

    changes = StoreChanges.model_validate({"name": "North 2", "opening_hours": None})
    changed = changes.applied_to(store)

    assert changes.model_fields_set == {"name", "opening_hours"}
    assert (changed.name, changed.opening_hours) == ("North 2", None)
    assert (changed.timezone, changed.region, changed.survey) == (
        "Europe/Paris",
        "west",
        DEFAULT_SURVEY,
    )


@pytest.mark.parametrize("field", ["name", "timezone", "country"])
def test_a_required_field_cannot_be_cleared(field):
    with pytest.raises(ValidationError, match=f"{field} cannot be null"):
        StoreChanges.model_validate({field: None})


def test_hours_by_weekday_keeps_none_as_unknown():
    assert hours_by_weekday(None) is None
    assert hours_by_weekday({}) == {}


def test_the_store_view_names_its_survey_version_and_no_webhook():
    store = Store(
        store_id="store-v",
        name="V",
        survey=DEFAULT_SURVEY.model_copy(update={"version": 4}),
        chat_webhook_url="https://hooks.example.com/x",
        sms_window=(9, 19),
    )

    view = store_view(store)

    assert view["survey_version"] == 4
    assert view["sms_window"] == [9, 19]
    assert "chat_webhook_url" not in view
    assert "survey" not in view


@pytest.mark.parametrize(
    ("sent", "current", "recorded"),
    [(None, 3, 3), (1, 3, 1), (3, 3, 3), (4, 3, 3), (None, 1, 1)],
)
def test_a_kiosk_rating_records_the_version_it_showed_when_that_is_known(sent, current, recorded):
    survey = DEFAULT_SURVEY.model_copy(update={"version": current})
    now = datetime(2026, 12, 3, 12, tzinfo=UTC)
    raw: dict[str, Any] = {
        "rating_id": "6f1c1c9e-5d0b-4a8e-9a7e-0c2b9d1f4e21",
        "score": 4,
        "tapped_at": (now - timedelta(seconds=5)).isoformat(),
    }
    if sent is not None:
        raw["survey_version"] = sent

    rating = accept_kiosk_rating(
        raw, survey=survey, store_id="s", kiosk_id="k", sent_at=now, received_at=now
    )

    assert rating.survey_version == recorded == answered_version(sent, survey)


@pytest.mark.parametrize("sent", [0, -2, "2", 1.5])
def test_a_kiosk_rating_with_a_version_that_is_no_version_is_refused(sent):
    now = datetime(2026, 12, 3, 12, tzinfo=UTC)
    raw = {
        "rating_id": "6f1c1c9e-5d0b-4a8e-9a7e-0c2b9d1f4e21",
        "score": 4,
        "tapped_at": now.isoformat(),
        "survey_version": sent,
    }

    with pytest.raises(ValidationError, match="survey_version"):
        accept_kiosk_rating(
            raw, survey=DEFAULT_SURVEY, store_id="s", kiosk_id="k", sent_at=now, received_at=now
        )
