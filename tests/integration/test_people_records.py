"""People and integration records on both backends (moto and DynamoDB Local): the removed
list and the revoked list as one item each, written with the record in one transaction."""

from __future__ import annotations

from datetime import timedelta

import pytest

from chalicelib.domain.people import Integration, NotificationPreferences, Person
from chalicelib.storage import integrations, people
from tests.conftest import now

pytestmark = pytest.mark.usefixtures("storage")


def person(email: str, **overrides: object) -> Person:
    values: dict[str, object] = {
        "email": email,
        "role": "staff",
        "stores": ["store-a"],
        "invited_at": now(),
        "invited_by": "root@example.com",
    }
    return Person.model_validate(values | overrides)


def test_people_are_kept_listed_and_removed():
    bob = person("b@example.com", stores=["store-a", "store-b"])
    people.put_person(bob)
    people.put_person(person("a@example.com", role="manager", stores=[], region="west"))

    assert [p.email for p in people.list_people()] == ["a@example.com", "b@example.com"]
    assert people.get_person("b@example.com") == bob
    assert people.removed_emails() == frozenset()

    people.remove_person("b@example.com")
    people.clear_caches()  # another container: the list is read, not the writer's cache

    assert people.get_person("b@example.com") is None
    assert [p.email for p in people.list_people()] == ["a@example.com"]
    assert people.removed_emails() == {"b@example.com"}


def test_inviting_again_takes_a_person_off_the_removed_list():
    people.put_person(person("b@example.com"))
    people.remove_person("b@example.com")
    people.remove_person("c@example.com")  # nobody recorded: still listed as removed

    people.put_person(person("b@example.com"))

    assert people.removed_emails() == {"c@example.com"}


def test_the_removed_list_is_cached_for_the_revocation_period(monkeypatch):
    assert people.removed_emails() == frozenset()  # read and cached
    # Another container removes someone (this one's cache is not cleared by it): this one
    # learns it within revocation_cache_s.
    with monkeypatch.context() as other_container:
        other_container.setattr(people._cache, "clear", lambda: None)
        people.remove_person("b@example.com")

    assert people.removed_emails() == frozenset()
    monkeypatch.setenv("STOREPULSE_REVOCATION_CACHE_S", "0")
    from chalicelib.config import settings

    settings.cache_clear()
    assert people.removed_emails() == {"b@example.com"}


def test_notification_preferences_and_subscriptions_are_kept():
    people.put_person(person("b@example.com"))
    preferences = NotificationPreferences(email=True, sms="+14155550123")

    people.set_notifications("b@example.com", preferences, ["arn:1", "arn:2"])

    stored = people.get_person("b@example.com")
    assert stored is not None
    assert (stored.notifications, stored.subscriptions) == (preferences, ["arn:1", "arn:2"])


def test_integrations_are_listed_oldest_first_and_revoked_once():
    first = Integration(
        integration_id="int-1",
        name="POS",
        store_ids=["store-a"],
        created_at=now() - timedelta(days=1),
        created_by="root@example.com",
    )
    second = first.model_copy(update={"integration_id": "int-2", "created_at": now()})
    integrations.put_integration(second)
    integrations.put_integration(first)

    assert [i.integration_id for i in integrations.list_integrations()] == ["int-1", "int-2"]
    assert integrations.revoke_integration("int-1", now())
    revoked_at = integrations.get_integration("int-1").revoked_at
    assert integrations.revoke_integration("int-1", now() + timedelta(hours=1))
    assert integrations.get_integration("int-1").revoked_at == revoked_at
    assert not integrations.revoke_integration("int-nothing", now())
    integrations.clear_caches()
    assert integrations.revoked_integration_ids() == {"int-1"}
