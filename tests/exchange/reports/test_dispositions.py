"""Closures, partial answers and moot questions: the definitions at their edges."""

from datetime import timedelta

from exchange.reports import Period, compute
from tests.exchange.reports.conftest import verified_from_database
from tests.exchange.reports.scripted import response_body
from tests.helpers.world import standard_world, statement_of


def test_closures_partial_answers_and_moot_questions(app, client, clock):
    world = standard_world(app, client, clock)
    officer, reviewer = world.officials["officer-1"], world.officials["cs-reviewer"]
    start = clock()

    def send(sender, sealed):
        response = sender.send(sealed)
        assert response.status_code == 201, response.get_json()
        return sealed

    def reply(sender, case, kind, to, answered, **what):
        ids = statement_of(case)["case_id"], statement_of(answered)["handoff_id"]
        return send(sender, world.reply(sender, ids[0], kind, ids[1], to, **what))

    def submit():
        sealed, response = world.submit(officer, "clipshare")
        assert response.status_code == 201, response.get_json()
        return sealed

    # G: acknowledged after 10 min, the platform asks at 20 min, the agency closes at
    # 30 min: action released, the question moot, the case closed unanswered.
    g = submit()
    clock.advance(minutes=10)
    send(reviewer, world.receipt(reviewer, statement_of(g)["case_id"], g, "metro-police"))
    clock.advance(minutes=10)
    reply(reviewer, g, "question", "metro-police", g, body={"questions": ["Which one?"]})
    clock.advance(minutes=10)
    reply(officer, g, "closure", "clipshare", g, body={"reason": "other"})
    # H (at 30 min): acknowledged at once, partially actioned after 1 h, fully after 2 h:
    # action time is the first response's, the outcome the latest's.
    h = submit()
    send(reviewer, world.receipt(reviewer, statement_of(h)["case_id"], h, "metro-police"))
    clock.advance(hours=1)
    partial = response_body("partially_actioned", "pending_legal_review")
    reply(reviewer, h, "response", "metro-police", h, body=partial)
    clock.advance(hours=1)
    reply(reviewer, h, "response", "metro-police", h, body=response_body())
    # J (at 2 h 30 min): closed by the agency after 5 min, never acknowledged.
    j = submit()
    clock.advance(minutes=5)
    reply(officer, j, "closure", "clipshare", j, body={"reason": "duplicate"})
    clock.advance(days=3)

    verified = verified_from_database(app)
    report = compute(
        verified.entries,
        checkpoint=verified.checkpoint,
        period=Period(start, start + timedelta(days=1)),
        now=clock(),
        platform="clipshare",
    ).to_json()
    clipshare = report["platforms"][0]
    assert clipshare["cases_received"] == 3
    outcomes = {k: v for k, v in clipshare["outcomes"].items() if v}
    assert outcomes == {"actioned": 1, "closed_unanswered": 2}
    assert clipshare["declined"] == 0
    assert clipshare["reason_codes"] == {}  # the latest answer of H is actioned
    ack, action = clipshare["acknowledgement"], clipshare["action"]
    assert (ack["met"], ack["missed"], ack["released"], ack["pending"]) == (2, 0, 1, 0)
    assert ack["time"] == {
        "count": 2,
        "median_seconds": 0,
        "p90_seconds": 600,
        "max_seconds": 600,
    }
    assert (action["met"], action["missed"], action["released"]) == (1, 0, 2)
    assert action["time"]["max_seconds"] == 3600
    assert [s["case_id"] for s in action["samples"]] == [statement_of(h)["case_id"]]
    assert clipshare["overdue"] == {"count": 0, "cases": []}
    metro = next(a for a in report["agencies"] if a["agency"] == "metro-police")
    questions = metro["questions_from_platforms"]
    assert (questions["asked"], questions["answered"], questions["moot"]) == (1, 0, 1)
    assert questions["unanswered"] == 0
    assert questions["open"] == []
