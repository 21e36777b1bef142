"""Consent texts, versions and retention, with plain values (issue 11, point 3)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.domain.consent import (
    CONSENT_TEXTS,
    CURRENT_VERSIONS,
    KEPT_AFTER_PURPOSE,
    SHOWN_ON,
    from_kiosk,
    given,
    kiosk_callback_version,
    kiosk_survey_consent,
)
from chalicelib.domain.sms_conversation import MESSAGES, message
from chalicelib.domain.survey import DEFAULT_SURVEY

pytestmark = pytest.mark.unit

AT = datetime(2026, 11, 25, 15, 0, tzinfo=UTC)


def test_every_text_has_both_languages_and_says_where_it_is_shown():
    for versions in CONSENT_TEXTS.values():
        for version, texts in versions.items():
            assert set(texts) == {"en", "zh-CN"}, version
            assert version in SHOWN_ON
    for (purpose, channel), version in CURRENT_VERSIONS.items():
        assert version in CONSENT_TEXTS[purpose]
        assert SHOWN_ON[version] == channel


def test_the_sms_texts_customers_consent_on_are_the_versioned_ones():
    offer = CONSENT_TEXTS["callback"][CURRENT_VERSIONS[("callback", "sms")]]
    invitation = CONSENT_TEXTS["sms_survey"][CURRENT_VERSIONS[("sms_survey", "store_system")]]

    for locale in ("en", "zh-CN"):
        assert MESSAGES[locale]["ask_callback"] == offer[locale]
        sent = message("invitation", locale, DEFAULT_SURVEY, "Store A")
        assert sent == invitation[locale].format(store="Store A", min=1, max=5)


def test_a_kiosk_may_only_name_a_kiosk_text():
    assert kiosk_callback_version("kiosk-1") == "kiosk-1"
    for version in ("sms-1", "invitation-1", "kiosk-2", ""):
        with pytest.raises(ValueError, match="kiosk-1"):
            kiosk_callback_version(version)


def test_the_kiosk_survey_gives_the_current_text_and_its_version():
    block = kiosk_survey_consent()

    assert block["callback"]["version"] == CURRENT_VERSIONS[("callback", "kiosk")]
    assert block["callback"]["text"] == CONSENT_TEXTS["callback"][block["callback"]["version"]]


def test_a_kiosk_contact_stored_before_versions_was_given_with_the_first_text():
    record = from_kiosk("r-1", {"phone": "+14155550123"}, "en", AT)

    assert (record.purpose, record.channel, record.version) == ("callback", "kiosk", "kiosk-1")
    assert (record.given_at, record.source, record.locale) == (AT, "r-1", "en")


def test_a_record_outlives_its_purpose_by_the_documented_period():
    lasts = timedelta(days=30)
    record = given("callback", "sms", locale="en", at=AT, source="m-1")
    withdrawn = record.model_copy(update={"withdrawn_at": AT + timedelta(days=2)})

    assert record.expires_at(lasts) == AT + lasts + KEPT_AFTER_PURPOSE
    assert withdrawn.expires_at(lasts) == AT + timedelta(days=2) + KEPT_AFTER_PURPOSE
    assert timedelta(days=4 * 365) <= KEPT_AFTER_PURPOSE
