"""Six months of one platform, scripted on the fake clock, with the report's figures
worked out by hand: a gamed `pending_legal_review`, a removal the agency found still
reachable, a question never answered, a receipt one minute late before any sweep, and a
deadline policy tightened mid-period that leaves the earlier cases' figures alone.

Policy `dsa-art9` covers every case here (they all cite Regulation (EU) 2022/2065,
Art. 9): v1 from Mon 03-09 gives 2 h to acknowledge, 48 h to act, 24 h to answer a
question; v2 from Mon 06-01 gives 1 h and 24 h. All cases: metro-police → clipshare,
urgent sexual deepfakes with the example's two items (video-1, channel-1).

    Tue 03-10 09:00  A (v1)  receipt 10:00 (ack 3 600 s, met)
    Wed 03-11 09:00          response actioned (action 86 400 s, met)
    Thu 03-12 09:00          agency verifies: video-1 gone, channel-1 STILL REACHABLE
                             → reopened, a new final answer due Sat 03-14 09:00
    Fri 03-13 09:00          response actioned again (in time)
    Sat 03-14 10:00          agency verifies: channel-1 gone
    Wed 04-01 09:00  B (v1)  receipt 09:30 (ack 1 800 s, met)
              12:00          response not_actioned, pending_legal_review: INTERIM
    Sun 04-05 09:00          sweep: B action (due Fri 04-03 09:00) breached
    Mon 05-04 09:00  C (v1)  receipt 09:10 (ack 600 s, met)
              10:00          question from metro-police, no respond_by: due Tue 10:00
    Tue 05-05 09:00          response actioned (action 86 400 s, met); the question
                             stays unanswered
    Wed 05-06 12:00          sweep: C's question breached
    Mon 05-18 09:00  E (v1)  receipt 10:30 (ack 5 400 s: met under v1's 2 h)
    Tue 05-19 20:00          response actioned (action 126 000 s: met under v1's 48 h)
    Mon 06-01 09:00          policy dsa-art9 v2: 1 h / 24 h
    Tue 06-02 09:00  D (v2)  receipt 10:01: ONE MINUTE LATE, logged with the receipt
              12:00          response partially_actioned: video-1 actioned, channel-1
                             not (not_illegal_in_jurisdiction) (action 10 800 s, met)
    Mon 08-31 09:00          sweep: nothing new
    Period Mon 03-09 .. Sun 09-06; as of Mon 09-07 12:00.
"""

from datetime import UTC, datetime
from typing import Any

from tests.helpers.world import standard_world, statement_of
from tests.schemas import examples

DSA = "Regulation (EU) 2022/2065 (Digital Services Act)"


def at(clock: Any, month: int, day: int, hour: int, minute: int = 0) -> None:
    clock.moment = datetime(2026, month, day, hour, minute, tzinfo=UTC)


def accepted(response: Any) -> None:
    assert response.status_code == 201, response.get_json()


def set_policy(runner: Any, ack: str, action: str) -> None:
    result = runner.invoke(
        args=["admin", "deadline-policy", "set", "dsa-art9", "--jurisdiction", "EU",
              "--instrument", DSA, "--article", "Art. 9",
              "--ack", ack, "--action", action, "--answer", "24h"]
    )  # fmt: skip
    assert result.exit_code == 0, result.output


def response(outcome: str = "actioned") -> dict[str, Any]:
    body = examples.response_body()
    body["outcome"] = outcome
    return body


def verified(checked_at: str, video: bool, channel: bool) -> dict[str, Any]:
    return {
        "verification": [
            {"item_id": "video-1", "checked_at": checked_at, "reachable": video},
            {"item_id": "channel-1", "checked_at": checked_at, "reachable": channel},
        ]
    }


def run_history(world: Any, runner: Any, clock: Any) -> dict[str, str]:
    officer, reviewer = world.officials["officer-1"], world.officials["cs-reviewer"]
    cases: dict[str, str] = {}

    def send(sender: Any, sealed: Any) -> Any:
        sender.token = None  # months pass between steps: sign in again
        accepted(sender.send(sealed))
        return sealed

    def submit(name: str) -> Any:
        sealed = world.seal_case(officer, "clipshare")
        cases[name] = statement_of(sealed)["case_id"]
        return send(officer, sealed)

    def reply(sender: Any, name: str, kind: str, answered: Any, body: dict[str, Any]) -> Any:
        to = "metro-police" if sender is reviewer else "clipshare"
        handoff = statement_of(answered)["handoff_id"]
        return send(sender, world.reply(sender, cases[name], kind, handoff, to, body=body))

    def receipt(name: str, case: Any) -> None:
        send(reviewer, world.receipt(reviewer, cases[name], case, "metro-police"))

    def sweep() -> None:
        result = runner.invoke(args=["admin", "sweep"])
        assert result.exit_code == 0, result.output

    at(clock, 3, 9, 9)
    set_policy(runner, "2h", "48h")
    at(clock, 3, 10, 9)
    a = submit("A")
    at(clock, 3, 10, 10)
    receipt("A", a)
    at(clock, 3, 11, 9)
    a_response = reply(reviewer, "A", "response", a, response())
    at(clock, 3, 12, 9)
    a_check = reply(officer, "A", "supplement", a_response,
                    verified("2026-03-12T08:30:00Z", video=False, channel=True))  # fmt: skip
    at(clock, 3, 13, 9)
    a_again = reply(reviewer, "A", "response", a_check, response())
    at(clock, 3, 14, 10)
    reply(officer, "A", "supplement", a_again,
          verified("2026-03-14T09:45:00Z", video=False, channel=False))  # fmt: skip

    at(clock, 4, 1, 9)
    b = submit("B")
    at(clock, 4, 1, 9, 30)
    receipt("B", b)
    at(clock, 4, 1, 12)
    gamed = response("not_actioned")
    gamed["actions_taken"] = []
    gamed["reason_code"] = "pending_legal_review"
    gamed["explanation"] = "Our lawyers are looking at it."
    reply(reviewer, "B", "response", b, gamed)
    at(clock, 4, 5, 9)
    sweep()

    at(clock, 5, 4, 9)
    c = submit("C")
    at(clock, 5, 4, 9, 10)
    receipt("C", c)
    at(clock, 5, 4, 10)
    reply(officer, "C", "question", c, {"questions": ["Who uploaded it first?"]})
    at(clock, 5, 5, 9)
    reply(reviewer, "C", "response", c, response())
    at(clock, 5, 6, 12)
    sweep()

    at(clock, 5, 18, 9)
    e = submit("E")
    at(clock, 5, 18, 10, 30)
    receipt("E", e)
    at(clock, 5, 19, 20)
    reply(reviewer, "E", "response", e, response())

    at(clock, 6, 1, 9)
    set_policy(runner, "1h", "24h")
    at(clock, 6, 2, 9)
    d = submit("D")
    at(clock, 6, 2, 10, 1)
    receipt("D", d)
    at(clock, 6, 2, 12)
    partial = response("partially_actioned")
    partial["actions_taken"] = partial["actions_taken"][:1]
    partial["reason_code"] = "not_illegal_in_jurisdiction"
    partial["explanation"] = "The channel is lawful where it is run."
    partial["item_outcomes"] = [
        {"item_id": "video-1", "outcome": "actioned"},
        {"item_id": "channel-1", "outcome": "not_actioned",
         "reason_code": "not_illegal_in_jurisdiction"},
    ]  # fmt: skip
    reply(reviewer, "D", "response", d, partial)

    at(clock, 8, 31, 9)
    sweep()
    at(clock, 9, 7, 12)
    return cases


def sample(case_id: str, seconds: float, allowed: float, verdict: str, answered: bool) -> dict:
    return {
        "case_id": case_id,
        "priority": "urgent",
        "seconds": seconds,
        "allowed_seconds": allowed,
        "verdict": verdict,
        "answered": answered,
    }


def test_six_months_of_evidence(app, client, clock, runner):
    world = standard_world(app, client, clock)
    cases = run_history(world, runner, clock)
    A, B, C, D, E = (cases[name] for name in "ABCDE")  # noqa: N806
    auditor = world.officials["auditor-1"]
    auditor.token = None
    got = auditor.get(
        "/v1/reports/compliance",
        query_string={"from": "2026-03-09", "to": "2026-09-06", "platform": "clipshare"},
    )
    assert got.status_code == 200, got.get_json()
    [clipshare] = got.get_json()["platforms"]

    assert clipshare["cases_received"] == 5
    ack, action = clipshare["acknowledgement"], clipshare["action"]
    # D's receipt one minute late is missed, and its breach entry exists although no
    # sweep ran between the deadline and the receipt.
    assert (ack["met"], ack["missed"], ack["released"], ack["pending"]) == (4, 1, 0, 0)
    assert (ack["breach_entries"], ack["breach_entries_contradicted"]) == (1, 0)
    assert ack["samples"] == [
        sample(A, 3600, 7200, "met", True),
        sample(B, 1800, 7200, "met", True),
        sample(C, 600, 7200, "met", True),
        sample(E, 5400, 7200, "met", True),  # v1's 2 h, though v2 gives 1 h since 06-01
        sample(D, 3660, 3600, "missed", True),
    ]
    # B's interim "not_actioned, pending_legal_review" answered nothing: missed.
    assert (action["met"], action["missed"], action["released"], action["pending"]) == (4, 1, 0, 0)
    assert (action["breach_entries"], action["breach_entries_contradicted"]) == (1, 0)
    assert action["samples"] == [
        sample(A, 86400, 172800, "met", True),  # the first final answer counts
        # B, never finally answered: its age at as_of, 04-01 09:00 → 09-07 12:00, is
        # 30 + 31 + 30 + 31 + 31 + 6 = 159 days and 3 hours.
        sample(B, 159 * 86400 + 3 * 3600, 172800, "missed", False),
        sample(C, 86400, 172800, "met", True),
        sample(E, 126000, 172800, "met", True),  # 35 h: met under v1's 48 h
        sample(D, 10800, 86400, "met", True),
    ]
    outcomes = {name: count for name, count in clipshare["outcomes"].items() if count}
    assert outcomes == {"actioned": 3, "partially_actioned": 1, "awaiting_response": 1}
    assert clipshare["declined"] == 0
    assert clipshare["reason_codes"] == {"not_illegal_in_jurisdiction": 1}
    verdicts_v1 = {
        "cases": 4, "action_met": 3, "action_missed": 1, "action_pending": 0,
        "action_released": 0,
    }  # fmt: skip
    verdicts_v2 = {
        "cases": 1, "action_met": 1, "action_missed": 0, "action_pending": 0,
        "action_released": 0,
    }  # fmt: skip
    every_case = {
        "cases": 5, "action_met": 4, "action_missed": 1, "action_pending": 0,
        "action_released": 0,
    }  # fmt: skip
    assert clipshare["evidence"] == {
        "interim_only": 1,  # B
        "refusals_superseded": 0,
        # A, C, E: actioned, both items each (6); D: video-1 only (1).
        "removals_claimed": 7,
        "removals_verified": 2,  # A's two items, after the second check
        "claims_contradicted": 1,  # A's channel-1 on 03-12
        "questions_answered_in_time": 0,
        "questions_answered_late": 0,
        "questions_overdue": 1,  # C's
        "breach_entries": {
            "ack": 1,  # D, with its late receipt
            "action": 1,  # B, by the 04-05 sweep
            "withdrawal_ack": 0,
            "reopened": 0,  # A's new answer came in time
            "answer": 1,  # C's question, by the 05-06 sweep
        },
        "by_legal_basis": {
            "DE / Strafgesetzbuch (StGB) / § 201a": every_case,
            f"EU / {DSA} / Art. 9": every_case,
        },
        "by_policy": {"dsa-art9 v1": verdicts_v1, "dsa-art9 v2": verdicts_v2},
    }
    # The breach of D's acknowledgement sits right before the receipt that revealed it.
    entries = world.log_entries()
    [d_breach] = [e for e in entries if e["event"] == "deadline_breached" and e["case_id"] == D]
    after = entries[d_breach["index"] + 1]
    assert (after["event"], after["case_id"], after["logged_at"]) == (
        "receipt",
        D,
        "2026-06-02T10:01:00Z",
    )
    assert d_breach["logged_at"] == "2026-06-02T10:01:00Z"
    assert d_breach["details"]["due_at"] == "2026-06-02T10:00:00Z"
