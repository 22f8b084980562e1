"""A busy exchange for the log tests: enrolled officials and cases through their lifecycle,
every step through the real API (HTTP with real keys and envelopes)."""

from __future__ import annotations

from typing import Any

from exchange.protocol import envelope as env
from tests.helpers.world import Official, World, statement_of
from tests.schemas import examples


def send(person: Official, sealed: env.Envelope) -> dict[str, Any]:
    payload = statement_of(sealed)
    path = "/v1/cases" if payload["kind"] == "case" else f"/v1/cases/{payload['case_id']}/handoffs"
    response = person.post(path, sealed.to_json())
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def fetch_inbox(person: Official) -> None:
    response = person.get("/v1/inbox?after=0")
    assert response.status_code == 200, response.get_json()


def case_lifecycle(world: World, officer: Official, reviewer: Official) -> str:
    """case, delivered, receipt, delivered, question, supplement, response, closure."""
    agency, platform = officer.org, reviewer.org
    case = world.seal_case(officer, platform)
    send(officer, case)
    case_id, case_handoff = statement_of(case)["case_id"], statement_of(case)["handoff_id"]
    fetch_inbox(reviewer)
    send(reviewer, world.receipt(reviewer, case_id, case, agency))
    fetch_inbox(officer)
    question = world.reply(
        reviewer, case_id, "question", case_handoff, agency, body=examples.question_body()
    )
    send(reviewer, question)
    fetch_inbox(officer)
    send(
        officer,
        world.reply(
            officer,
            case_id,
            "supplement",
            statement_of(question)["handoff_id"],
            platform,
            body=examples.supplement_body(),
        ),
    )
    response = world.reply(
        reviewer, case_id, "response", case_handoff, agency, body=examples.response_body()
    )
    send(reviewer, response)
    fetch_inbox(officer)
    send(
        officer,
        world.reply(
            officer,
            case_id,
            "closure",
            statement_of(response)["handoff_id"],
            platform,
            body=examples.closure_body(),
        ),
    )
    return case_id


def busy(world: World, cases: int = 2) -> list[str]:
    officer, reviewer = world.officials["officer-1"], world.officials["cs-reviewer"]
    return [case_lifecycle(world, officer, reviewer) for _ in range(cases)]
