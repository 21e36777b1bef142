"""SMS surveys: opt-outs, conversations, invitations and SMS callback requests.

Key formats (`<key>` is the keyed HMAC of the phone number, never the number itself)
  opt-out:            pk = PHONE#<key>,  sk = OPT_OUT        (kept: an opt-out never expires;
                      `published_at`: when the provider published the STOP, where it says)
  last survey:        pk = PHONE#<key>,  sk = SURVEYED       (expires_at: after the cool-down)
  conversation:       pk = PHONE#<key>,  sk = CONVERSATION   (expires_at: invitation lifetime)
  inbound messages:   pk = PHONE#<key>,  sk = INBOUND        (message_ids: a string set of every
                      provider message id processed; expires_at: the phone retention)
  invitation:         pk = INVITATION#<id>, sk = INVITATION  (expires_at: invitation lifetime)
    scheduled ones:   gsi1pk = SCHEDULED_SMS#<send hour, UTC>, gsi1sk = <send_at>#<id>
  a void claim:       pk = INVITATION#<id>, sk = VOID#<claim_id>  (expires_at: as the
                      invitation's; a write of that claim whose answer was lost can no
                      longer land: it checks that this item does not exist)
    the scheduled sender's: on the schedule as the invitation was, with its phone, until a
                      run takes the invitation over from it (or finds it sent by another)
  a conversation whose score waits for its expectation answer:
                      gsi1pk = UNANSWERED_SMS#<due hour, UTC>, gsi1sk = <due>#<key>
  consent records (storage/consents.py) share the number's partition: sk = CONSENT#<purpose>
  callback requests: storage/callback_requests.py (written here, with the conversation)
Items holding a phone number (conversation, scheduled invitation) expire by TTL; TTL deletes
lazily, so readers check `expires_at` themselves.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError

from ..config import secret, settings
from ..domain.consent import ConsentRecord
from ..domain.invitations import Invitation, SurveyHistory
from ..domain.phones import phone_key
from ..domain.sms_conversation import EXPECTATION_WAIT, Conversation
from ..errors import DependencyUnavailable
from . import callback_requests, consents
from .dynamodb import (
    answered,
    busy,
    client,
    error_code,
    from_item,
    query_all,
    raw_item,
    table_name,
    to_item,
    transact,
    transact_each,
    unavailable_on_failure,
    utc_hour,
    utc_iso,
)

# Schedules on the `arrivals` index (beside the ratings' ARRIVAL# partitions), by due hour.
_SCHEDULED = "SCHEDULED_SMS#"  # invitations waiting for the sending window
_UNANSWERED = "UNANSWERED_SMS#"  # scores waiting for their expectation answer


def key_of(phone: str) -> str:
    return phone_key(phone, secret(settings().phone_hmac_secret_name))


def _phone(key: str, sk: str) -> dict[str, str]:
    return {"pk": f"PHONE#{key}", "sk": sk}


def _invitation_key(invitation_id: str) -> dict[str, str]:
    return {"pk": f"INVITATION#{invitation_id}", "sk": "INVITATION"}


def _void_key(invitation_id: str, claim_id: str) -> dict[str, str]:
    return {"pk": f"INVITATION#{invitation_id}", "sk": f"VOID#{claim_id}"}


def _not_void(invitation_id: str, claim_id: str) -> dict[str, Any]:
    """The transaction item that cancels a claim's write once the claim is void."""
    return {
        "ConditionCheck": {
            "TableName": table_name(),
            "Key": to_item(_void_key(invitation_id, claim_id)),
            "ConditionExpression": "attribute_not_exists(pk)",
        }
    }


def _epoch(moment: datetime) -> int:
    return int(moment.timestamp())


def _iso(moment: datetime) -> str:
    # Times here are to the second; a STOP's `published_at` to the millisecond (its order
    # against a START's decides).
    return utc_iso(moment, "seconds")


def _live(item: dict[str, Any] | None, now: datetime) -> dict[str, Any] | None:
    if item is None or ("expires_at" in item and int(item["expires_at"]) <= _epoch(now)):
        return None
    return item


def survey_history(key: str, now: datetime) -> SurveyHistory:
    """The number's opt-out and last survey, in one round trip."""
    keys = [to_item(_phone(key, "OPT_OUT")), to_item(_phone(key, "SURVEYED"))]
    with unavailable_on_failure():
        response = client().batch_get_item(
            RequestItems={table_name(): {"Keys": keys, "ConsistentRead": True}}
        )
    if response.get("UnprocessedKeys"):
        raise busy()
    items = {item["sk"]: item for item in map(from_item, response["Responses"][table_name()])}
    surveyed = _live(items.get("SURVEYED"), now)
    return SurveyHistory(
        opted_out="OPT_OUT" in items,
        last_surveyed=datetime.fromisoformat(str(surveyed["surveyed_at"])) if surveyed else None,
        last_invitation_id=str(surveyed["invitation_id"])
        if surveyed and "invitation_id" in surveyed
        else None,
    )


def is_opted_out(key: str) -> bool:
    with unavailable_on_failure():
        response = client().get_item(
            TableName=table_name(), Key=to_item(_phone(key, "OPT_OUT")), ConsistentRead=True
        )
    return "Item" in response


@dataclass(frozen=True)
class InboundState:
    """What an inbound message of a number is read against."""

    conversation: Conversation | None
    processed: frozenset[str]  # every inbound message id already processed for the number
    # When the message that opted the number out was published (None: not opted out, or
    # the provider gave no time).
    opted_out_published_at: datetime | None
    # The last message processed for the number and the reply it got (None: none), so a
    # redelivery of it is answered the same (records written before they were kept: None).
    last_message_id: str | None = None
    last_reply: str | None = None


def inbound_state(key: str, now: datetime) -> InboundState:
    """The number's live conversation, the ids of every inbound message already processed
    for it (a redelivery or a replay is one of these) and its opt-out, in one round trip."""
    keys = [to_item(_phone(key, sk)) for sk in ("CONVERSATION", "INBOUND", "OPT_OUT")]
    with unavailable_on_failure():
        response = client().batch_get_item(
            RequestItems={table_name(): {"Keys": keys, "ConsistentRead": True}}
        )
    if response.get("UnprocessedKeys"):
        raise busy()
    items = {item["sk"]: item for item in map(from_item, response["Responses"][table_name()])}
    conversation = _live(items.get("CONVERSATION"), now)
    seen = _live(items.get("INBOUND"), now)
    opt_out = items.get("OPT_OUT")
    return InboundState(
        conversation=Conversation.model_validate(conversation) if conversation else None,
        processed=frozenset(str(i) for i in seen.get("message_ids", ())) if seen else frozenset(),
        opted_out_published_at=datetime.fromisoformat(str(opt_out["published_at"]))
        if opt_out and "published_at" in opt_out
        else None,
        last_message_id=str(seen["last_message_id"])
        if seen and "last_message_id" in seen
        else None,
        last_reply=str(seen["last_reply"]) if seen and "last_reply" in seen else None,
    )


def _processed(
    key: str, message_id: str, now: datetime, reply: str | None = None
) -> dict[str, Any]:
    """The transaction item that records `message_id` as processed for this number, and the
    reply it gets, beside the effect of the message: all happen or none does (a provider's
    retry after a failure is then processed afresh, a redelivery after success changes
    nothing and gets the same reply: its first answer may have been lost)."""
    retention = timedelta(days=settings().phone_retention_days)
    values: dict[str, Any] = {
        ":id": {message_id},
        ":type": "inbound",
        ":expires": _epoch(now + retention),
        ":last": message_id,
    }
    update = "ADD message_ids :id SET #type = :type, expires_at = :expires, last_message_id = :last"
    if reply is None:
        update += " REMOVE last_reply"
    else:
        update += ", last_reply = :reply"
        values[":reply"] = reply
    return {
        "Update": {
            "TableName": table_name(),
            "Key": to_item(_phone(key, "INBOUND")),
            "UpdateExpression": update,
            "ExpressionAttributeNames": {"#type": "type"},
            "ExpressionAttributeValues": to_item(values),
        }
    }


def remember_message(key: str, message_id: str, now: datetime, reply: str | None = None) -> None:
    """Record a message whose only effect is its reply (HELP), or that has none."""
    if not transact([_processed(key, message_id, now, reply)]):
        raise busy()


def opt_out(
    key: str,
    now: datetime,
    source: str,
    published_at: datetime | None = None,
    confirmation: str | None = None,
) -> bool:
    """Record an opt-out; True the first time, or when this message's own earlier write
    made it (only then is it confirmed to the customer, with `confirmation`, recorded as
    the message's reply). `source`, the message's id, is
    recorded as processed with it; `published_at`, when the provider published it (a START
    published before it cannot undo it)."""
    item = _phone(key, "OPT_OUT") | {"type": "opt_out", "at": _iso(now), "source": source}
    if published_at is not None:
        item["published_at"] = utc_iso(published_at, "milliseconds")
    first = transact(
        [
            {
                "Put": {
                    "TableName": table_name(),
                    "Item": to_item(item),
                    "ConditionExpression": "attribute_not_exists(pk)",
                }
            },
            # No survey goes on after STOP.
            {"Delete": {"TableName": table_name(), "Key": to_item(_phone(key, "CONVERSATION"))}},
            # The customer asked for no more texts: the consent to SMS surveys is withdrawn.
            # A callback is a phone call, not a text: its consent stays unless withdrawn.
            consents.withdrawal_item(key, "sms_survey", now),
            _processed(key, source, now, confirmation),
        ]
    )
    if first:
        return True
    if _opted_out_by(key) == source:
        # Our own earlier write, whose answer was lost, landed after the state was read
        # (a stall): it recorded the message and its confirmation, which is still owed.
        return True
    remember_message(key, source, now)
    return False


def _opted_out_by(key: str) -> str | None:
    """The id of the message that opted the number out (None: not opted out)."""
    with unavailable_on_failure():
        response = client().get_item(
            TableName=table_name(), Key=to_item(_phone(key, "OPT_OUT")), ConsistentRead=True
        )
    return str(from_item(response["Item"])["source"]) if "Item" in response else None


def opt_in(key: str, message_id: str, now: datetime, reply: str | None = None) -> None:
    """Remove an opt-out, if there is one; the message is recorded as processed with it (and
    its `reply`), so a replay of an old START can never undo a later STOP."""
    if not transact(
        [
            {"Delete": {"TableName": table_name(), "Key": to_item(_phone(key, "OPT_OUT"))}},
            _processed(key, message_id, now, reply),
        ]
    ):
        raise busy()


def get_conversation(key: str, now: datetime) -> Conversation | None:
    with unavailable_on_failure():
        response = client().get_item(
            TableName=table_name(), Key=to_item(_phone(key, "CONVERSATION")), ConsistentRead=True
        )
    item = _live(from_item(response["Item"]) if "Item" in response else None, now)
    return Conversation.model_validate(item) if item else None


def _conversation_item(key: str, conversation: Conversation) -> dict[str, Any]:
    # The survey can be answered while the invitation lives (72 h by default); then the
    # conversation, and the phone number in it, expire.
    lifetime = timedelta(hours=settings().invitation_ttl_hours)
    values = (
        _phone(key, "CONVERSATION")
        | {"type": "conversation", "expires_at": _epoch(conversation.started_at + lifetime)}
        | conversation.model_dump(mode="json", exclude_none=True)
    )
    pending = conversation.pending_rating
    if pending is not None:
        # A score waiting for its expectation answer is on the schedule until it is stored
        # (the next state's Put takes it off: a whole item without these keys).
        due = pending.tapped_at + EXPECTATION_WAIT
        values["gsi1pk"] = f"{_UNANSWERED}{utc_hour(due)}"
        values["gsi1sk"] = f"{_iso(due)}#{key}"
    return to_item(values)


def save_conversation(
    key: str,
    conversation: Conversation,
    message_id: str,
    now: datetime,
    consent: ConsentRecord | None = None,
) -> bool:
    """Store the next state, with `message_id` recorded as processed; False if another
    message moved it first (optimistic lock). A conversation that ends with "call me back"
    writes the callback request in the same transaction, and the consent the step gave
    (`consent`), so a retried message can neither lose nor repeat them."""
    items: list[Any] = [
        _processed(key, message_id, now, conversation.last_reply),
        {
            "Put": {
                "TableName": table_name(),
                "Item": _conversation_item(key, conversation),
                "ConditionExpression": "version = :previous",
                "ExpressionAttributeValues": to_item({":previous": conversation.version - 1}),
            }
        },
    ]
    if conversation.callback_requested:
        items.append(callback_requests.request_item(conversation, now))
    if consent is not None:
        items.append(consents.given_item(key, consent))
    return transact(items)


def _invitation_item(
    invitation: Invitation, phone: str | None, claim_id: str | None = None
) -> dict[str, Any]:
    values: dict[str, Any] = {
        **_invitation_key(invitation.invitation_id),
        "type": "invitation",
        **invitation.model_dump(mode="json", exclude_none=True),
        "expires_at": _epoch(invitation.expires_at),
    }
    if claim_id is not None:
        values["claim_id"] = claim_id
    if invitation.status == "scheduled" and invitation.send_at and phone:
        values["phone"] = phone
        values["gsi1pk"] = f"{_SCHEDULED}{utc_hour(invitation.send_at)}"
        values["gsi1sk"] = f"{_iso(invitation.send_at)}#{invitation.invitation_id}"
    return to_item(values)


def get_invitation(invitation_id: str) -> Invitation | None:
    with unavailable_on_failure():
        response = client().get_item(
            TableName=table_name(),
            Key=to_item(_invitation_key(invitation_id)),
            ConsistentRead=True,
        )
    return Invitation.model_validate(from_item(response["Item"])) if "Item" in response else None


def record_invitation(
    invitation: Invitation,
    *,
    key: str | None,
    phone: str | None,
    conversation: Conversation | None,
    consent: ConsentRecord | None = None,
    claim_id: str | None = None,
    fits: Callable[[], bool] = lambda: True,
) -> bool:
    """Write an invitation with its conversation, the number's last-survey mark and the
    consent it is sent on, all or nothing. False if an invitation with this id exists (a
    store system's retry, or our own write whose answer was lost: `claim_id`, the writer's
    own id, tells them apart through `stored_claims`). Not written once `claim_id` is
    void (`void_claim`). Sent again while its answer is lost and `fits()` (see
    `answered`); DependencyUnavailable if no answer came."""
    writes = _invitation_writes(invitation, key, phone, conversation, consent, claim_id)
    writes[0]["Put"]["ConditionExpression"] = "attribute_not_exists(pk)"
    return answered(lambda: transact(writes), fits)


def take_over_invitation(
    invitation: Invitation,
    void: str,
    *,
    key: str,
    phone: str,
    conversation: Conversation,
    consent: ConsentRecord,
    claim_id: str,
    fits: Callable[[], bool] = lambda: True,
) -> bool:
    """Write `invitation` under `claim_id` over the stored one whose claim `void` is void
    (whoever held it never texted it, and never will: see `void_claim`), like
    `record_invitation`. False if the stored one is no longer that claim's (taken over or
    forgotten meanwhile, or our own earlier send landed: `stored_claims` tells)."""
    writes = _invitation_writes(invitation, key, phone, conversation, consent, claim_id)
    writes[0]["Put"]["ConditionExpression"] = "claim_id = :void"
    writes[0]["Put"]["ExpressionAttributeValues"] = to_item({":void": void})
    writes.append(
        {
            "ConditionCheck": {
                "TableName": table_name(),
                "Key": to_item(_void_key(invitation.invitation_id, void)),
                "ConditionExpression": "attribute_exists(pk)",
            }
        }
    )
    return answered(lambda: transact(writes), fits)


def _invitation_writes(
    invitation: Invitation,
    key: str | None,
    phone: str | None,
    conversation: Conversation | None,
    consent: ConsentRecord | None,
    claim_id: str | None,
) -> list[Any]:
    """The transaction items of an invitation's write; the first one puts the invitation
    (its condition is the caller's)."""
    items: list[Any] = [
        {"Put": {"TableName": table_name(), "Item": _invitation_item(invitation, phone, claim_id)}}
    ]
    if key and invitation.status != "suppressed":
        cooldown = timedelta(days=settings().survey_cooldown_days)
        surveyed = _phone(key, "SURVEYED") | {
            "type": "surveyed",
            # Which invitation took the cool-down: a scheduled one that finds another's
            # mark at its send time crossed with it, and stays unsent.
            "invitation_id": invitation.invitation_id,
            "surveyed_at": _iso(invitation.created_at),
            "expires_at": _epoch(invitation.created_at + cooldown),
        }
        items.append({"Put": {"TableName": table_name(), "Item": to_item(surveyed)}})
    if key and conversation is not None:
        items.append(
            {"Put": {"TableName": table_name(), "Item": _conversation_item(key, conversation)}}
        )
    if key and consent is not None:
        items.append(consents.given_item(key, consent))
    if claim_id is not None:
        items.append(_not_void(invitation.invitation_id, claim_id))
    return items


def invitation_claim(invitation_id: str) -> str | None:
    """Who wrote the invitation, or last took it off the schedule to send it: their
    `claim_id` (None: no such invitation, or none recorded)."""
    with unavailable_on_failure():
        response = client().get_item(
            TableName=table_name(),
            Key=to_item(_invitation_key(invitation_id)),
            ConsistentRead=True,
            ProjectionExpression="claim_id",
        )
    claim = from_item(response["Item"]).get("claim_id") if "Item" in response else None
    return None if claim is None else str(claim)


@dataclass(frozen=True)
class StoredClaims:
    """An invitation as stored (None: none), who holds it (its `claim_id`: who wrote it,
    or last took it off the schedule; None: none recorded) and the void claims."""

    invitation: Invitation | None
    holder: str | None
    void: frozenset[str]


def stored_claims(invitation_id: str) -> StoredClaims:
    """The invitation, its holder and the void claims, in one round trip (one partition)."""
    items = query_all(
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues=to_item({":pk": _invitation_key(invitation_id)["pk"]}),
        ConsistentRead=True,
    )
    stored = next((item for item in items if item["sk"] == "INVITATION"), None)
    return StoredClaims(
        invitation=Invitation.model_validate(stored) if stored else None,
        holder=str(stored["claim_id"]) if stored and "claim_id" in stored else None,
        void=frozenset(
            str(item["sk"]).removeprefix("VOID#") for item in items if item is not stored
        ),
    )


def void_claim(invitation_id: str, claim_id: str, expires_at: datetime) -> None:
    """Make `claim_id` void: a write of it still on its way (its answer was lost: a timeout
    may deliver it later) is cancelled when it arrives, so what is stored stops changing
    and can be read. Only a claim that was not texted, and will not be, is made void: an
    invitation held by one may be taken over (`take_over_invitation`). Safe to repeat."""
    item: dict[str, Any] = _void_key(invitation_id, claim_id) | {"type": "void_claim"}
    item["expires_at"] = _epoch(expires_at)
    with unavailable_on_failure():
        client().put_item(TableName=table_name(), Item=to_item(item))


def forget_invitation(invitation: Invitation, key: str, claim_id: str) -> bool:
    """Undo `record_invitation` of `claim_id` when its SMS was not sent (the caller is told
    to retry, and the retry starts afresh); False if the stored invitation is not that
    claim's (none, or another request's: left alone). The consent record stays: the store
    system vouched for it, and its retry writes it again."""
    return transact(
        [
            {
                "Delete": {
                    "TableName": table_name(),
                    "Key": to_item(_invitation_key(invitation.invitation_id)),
                    "ConditionExpression": "claim_id = :mine",
                    "ExpressionAttributeValues": to_item({":mine": claim_id}),
                }
            },
            {"Delete": {"TableName": table_name(), "Key": to_item(_phone(key, "SURVEYED"))}},
            {"Delete": {"TableName": table_name(), "Key": to_item(_phone(key, "CONVERSATION"))}},
        ]
    )


def due_invitations(now: datetime, lookback: timedelta) -> list[str]:
    """Ids of scheduled invitations whose send time has come, each once (a Query per hour,
    no scan): those still scheduled, and those a run took and gave up (`void_scheduled_claim`
    lists the void claim on the schedule in the invitation's place)."""
    due = (pk.removeprefix("INVITATION#") for pk in _due(_SCHEDULED, now, lookback))
    return list(dict.fromkeys(due))


def unanswered_expectations(now: datetime, lookback: timedelta) -> list[str]:
    """Keys of the numbers whose score has waited EXPECTATION_WAIT for its expectation answer
    (a Query per hour, no scan)."""
    return [pk.removeprefix("PHONE#") for pk in _due(_UNANSWERED, now, lookback)]


def _due(prefix: str, now: datetime, lookback: timedelta) -> list[str]:
    """The pk of every item on one of the schedules the `arrivals` index holds, due by now.
    An hour whose Query fails is left out (its items stay on the schedule for the next
    run): one failure in the lookback's 72 Queries must not stop the run's other hours.
    DependencyUnavailable only when every hour failed."""
    due: list[str] = []
    hour = (now - lookback).replace(minute=0, second=0, microsecond=0)
    hours = failed = 0
    while hour <= now:
        hours += 1
        try:
            items = query_all(
                IndexName="arrivals",
                KeyConditionExpression="gsi1pk = :hour AND gsi1sk <= :now",
                ExpressionAttributeValues=to_item(
                    {":hour": f"{prefix}{hour:%Y-%m-%dT%H}", ":now": f"{_iso(now)}#~"}
                ),
            )
        except DependencyUnavailable:
            failed += 1
        else:
            due.extend(str(item["pk"]) for item in items)
        hour += timedelta(hours=1)
    if failed == hours:
        raise DependencyUnavailable("storage is unavailable; retry later", settings().retry_after_s)
    return due


def waiting_conversation(key: str) -> Conversation | None:
    """The number's conversation if a score in it waits for its expectation answer, expired
    or not (the score must be stored even if the job comes late)."""
    with unavailable_on_failure():
        response = client().get_item(
            TableName=table_name(), Key=to_item(_phone(key, "CONVERSATION")), ConsistentRead=True
        )
    if "Item" not in response:
        return None
    conversation = Conversation.model_validate(from_item(response["Item"]))
    return conversation if conversation.pending_rating is not None else None


def settle_unanswered(key: str, conversation: Conversation) -> bool:
    """Take the stored score out of the conversation and off the schedule (a later answer to
    the expectation question then only moves the conversation on). False if a message moved
    the conversation meanwhile (its step stored the rating, or finds it stored)."""
    try:
        with unavailable_on_failure():
            client().update_item(
                TableName=table_name(),
                Key=to_item(_phone(key, "CONVERSATION")),
                UpdateExpression="SET version = :next REMOVE pending_rating, gsi1pk, gsi1sk",
                ConditionExpression="version = :read",
                ExpressionAttributeValues=to_item(
                    {":read": conversation.version, ":next": conversation.version + 1}
                ),
            )
    except ClientError as error:
        if error_code(error) == "ConditionalCheckFailedException":
            return False
        raise
    return True


@dataclass(frozen=True)
class ScheduledInvitation:
    """An invitation waiting for its send time, and the number it is to go to; or one a run
    took and gave up (`held_by`: the void claim that holds it, never texted). `listed`: the
    void claims on the schedule for it, taken off it with the invitation."""

    invitation: Invitation
    phone: str
    held_by: str | None = None
    listed: frozenset[str] = frozenset()


def scheduled_invitation(invitation_id: str) -> ScheduledInvitation | None:
    """A due invitation with its number: still scheduled, or taken by a claim that was made
    void (never texted: the caller takes it over). None once neither (sent, held back,
    expired); then the void claims still on the schedule for it are taken off it. One
    Query of the invitation's partition."""
    items = query_all(
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues=to_item({":pk": _invitation_key(invitation_id)["pk"]}),
        ConsistentRead=True,
    )
    stored = next((item for item in items if item["sk"] == "INVITATION"), None)
    voids = {str(item["sk"]).removeprefix("VOID#"): item for item in items if item is not stored}
    listed = {claim: item for claim, item in voids.items() if "gsi1pk" in item}
    if stored is not None and stored.get("status") == "scheduled":
        invitation = Invitation.model_validate(stored)
        return ScheduledInvitation(invitation, str(stored["phone"]), listed=frozenset(listed))
    holder = stored.get("claim_id") if stored is not None else None
    if stored is not None and stored.get("status") == "sent" and holder in voids and listed:
        phone = str(next(iter(listed.values()))["phone"])
        invitation = Invitation.model_validate(stored)
        return ScheduledInvitation(invitation, phone, held_by=str(holder), listed=frozenset(listed))
    if listed:
        transact_each([_unlisted(invitation_id, claim) for claim in listed])
    return None


def _unlisted(invitation_id: str, claim_id: str) -> dict[str, Any]:
    """The transaction item that takes a void claim off the schedule (it stays void)."""
    return {
        "Update": {
            "TableName": table_name(),
            "Key": to_item(_void_key(invitation_id, claim_id)),
            "UpdateExpression": "REMOVE gsi1pk, gsi1sk, phone",
            # Not an item made afresh should TTL have deleted it meanwhile.
            "ConditionExpression": "attribute_exists(pk)",
        }
    }


def _held(scheduled: ScheduledInvitation) -> tuple[str, dict[str, Any]]:
    """The condition, and its values, of a write that takes `scheduled` as it was read:
    still scheduled, or still held by the same void claim (whose run never texted it)."""
    if scheduled.held_by is None:
        return "#status = :scheduled", {":scheduled": "scheduled"}
    return "claim_id = :held", {":held": scheduled.held_by}


def claim_scheduled(
    scheduled: ScheduledInvitation,
    now: datetime,
    *,
    key: str,
    conversation: Conversation,
    consent: ConsentRecord,
    claim_id: str,
) -> bool:
    """Take a due invitation for sending, once: it leaves the schedule atomically with its
    conversation's start and the record of the consent it is sent on (written before the
    text goes out), and records who took it (`claim_id`); one held by a void claim is taken
    over from it, and the void claims listed for it leave the schedule too. False if the
    condition failed: another run took it, it expired meanwhile, or our own earlier send
    landed (then `invitation_claim` is ours). Not written once `claim_id` is void. Sent
    again while its answer is lost (`answered`); DependencyUnavailable if none came."""
    invitation_id = scheduled.invitation.invitation_id
    held, values = _held(scheduled)
    items: list[Any] = [
        {
            "Update": {
                "TableName": table_name(),
                "Key": to_item(_invitation_key(invitation_id)),
                "UpdateExpression": "SET #status = :sent, claim_id = :mine "
                "REMOVE gsi1pk, gsi1sk, phone",
                "ConditionExpression": f"{held} AND expires_at > :now",
                "ExpressionAttributeNames": {"#status": "status"},
                "ExpressionAttributeValues": to_item(
                    values | {":sent": "sent", ":now": _epoch(now), ":mine": claim_id}
                ),
            }
        },
        # A new conversation replaces any earlier one of this number.
        {"Put": {"TableName": table_name(), "Item": _conversation_item(key, conversation)}},
        consents.given_item(key, consent),
        _not_void(invitation_id, claim_id),
        *(_unlisted(invitation_id, claim) for claim in scheduled.listed),
    ]
    return answered(lambda: transact(items))


def suppress_scheduled(scheduled: ScheduledInvitation, reason: str, now: datetime) -> bool:
    """Hold a due invitation back for good, saying why and when: it leaves the schedule
    (with the void claims listed for it) and the number leaves the item. False if another
    run took it first."""
    invitation_id = scheduled.invitation.invitation_id
    held, values = _held(scheduled)
    return transact(
        [
            {
                "Update": {
                    "TableName": table_name(),
                    "Key": to_item(_invitation_key(invitation_id)),
                    "UpdateExpression": "SET #status = :suppressed, reason = :reason, "
                    "suppressed_at = :at REMOVE gsi1pk, gsi1sk, phone",
                    "ConditionExpression": held,
                    "ExpressionAttributeNames": {"#status": "status"},
                    "ExpressionAttributeValues": to_item(
                        values | {":suppressed": "suppressed", ":reason": reason, ":at": _iso(now)}
                    ),
                }
            },
            *(_unlisted(invitation_id, claim) for claim in scheduled.listed),
        ]
    )


def void_scheduled_claim(scheduled: ScheduledInvitation, claim_id: str) -> None:
    """Give up a run's take of a due invitation (its write got no answer, or its text
    failed): `claim_id` is made void (`void_claim`: a take still on its way can no longer
    land) and listed on the schedule as the invitation was, with its number, so that a
    later run finds the invitation again whatever the take did, and takes it over from the
    void claim (`scheduled_invitation`). One write: there is nothing left to put back.
    Safe to repeat."""
    invitation = scheduled.invitation
    send_at = invitation.send_at or invitation.created_at
    item: dict[str, Any] = _void_key(invitation.invitation_id, claim_id) | {
        "type": "void_claim",
        "expires_at": _epoch(invitation.expires_at),
        "phone": scheduled.phone,
        "gsi1pk": f"{_SCHEDULED}{utc_hour(send_at)}",
        "gsi1sk": f"{_iso(send_at)}#{invitation.invitation_id}",
    }
    with unavailable_on_failure():
        client().put_item(TableName=table_name(), Item=to_item(item))


def stored_invitation(invitation_id: str) -> dict[str, Any] | None:
    """The invitation's item exactly as stored (tests look at what it still holds)."""
    return raw_item(_invitation_key(invitation_id))


def stored_inbound(key: str) -> dict[str, Any] | None:
    """The number's record of processed inbound messages exactly as stored (tests)."""
    return raw_item(_phone(key, "INBOUND"))
