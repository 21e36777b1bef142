"""SMS surveys under DynamoDB faults (the fault proxy in front of DynamoDB Local): a store
system that resends an invitation until it gets a 2xx, and a provider that resends each
inbound message (the same MessageSid, as Twilio does after a 5xx or a timeout) until it
gets a 2xx. Each message counts once, each text reaches the customer once, no answer is a
500, and the state ends as a run without faults leaves it."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from chalicelib.auth import issue_integration_token
from chalicelib.domain.invitations import InvitationRequest
from chalicelib.errors import DependencyUnavailable
from chalicelib.flows.sms_survey import invite
from chalicelib.notify import sms_sender
from chalicelib.storage import callback_requests, ratings, sms_state, stores
from devtools.fault_proxy import MODES, FaultProxy
from tests.conftest import bearer, now
from tests.integration.callers import Phone, invite_by_api
from tests.integration.conftest import (
    QUICK_TIMEOUT_S,
    WRITES,
    app_attempts,
    fault_of,
    quick_timeouts,
    stalling,
)
from tests.polling import wait_until

# What each customer texts, one script per customer: unhappy and asking for a call, happy,
# unhappy then STOP, HELP then an answer that needs a re-prompt.
SCRIPTS = (
    ("2", "The queue was very long", "YES"),
    ("5",),
    ("1", "STOP"),
    ("HELP", "meh", "3"),
)
RESENDS = 60  # a provider gives up at some point; none of these needs nearly as many
FAULT_MODES = list(MODES)


pytestmark = pytest.mark.usefixtures("quick_throttle_backoff")


@pytest.fixture(autouse=True)
def empty_outbox() -> None:
    sms_sender.OUTBOX.clear()


@pytest.fixture
def unretried(faulty_storage: FaultProxy, monkeypatch: pytest.MonkeyPatch) -> FaultProxy:
    """The app's DynamoDB client without botocore's own retries: at 30 % its three attempts
    would absorb all but ~3 % of the faults, and these tests are about what the app does
    with the ones that reach it."""
    app_attempts(monkeypatch, 1)
    return faulty_storage


@pytest.fixture
def app_client(faulty_storage: FaultProxy) -> Iterator[Any]:
    from chalice.test import Client

    from app import app

    with Client(app) as client:
        yield client


@dataclass
class Traffic:
    """What the callers saw: every status, and the texts of the 2xx answers (the only ones
    Twilio sends on to the customer)."""

    statuses: Counter[int] = field(default_factory=Counter)
    sends: int = 0
    replies: dict[str, list[str]] = field(default_factory=dict)


def reply_of(response: Any) -> str | None:
    body = response.body.decode() if isinstance(response.body, bytes) else response.body
    return body.split("<Message>")[1].split("</Message>")[0] if "<Message>" in body else None


def until_2xx(traffic: Traffic, send: Any) -> Any:
    for _ in range(RESENDS):
        traffic.sends += 1
        response = send()
        traffic.statuses[response.status_code] += 1
        if response.status_code < 300:
            return response
        assert response.status_code == 503, response.body
        assert "Retry-After" in response.headers or "retry-after" in response.headers
    raise AssertionError(f"no 2xx after {RESENDS} resends")


def converse(api: Any, numbers: list[str], traffic: Traffic) -> None:
    """Each number invited (the same visit_ref on every resend) and texting its script."""
    integration = bearer(issue_integration_token("pos", ["store-a"], now()))
    for n, number in enumerate(numbers):
        invited = until_2xx(
            traffic,
            lambda number=number: invite_by_api(
                api, integration, number, visit_ref=f"visit-{number}"
            ),
        )
        assert invited.json_body["status"] == "sent", invited.json_body
        phone = Phone(api, number)
        replies = traffic.replies.setdefault(number, [])
        for step, text in enumerate(SCRIPTS[n % len(SCRIPTS)]):
            sid = f"SM{number[-4:]}{step}"
            answer = until_2xx(traffic, lambda p=phone, t=text, s=sid: p.send(t, sid=s))
            replies.append(reply_of(answer) or "")


def outcome(numbers: list[str]) -> list[dict[str, Any]]:
    """What each number's survey left, without ids and times (the same script on another
    number must leave the same)."""
    requests = {r.phone: r for r in callback_requests.stored_requests()}
    left = []
    for n, number in enumerate(numbers):
        key = sms_state.key_of(number)
        conversation = sms_state.get_conversation(key, now())
        script = SCRIPTS[n % len(SCRIPTS)]
        scored = [ratings.get_rating(f"sms-twilio-SM{number[-4:]}{s}") for s in range(len(script))]
        request = requests.get(number)
        left.append(
            {
                "ratings": [(r.score, r.comment) for r in scored if r is not None],
                "texts": [
                    m["message"] for m in sms_sender.OUTBOX if m["attributes"]["to"] == number
                ],
                "opted_out": sms_state.is_opted_out(key),
                "conversation": conversation.model_dump(
                    include={
                        "state",
                        "score",
                        "comment",
                        "callback_requested",
                        "reprompted",
                        "last_reply",
                    }
                )
                if conversation
                else None,
                "callback_request": (request.score, request.comment) if request else None,
            }
        )
    return left


def test_an_invitation_write_that_never_answers_cannot_land_after_the_503(
    faulty_storage: FaultProxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The defect: the invitation's write stalled past the client's timeout, the request read
    # it back before it landed, answered 503, and the store system's retry found it 'sent'
    # (the stalled write had landed meanwhile): never texted. One attempt per call, as in
    # test_sms_schedule's case of the take.
    app_attempts(monkeypatch, 1)
    store = stores.get_store("store-a")
    assert store is not None
    request = InvitationRequest(phone="+14155550123", store_id="store-a", visit_ref="visit-1")
    with stalling(faulty_storage, "TransactWriteItems"), pytest.raises(DependencyUnavailable):
        invite(request, store, now())
    retried = invite(request, store, now())

    assert retried.status == "sent"
    assert [m["attributes"]["to"] for m in sms_sender.OUTBOX] == ["+14155550123"]
    assert sms_state.get_conversation(sms_state.key_of("+14155550123"), now()) is not None


def test_an_invitation_with_every_write_stalled_ends_by_its_deadline_and_its_retry_texts_it_once(
    faulty_storage: FaultProxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    # One call's worst case here is 0.6 s (one attempt: connect and read timeouts). A
    # 2 s deadline leaves room for a few sends of the claim and part of its undoing: with
    # none, the request (3 sends of the claim, 3 of the void, 1 of forget: each a timeout)
    # would take about 2.1 s, and the default settings' 12 s calls make that 84 s.
    deadline_s = 2.0
    store = stores.get_store("store-a")
    assert store is not None
    request = InvitationRequest(phone="+14155550123", store_id="store-a", visit_ref="visit-9")

    def stalled_writes() -> tuple[int, int]:
        report = faulty_storage.plan.report()
        stalled = sum(i["count"] for i in report["injected"] if i["mode"] == "stall")
        return stalled, sum(report["forwarded"].get(operation, 0) for operation in WRITES)

    before = stalled_writes()
    with quick_timeouts(faulty_storage), pytest.MonkeyPatch.context() as patch:
        patch.setenv("STOREPULSE_INVITATION_DEADLINE_S", str(deadline_s))
        app_attempts(patch, 1)  # the retries after it with botocore's: the machine may be busy
        faulty_storage.set_faults([fault_of("stall", 1.0)])
        started = time.monotonic()
        with pytest.raises(DependencyUnavailable):
            invite(request, store, now(), started)
        took = time.monotonic() - started
        stalled = stalled_writes()[0] - before[0]
        # The stalled writes reach DynamoDB Local after the request gave up on them.
        wait_until(
            lambda: stalled_writes()[1] - before[1] >= stalled,
            message="the stalled writes to reach DynamoDB Local",
            interval=0.05,
        )
        faulty_storage.clear()
    retried = invite(request, store, now())
    again = invite(request, store, now())

    print(f"\n[stalled invitation] took {took:.2f} s (deadline {deadline_s} s), {stalled} writes")
    # The void, counted in when the claim's write started, goes out even if that write's
    # timeout ran late (on a busy machine): by at most that lateness past the deadline.
    assert took <= deadline_s + QUICK_TIMEOUT_S
    assert stalled >= 2  # the claim was sent, and given up: the void (or more) was sent too
    assert retried.status == again.status == "sent"
    assert [m["attributes"]["to"] for m in sms_sender.OUTBOX] == ["+14155550123"]
    assert sms_state.get_conversation(sms_state.key_of("+14155550123"), now()) is not None


_CLEAN: list[tuple[list[list[str]], list[dict[str, Any]]]] = []


def clean_run(api: Any) -> tuple[list[list[str]], list[dict[str, Any]]]:
    """The replies and the outcome of the scripts without faults: the same for every mode,
    so made once (by the first test, on its table)."""
    if not _CLEAN:
        numbers = [f"+1415555{1000 + n:04d}" for n in range(len(SCRIPTS))]
        clean = Traffic()
        converse(api, numbers, clean)
        _CLEAN.append((list(clean.replies.values()), outcome(numbers)))
    return _CLEAN[0]


def injected(proxy: FaultProxy) -> Counter[str]:
    """The faults the proxy injected so far, per operation (since it started)."""
    counted: Counter[str] = Counter()
    for entry in proxy.plan.report()["injected"]:
        counted[entry["operation"]] += entry["count"]
    return counted


@pytest.mark.parametrize("mode", FAULT_MODES)
def test_each_sms_counts_once_and_each_text_goes_out_once_under_faults(
    unretried: FaultProxy, app_client: Any, mode: str
) -> None:
    clean_replies, expected = clean_run(app_client)
    faulty_numbers = [f"+1415555{2000 + n:04d}" for n in range(len(SCRIPTS))]
    faulty = Traffic()
    before = injected(unretried)
    with quick_timeouts(unretried):
        unretried.set_faults([fault_of(mode, 0.3)], seed=1)
        converse(app_client, faulty_numbers, faulty)
        unretried.clear()
    faults = injected(unretried) - before

    messages = sum(len(SCRIPTS[n % len(SCRIPTS)]) + 1 for n in range(len(faulty_numbers)))
    got = outcome(faulty_numbers)
    texts = sum(len(o["texts"]) for o in got)
    duplicates = sum(
        max(0, len(g["texts"]) - len(e["texts"])) for g, e in zip(got, expected, strict=True)
    )
    lost = sum(
        max(0, len(e["texts"]) - len(g["texts"])) for g, e in zip(got, expected, strict=True)
    )
    print(
        f"\n[sms faults] mode={mode} messages={messages} sends={faulty.sends} "
        f"statuses={dict(faulty.statuses)} invitation_texts={texts} "
        f"duplicates={duplicates} lost={lost} faults={dict(sorted(faults.items()))}"
    )
    assert 500 not in faulty.statuses
    assert faulty.sends > messages  # the faults were felt
    assert list(faulty.replies.values()) == clean_replies
    assert got == expected
