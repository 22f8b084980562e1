"""A scripted history on the fake clock, with every figure of its report worked out by hand.

Default deadlines: urgent 1 h / 24 h, high 4 h / 72 h, normal 24 h / 7 d. The report is of
2026-03-02 .. 2026-03-15 (two ISO weeks: Mondays 03-02 and 03-09), as of 2026-03-16 12:00.

    Tue 03-03 09:00  A  metro-police (officer-1) → clipshare, urgent sexual_deepfake
              09:10     cs-reviewer fetches A (a `delivered` entry)
              09:20     A receipt                                   ack 1 200 s, met
              09:30     A question from clipshare
              10:00  B  helpline → clipshare, high ncii; cs-lead assigns it to cs-reviewer
              11:00     A supplement from metro-police, replying to the question (5 400 s)
              11:00  C  metro-police (officer-2) → clipshare, urgent sexual_deepfake
              11:30     C withdrawn (ack due 12:00, action due Wed 11:00: both released)
              11:40     C withdrawal receipt                        600 s
              12:00  E  metro-police → chatter, high sexual_deepfake
              13:00     E receipt                                   ack 3 600 s, met
              14:00     A response: actioned                        action 18 000 s, met
              14:00     E question from metro-police (never answered)
              14:30     sweep: B ack breached (due 14:00)
              15:00     B receipt                                   ack 18 000 s, missed
              15:00     A question from metro-police (after the outcome)
              17:00     A supplement from clipshare, replying to it (7 200 s)
    Fri 03-06 12:30     sweep: B action (due 10:00) and E action (due 12:00) breached
              18:00     B response: not_actioned, outside_territorial_scope
                                                                    action 288 000 s, missed
    Tue 03-10 09:00  D  metro-police → clipshare, normal sexual_deepfake; nothing more
                        (ack due Wed 03-11 09:00: missed, no sweep since; action due
                        Tue 03-17 09:00: pending)
    Mon 03-16 09:00  F  helpline → chatter, urgent: after the period, in no figure
              12:00     as of
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from exchange import runtime
from exchange.services import deadlines
from tests.helpers.world import World, standard_world, statement_of
from tests.schemas import examples

PERIOD = ("2026-03-02", "2026-03-15")
AS_OF = datetime(2026, 3, 16, 12, 0, tzinfo=UTC)


@dataclass
class Scripted:
    world: World
    cases: dict[str, str]
    e_question: str


def at(clock: Any, day: int, hour: int, minute: int = 0) -> None:
    clock.moment = datetime(2026, 3, day, hour, minute, tzinfo=UTC)


def sweep(world: World) -> None:
    with world.app.app_context(), runtime.write() as session:
        deadlines.sweep(session, world.clock())


def accepted(response: Any) -> None:
    assert response.status_code == 201, response.get_json()


def scripted_history(app: Any, client: Any, clock: Any) -> Scripted:
    world = standard_world(app, client, clock)
    officer, officer2 = world.officials["officer-1"], world.officials["officer-2"]
    helpline = world.officials["caseworker-1"]
    reviewer, lead = world.officials["cs-reviewer"], world.officials["cs-lead"]
    chatter = world.officials["ch-lead"]
    cases: dict[str, str] = {}

    def submit(name: str, sender: Any, to: str, **changes: Any) -> Any:
        sealed, response = world.submit(sender, to, **changes)
        accepted(response)
        cases[name] = statement_of(sealed)["case_id"]
        return sealed

    def send(sender: Any, sealed: Any) -> Any:
        accepted(sender.send(sealed))
        return sealed

    def reply(sender: Any, name: str, kind: str, to: str, answered: Any, **what: Any) -> Any:
        handoff = statement_of(answered)["handoff_id"]
        return send(sender, world.reply(sender, cases[name], kind, handoff, to, **what))

    def receipt(sender: Any, name: str, acknowledged: Any, to: str) -> Any:
        return send(sender, world.receipt(sender, cases[name], acknowledged, to))

    at(clock, 3, 9)
    a = submit("A", officer, "clipshare")
    at(clock, 3, 9, 10)
    assert reviewer.get(f"/v1/cases/{cases['A']}").status_code == 200
    at(clock, 3, 9, 20)
    receipt(reviewer, "A", a, "metro-police")
    at(clock, 3, 9, 30)
    a_question = reply(
        reviewer, "A", "question", "metro-police", a, body={"questions": ["Who runs it?"]}
    )
    at(clock, 3, 10)
    b = submit("B", helpline, "clipshare", category="ncii", priority="high")
    # No route for ncii: the lead hands B to the reviewer.
    reply(lead, "B", "assignment", "clipshare", b, meta={"assignee": "cs-reviewer"})
    at(clock, 3, 11)
    reply(officer, "A", "supplement", "clipshare", a_question, body={"text": "Unknown."})
    c = submit("C", officer2, "clipshare")
    at(clock, 3, 11, 30)
    c_withdrawal = reply(
        officer2, "C", "withdrawal", "clipshare", c, body={"reason": "resolved_elsewhere"}
    )
    at(clock, 3, 11, 40)
    receipt(reviewer, "C", c_withdrawal, "metro-police")
    at(clock, 3, 12)
    e = submit("E", officer, "chatter", priority="high")
    at(clock, 3, 13)
    receipt(chatter, "E", e, "metro-police")
    at(clock, 3, 14)
    a_response = reply(reviewer, "A", "response", "metro-police", a, body=response_body())
    e_question = reply(officer, "E", "question", "chatter", e, body={"questions": ["Gone?"]})
    at(clock, 3, 14, 30)
    sweep(world)
    at(clock, 3, 15)
    receipt(reviewer, "B", b, "helpline")
    a_agency_question = reply(
        officer, "A", "question", "clipshare", a_response, body={"questions": ["Re-uploads?"]}
    )
    at(clock, 3, 17)
    reply(reviewer, "A", "supplement", "metro-police", a_agency_question, body={"text": "None."})
    at(clock, 6, 12, 30)
    sweep(world)
    at(clock, 6, 18)
    declined = response_body("not_actioned", "outside_territorial_scope")
    reply(reviewer, "B", "response", "helpline", b, body=declined)
    at(clock, 10, 9)
    submit("D", officer, "clipshare", priority="normal")
    at(clock, 16, 9)
    submit("F", helpline, "chatter", category="ncii")
    at(clock, 16, 12)
    return Scripted(world, cases, statement_of(e_question)["handoff_id"])


def response_body(outcome: str = "actioned", reason: str = "insufficient_information") -> dict:
    body = examples.response_body()
    body["outcome"] = outcome
    if outcome not in ("actioned", "partially_actioned"):
        body["actions_taken"] = []
    if outcome != "actioned":
        body["reason_code"] = reason
        body["explanation"] = "Not all of it could be done."
    return body


def stats(count: int, median: float | None, p90: float | None, top: float | None) -> dict:
    return {"count": count, "median_seconds": median, "p90_seconds": p90, "max_seconds": top}


NO_STATS = stats(0, None, None, None)


def expected_figures(scripted: Scripted) -> dict[str, Any]:
    """The report's figures, worked out by hand from the script above (not computed)."""
    cases = scripted.cases
    outcomes = {
        "actioned": 0,
        "partially_actioned": 0,
        "not_actioned": 0,
        "unable_to_locate": 0,
        "already_unavailable": 0,
        "rejected_invalid": 0,
        "referred_to_regulator": 0,
        "withdrawn": 0,
        "closed_unanswered": 0,
        "awaiting_response": 0,
    }
    clipshare = {
        "platform": "clipshare",
        "name": "Clipshare",
        "cases_received": 4,
        "by_category": {"ncii": 1, "sexual_deepfake": 3},
        "by_priority": {"urgent": 2, "high": 1, "normal": 1},
        "weekly_volume": [
            {"week_start": "2026-03-02", "cases": 3},
            {"week_start": "2026-03-09", "cases": 1},
        ],
        "acknowledgement": {
            "time": stats(2, 1200, 18000, 18000),
            "met": 1,
            "missed": 2,
            "released": 1,
            "pending": 0,
            "share_met": 1 / 3,
            "breach_entries": 1,
            "breach_entries_contradicted": 0,
            "samples": [
                sample(cases["A"], "urgent", 1200, 3600, "met", True),
                sample(cases["B"], "high", 18000, 14400, "missed", True),
                # D, unanswered: its age on Mon 03-16 12:00, 6 d 3 h.
                sample(cases["D"], "normal", 529200, 86400, "missed", False),
            ],
        },
        "action": {
            "time": stats(2, 18000, 288000, 288000),
            "met": 1,
            "missed": 1,
            "released": 1,
            "pending": 1,
            "share_met": 0.5,
            "breach_entries": 1,
            "breach_entries_contradicted": 0,
            "samples": [
                sample(cases["A"], "urgent", 18000, 86400, "met", True),
                sample(cases["B"], "high", 288000, 259200, "missed", True),
                sample(cases["D"], "normal", 529200, 604800, "pending", False),
            ],
        },
        "outcomes": {**outcomes, "actioned": 1, "not_actioned": 1, "withdrawn": 1}
        | {"awaiting_response": 1},
        "declined": 1,
        "reason_codes": {"outside_territorial_scope": 1},
        "withdrawals": {
            "count": 1,
            "acknowledged": 1,
            "unacknowledged": 0,
            "ack_time": stats(1, 600, 600, 600),
        },
        "questions_from_agencies": {
            "asked": 1,
            "answered": 1,
            "unanswered": 0,
            "moot": 0,
            "answer_time": stats(1, 7200, 7200, 7200),
            "open": [],
        },
        "overdue": {
            "count": 1,
            "cases": [
                {
                    "case_id": cases["D"],
                    "platform": "clipshare",
                    "agency": "metro-police",
                    "category": "sexual_deepfake",
                    "priority": "normal",
                    "request_type": "removal_order",
                    "submitted_at": "2026-03-10T09:00:00Z",
                    "state": "submitted",
                    "deadlines": [
                        {
                            "deadline": "ack",
                            "due_at": "2026-03-11T09:00:00Z",
                            "overdue_seconds": 442800,  # 5 d 3 h
                            "breach_logged": False,
                        }
                    ],
                }
            ],
        },
    }
    chatter = {
        "platform": "chatter",
        "name": "Chatter",
        "cases_received": 1,
        "by_category": {"sexual_deepfake": 1},
        "by_priority": {"urgent": 0, "high": 1, "normal": 0},
        "weekly_volume": [
            {"week_start": "2026-03-02", "cases": 1},
            {"week_start": "2026-03-09", "cases": 0},
        ],
        "acknowledgement": {
            "time": stats(1, 3600, 3600, 3600),
            "met": 1,
            "missed": 0,
            "released": 0,
            "pending": 0,
            "share_met": 1.0,
            "breach_entries": 0,
            "breach_entries_contradicted": 0,
            "samples": [sample(cases["E"], "high", 3600, 14400, "met", True)],
        },
        "action": {
            "time": NO_STATS,
            "met": 0,
            "missed": 1,
            "released": 0,
            "pending": 0,
            "share_met": 0.0,
            "breach_entries": 1,
            "breach_entries_contradicted": 0,
            # E, unanswered: 13 days old.
            "samples": [sample(cases["E"], "high", 1123200, 259200, "missed", False)],
        },
        "outcomes": {**outcomes, "awaiting_response": 1},
        "declined": 0,
        "reason_codes": {},
        "withdrawals": {"count": 0, "acknowledged": 0, "unacknowledged": 0, "ack_time": NO_STATS},
        "questions_from_agencies": {
            "asked": 1,
            "answered": 0,
            "unanswered": 1,
            "moot": 0,
            "answer_time": NO_STATS,
            "open": [
                {
                    "case_id": cases["E"],
                    "question_id": scripted.e_question,
                    "asked_by": "metro-police",
                    "asked_at": "2026-03-03T14:00:00Z",
                    "waiting_seconds": 1116000,  # 12 d 22 h
                }
            ],
        },
        "overdue": {
            "count": 1,
            "cases": [
                {
                    "case_id": cases["E"],
                    "platform": "chatter",
                    "agency": "metro-police",
                    "category": "sexual_deepfake",
                    "priority": "high",
                    "request_type": "removal_order",
                    "submitted_at": "2026-03-03T12:00:00Z",
                    "state": "acknowledged",
                    "deadlines": [
                        {
                            "deadline": "action",
                            "due_at": "2026-03-06T12:00:00Z",
                            "overdue_seconds": 864000,  # 10 d
                            "breach_logged": True,
                        }
                    ],
                }
            ],
        },
    }
    # Every case cites the example's two legal bases and opened under the settings' policy.
    dsa = "EU / Regulation (EU) 2022/2065 (Digital Services Act) / Art. 9"
    stgb = "DE / Strafgesetzbuch (StGB) / § 201a"
    # A met, B missed, C released (withdrawn), D pending.
    clipshare_action = verdicts(4, met=1, missed=1, pending=1, released=1)
    clipshare["evidence"] = {
        "interim_only": 0,
        "refusals_superseded": 0,
        "removals_claimed": 2,  # A: actioned, no item outcomes: both of its items
        "removals_verified": 0,
        "claims_contradicted": 0,
        # A's question from metro-police (15:00, urgent: due in 24 h) answered at 17:00.
        "questions_answered_in_time": 1,
        "questions_answered_late": 0,
        "questions_overdue": 0,
        "breach_entries": breach_kinds(ack=1, action=1),  # B's two, by the sweeps
        "by_legal_basis": {stgb: clipshare_action, dsa: clipshare_action},
        "by_policy": {"settings v0": clipshare_action},
    }
    chatter_action = verdicts(1, missed=1)
    chatter["evidence"] = {
        "interim_only": 0,
        "refusals_superseded": 0,
        "removals_claimed": 0,
        "removals_verified": 0,
        "claims_contradicted": 0,
        "questions_answered_in_time": 0,
        "questions_answered_late": 0,
        # E's question (Tue 14:00, high: due in 48 h, Thu 14:00), never answered.
        "questions_overdue": 1,
        # The Fri sweep logged E's action deadline and its unanswered question.
        "breach_entries": breach_kinds(action=1, answer=1),
        "by_legal_basis": {stgb: chatter_action, dsa: chatter_action},
        "by_policy": {"settings v0": chatter_action},
    }
    agencies = [
        {
            "agency": "helpline",
            "name": "Helpline",
            "cases_sent": 1,
            "withdrawals": 0,
            "questions_from_platforms": {
                "asked": 0,
                "answered": 0,
                "unanswered": 0,
                "moot": 0,
                "answer_time": NO_STATS,
                "open": [],
            },
        },
        {
            "agency": "metro-police",
            "name": "Metro-Police",
            "cases_sent": 4,
            "withdrawals": 1,
            "questions_from_platforms": {
                "asked": 1,
                "answered": 1,
                "unanswered": 0,
                "moot": 0,
                "answer_time": stats(1, 5400, 5400, 5400),
                "open": [],
            },
        },
    ]
    return {"platforms": [chatter, clipshare], "agencies": agencies}


def sample(
    case_id: str, priority: str, seconds: float, allowed: float, verdict: str, answered: bool
) -> dict[str, Any]:
    return {
        "case_id": case_id,
        "priority": priority,
        "seconds": seconds,
        "allowed_seconds": allowed,
        "verdict": verdict,
        "answered": answered,
    }


def verdicts(
    cases: int, *, met: int = 0, missed: int = 0, pending: int = 0, released: int = 0
) -> dict[str, int]:
    return {
        "cases": cases,
        "action_met": met,
        "action_missed": missed,
        "action_pending": pending,
        "action_released": released,
    }


def breach_kinds(**counts: int) -> dict[str, int]:
    kinds = ("ack", "action", "withdrawal_ack", "reopened", "answer")
    return {kind: counts.get(kind, 0) for kind in kinds}
