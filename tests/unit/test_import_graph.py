"""The layers of the app import one way: handlers and jobs call flows, domain rules and storage;
domain/ knows nothing of Chalice, boto3 or the other layers, so its rules test with plain values."""

import sys

import pytest

from devtools.import_graph import graph

BASE = {"clock", "config", "errors", "observability"}
# What each part of functions/ may import from the others (nothing imports upward).
ALLOWED = {
    "app": {"api", "flows", "jobs"} | BASE,
    "api": {"auth", "domain", "flows", "notify", "storage"} | BASE,
    "jobs": {"domain", "flows", "notify", "storage"} | BASE,
    "flows": {"auth", "directory", "domain", "notify", "storage"} | BASE,  # auth: the caller
    # the user pool's admin calls; invitations via the outbox
    "directory": {"aws_clients", "notify"} | BASE,
    "auth": {"domain", "id_tokens", "storage", "tokens"} | BASE,
    "id_tokens": BASE,
    "notify": {"aws_clients", "domain"} | BASE,
    "storage": {"aws_clients", "domain"} | BASE,
    "aws_clients": {"config"},  # bounded boto3 clients, made under one lock
    "domain": set(),
    "tokens": set(),
    **{base: set() for base in BASE},
}
# domain/ is pure: pydantic models and rules, plus the phone-number library.
DOMAIN_LIBRARIES = {"pydantic", "phonenumbers"}


def test_every_part_of_the_app_is_known() -> None:
    assert set(graph()) <= set(ALLOWED), set(graph()) - set(ALLOWED)


@pytest.mark.parametrize("part", sorted(ALLOWED))
def test_a_part_imports_only_the_layers_below_it(part: str) -> None:
    inside = {target for target in graph().get(part, set()) if not target.startswith("~")}

    assert inside <= ALLOWED[part], f"{part} imports {sorted(inside - ALLOWED[part])}"


def test_domain_imports_no_framework_or_aws_library() -> None:
    libraries = {
        target[1:]
        for target in graph()["domain"]
        if target.startswith("~") and target[1:] not in sys.stdlib_module_names
    }

    assert libraries <= DOMAIN_LIBRARIES, sorted(libraries - DOMAIN_LIBRARIES)
