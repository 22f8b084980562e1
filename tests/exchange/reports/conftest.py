"""The scripted history of `scripted.py`, and the verified log it produced; a live server
with a short history for the CLI tests (one server per test module)."""

import json
import time

import pytest

from exchange import runtime
from exchange.ops.devserver import LiveServer
from exchange.reports import VerifiedLog, verify_entries
from exchange.runtime import server_keys
from exchange.services import transparency
from tests.exchange.cli.conftest import Hotline, live_response_body
from tests.exchange.reports.scripted import Scripted, scripted_history
from tests.schemas import examples


@pytest.fixture
def scripted(app, client, clock) -> Scripted:
    return scripted_history(app, client, clock)


def verified_from_database(app) -> VerifiedLog:
    """The log's entries and latest checkpoint as stored, verified by the auditor core."""
    return texts_from_database(app)[1]


def texts_from_database(app) -> tuple[list[str], VerifiedLog]:
    """The same, with the entries' exact text."""
    with app.app_context():
        with runtime.read() as session:
            note = transparency.current_checkpoint(session).note
            texts = [row.leaf for row in transparency.entries(session, 0, 10**6, 10**6)]
        keys = server_keys()
        return texts, verify_entries(texts, note, keys.log_verifier_keys, keys.log.name)


# Normal-priority deadlines of 1 s and 2 s, so that one case misses both in the test.
DEADLINES = {"urgent": [3600, 86400], "high": [14400, 259200], "normal": [1, 2]}


@pytest.fixture(scope="module")
def hotline(tmp_path_factory):
    root = tmp_path_factory.mktemp("report-cli")
    settings = {"EXCHANGE_DEADLINES": json.dumps(DEADLINES)}
    with LiveServer(root / "instance", settings=settings) as server:
        for org, kind in (
            ("police", "agency"),
            ("clipshare", "platform"),
            ("chatter", "platform"),
            ("regulator", "auditor"),
        ):
            server.admin("org", "create", org, "--kind", kind, "--name", org.title())
        cli = Hotline(server, root / "config", root / "keys")
        cli.enroll("police", "officer", "agency_officer")
        # Each organisation's first official is its bootstrapped lead, who approves the rest.
        cli.enroll("clipshare", "lead", "platform_lead")
        cli.enroll("clipshare", "reviewer", "platform_official", "--categories", "sexual_deepfake")
        cli.json(
            "lead",
            "org",
            "approve",
            "reviewer",
            "--role",
            "platform_official",
            "--categories",
            "sexual_deepfake",
        )
        cli.enroll("regulator", "auditor", "auditor")
        cli.json("lead", "org", "route", "sexual_deepfake", "reviewer")
        yield cli


@pytest.fixture(scope="module")
def history(hotline, tmp_path_factory):
    """An urgent case acknowledged and actioned; a normal one left to miss both deadlines."""
    folder = tmp_path_factory.mktemp("cases")
    ids = {}
    for name, priority in (("answered", "urgent"), ("ignored", "normal")):
        body = examples.deepfake_case_body()
        body["issuer_case_ref"] = f"REPORT-{name}"
        body["priority"] = priority
        path = folder / f"{name}.json"
        path.write_text(json.dumps(body))
        ids[name] = hotline.json("officer", "submit", str(path), "--to", "clipshare")["case_id"]
    response = folder / "response.json"
    response.write_text(json.dumps(live_response_body()))
    assert hotline.json("reviewer", "ack", ids["answered"])["state"] == "acknowledged"
    assert hotline.json("reviewer", "respond", ids["answered"], str(response))["state"] == (
        "actioned"
    )
    time.sleep(2.5)  # past both deadlines of the normal case: no timing is asserted
    return ids
