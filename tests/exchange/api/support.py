"""Assertions and small builders shared by the API tests."""

from __future__ import annotations

import uuid
from typing import Any

from exchange.protocol import envelope as env
from tests.helpers.world import Official, World, statement_of
from tests.schemas import examples

PROBLEM = "application/problem+json"


def problem_type(slug: str) -> str:
    return f"urn:hotline:problem:{slug}"


def assert_problem(response: Any, status: int, slug: str) -> dict[str, Any]:
    """The response is an RFC 9457 problem of exactly this status and type; return it."""
    body = response.get_json(force=True, silent=True)
    assert response.status_code == status, (response.status_code, body or response.data[:500])
    assert response.mimetype == PROBLEM, response.mimetype
    assert body["type"] == problem_type(slug), body
    assert body["status"] == status
    assert isinstance(body["title"], str)
    assert body["title"]
    assert "Traceback" not in response.get_data(as_text=True)
    return body


def without_request_id(body: dict[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in body.items() if name != "request_id"}


def created(response: Any) -> dict[str, Any]:
    body = response.get_json()
    assert response.status_code == 201, body
    return body


def submit(world: World, sender: Official, to: str = "clipshare", **changes: Any):
    """Submit a case; return (its envelope, its statement payload)."""
    sealed, response = world.submit(sender, to, **changes)
    created(response)
    return sealed, statement_of(sealed)


def sealed_reply(
    world: World,
    sender: Official,
    answered: env.Envelope,
    kind: str,
    body: dict[str, Any],
    to: str,
) -> env.Envelope:
    """A sealed handoff (question, supplement, response, withdrawal, closure) of a case."""
    statement = statement_of(answered)
    return world.reply(sender, statement["case_id"], kind, statement["handoff_id"], to, body=body)


def receipt(world: World, sender: Official, acknowledged: env.Envelope, to: str) -> env.Envelope:
    return world.receipt(sender, statement_of(acknowledged)["case_id"], acknowledged, to)


def assignment(
    world: World, lead: Official, case: env.Envelope, assignee: str, platform: str = "clipshare"
) -> env.Envelope:
    statement = statement_of(case)
    return world.reply(
        lead,
        statement["case_id"],
        "assignment",
        statement["handoff_id"],
        platform,
        meta={"assignee": assignee},
    )


def response_body(outcome: str = "actioned") -> dict[str, Any]:
    body = examples.response_body()
    body["outcome"] = outcome
    if outcome not in ("actioned", "partially_actioned"):
        body["actions_taken"] = []
    if outcome != "actioned":
        body["reason_code"] = "insufficient_information"
        body["explanation"] = "The locators do not resolve to any content we host."
    return body


def new_id() -> str:
    return str(uuid.uuid4())
