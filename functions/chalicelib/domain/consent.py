"""Consent: what a customer agreed to, through which channel, and the exact words shown.

The texts live here, once, by version: the kiosk shows its callback text as the API gives it
(`GET /v1/kiosk/survey`), the SMS flow sends its own from here, and every consent record
names the version and the locale the customer read. A text is never edited in place: new
words are a new version, so an old record still points at the words its customer saw.

Purposes: `callback` (the store may phone the customer about the visit) and `sms_survey`
(the number may get survey texts). Channels: `kiosk` (the customer ticked the box),
`sms` (the customer answered YES to the call offer) and `store_system` (the store system
that asked for the invitation vouches for the customer's consent).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

Purpose = Literal["callback", "sms_survey"]
ConsentChannel = Literal["kiosk", "sms", "store_system"]

CONSENT_TEXTS: dict[Purpose, dict[str, dict[str, str]]] = {
    "callback": {
        # The kiosk's consent box (its words before versions were recorded, too).
        "kiosk-1": {
            "en": "Yes, the store may call me about my visit. "
            "My number is used only for this call.",
            "zh-CN": "同意门店就本次购物致电给我。号码仅用于此次回电。",
        },
        # The SMS survey's call offer, which the customer answers YES.
        "sms-1": {
            "en": "Would you like the store manager to call you? Reply YES or NO.",
            "zh-CN": "需要门店经理给您回电吗？请回复 是 或 否。",
        },
    },
    "sms_survey": {
        # The invitation (`{store}`, `{min}`, `{max}` are filled in when it is sent).
        "invitation-1": {
            "en": "{store}: how was your visit today? Reply {min}-{max} ({max} = great). "
            "Reply STOP to opt out.",
            "zh-CN": "{store}：您今天的购物体验如何？请回复 {min}-{max}（{max} = 非常满意）。"
            "回复 退订 或 STOP 取消。",
        },
    },
}
# Where each text is shown: a kiosk may only name a text kiosks show.
SHOWN_ON: dict[str, ConsentChannel] = {
    "kiosk-1": "kiosk",
    "sms-1": "sms",
    "invitation-1": "store_system",
}
# The version each channel shows now.
CURRENT_VERSIONS: dict[tuple[Purpose, ConsentChannel], str] = {
    ("callback", "kiosk"): "kiosk-1",
    ("callback", "sms"): "sms-1",
    ("sms_survey", "store_system"): "invitation-1",
}
KIOSK_CALLBACK_VERSION = CURRENT_VERSIONS[("callback", "kiosk")]
# Kiosk callbacks stored before the kiosk sent a version were given with this text.
FIRST_KIOSK_CALLBACK_VERSION = "kiosk-1"

# A record outlives its purpose by this much: it is the proof of consent when a complaint
# or a claim comes (claims under the US TCPA may be brought for four years).
KEPT_AFTER_PURPOSE = timedelta(days=4 * 365 + 1)


def consent_text(purpose: Purpose, version: str) -> dict[str, str]:
    """The words of one version, per locale (KeyError if there is no such version)."""
    return CONSENT_TEXTS[purpose][version]


def kiosk_callback_version(version: str) -> str:
    """`version` if it names a callback text kiosks show (or showed), else ValueError."""
    if version not in CONSENT_TEXTS["callback"] or SHOWN_ON.get(version) != "kiosk":
        shown = sorted(v for v in CONSENT_TEXTS["callback"] if SHOWN_ON.get(v) == "kiosk")
        raise ValueError(f"consent_version must be one of {shown}")
    return version


def kiosk_survey_consent() -> dict[str, Any]:
    """The consent block of the kiosk's survey: the callback text to show, and its version."""
    version = KIOSK_CALLBACK_VERSION
    return {"callback": {"version": version, "text": dict(consent_text("callback", version))}}


class ConsentSummary(BaseModel):
    """What a callback task shows of the customer's consent to be called."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    given_at: datetime
    channel: ConsentChannel
    version: str

    def view(self) -> dict[str, str]:
        """As the task views show it in `contact.consent`."""
        return {
            "given_at": self.given_at.isoformat(),
            "channel": self.channel,
            "version": self.version,
        }


class ConsentRecord(BaseModel):
    """One customer's consent to one purpose: the latest given, and its withdrawal."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    purpose: Purpose
    channel: ConsentChannel
    version: str
    locale: str
    given_at: datetime
    source: str  # what carried it: the rating, the inbound message or the invitation id
    withdrawn_at: datetime | None = None

    def summary(self) -> ConsentSummary:
        return ConsentSummary(given_at=self.given_at, channel=self.channel, version=self.version)

    def expires_at(self, purpose_lasts: timedelta) -> datetime:
        """When the record may go: its purpose's end (the withdrawal, or `purpose_lasts`
        after it was given) plus KEPT_AFTER_PURPOSE."""
        return purpose_end(self.given_at, self.withdrawn_at, purpose_lasts) + KEPT_AFTER_PURPOSE


def purpose_end(
    given_at: datetime | None, withdrawn_at: datetime | None, purpose_lasts: timedelta
) -> datetime:
    """The withdrawal ends a purpose; else it lasts `purpose_lasts` after consent was given."""
    if withdrawn_at is not None:
        return withdrawn_at
    if given_at is None:
        raise ValueError("consent neither given nor withdrawn")
    return given_at + purpose_lasts


def given(
    purpose: Purpose,
    channel: ConsentChannel,
    *,
    locale: str,
    at: datetime,
    source: str,
    version: str | None = None,
) -> ConsentRecord:
    """Consent given now through `channel`, with the text it shows now unless `version`
    names the one the customer saw."""
    return ConsentRecord(
        purpose=purpose,
        channel=channel,
        version=version or CURRENT_VERSIONS[(purpose, channel)],
        locale=locale,
        given_at=at,
        source=source,
    )


def from_kiosk(rating_id: str, contact: dict[str, Any], locale: str, at: datetime) -> ConsentRecord:
    """The callback consent a kiosk rating's contact carries (ticked at `at`, the tap)."""
    version = contact.get("consent_version") or FIRST_KIOSK_CALLBACK_VERSION
    return given("callback", "kiosk", locale=locale, at=at, source=rating_id, version=str(version))
