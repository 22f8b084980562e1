"""Deadline policies: set by the operator on record, resolved when a case opens, fixed in
its log entry, never retroactive, and re-resolved by the auditor."""

import json
from datetime import timedelta
from typing import Any

import pytest

from exchange import log, runtime
from exchange.auditor import verify_log
from exchange.auditor.errors import DeadlinePolicyError
from exchange.log import Actor
from exchange.protocol.events import Event
from exchange.services import deadlines
from schemas.common import format_utc
from tests.exchange.api.support import submit
from tests.exchange.log.helpers import bundle_from_database
from tests.helpers.world import World, statement_of

DSA = "Regulation (EU) 2022/2065 (Digital Services Act)"
STGB = "Strafgesetzbuch (StGB)"
IE_ACT = "Harassment, Harmful Communications and Related Offences Act 2020"


def admin(runner: Any, *args: str) -> Any:
    return runner.invoke(args=["admin", *args])


def ok(result: Any) -> str:
    assert result.exit_code == 0, (result.output, result.exception)
    return str(result.output)


def refused(result: Any) -> str:
    assert result.exit_code == 1, (result.output, result.exception)
    assert result.stdout == ""
    [line] = result.stderr.splitlines()
    return str(line)


def audit(world: World, database_url: str) -> Any:
    with world.app.app_context():
        verifier = runtime.server_keys().log.verifier_key
    bundle = bundle_from_database(database_url)
    return verify_log(bundle.entries, bundle.checkpoint, [verifier], bundle.origin)


def case_entry(world: World, case_id: str) -> dict[str, Any]:
    [entry] = [e for e in world.log_entries() if e["event"] == "case" and e["case_id"] == case_id]
    return entry


def set_stgb(runner: Any, ack: str = "30m", action: str = "12h", answer: str = "6h") -> str:
    return ok(
        admin(
            runner,
            "deadline-policy",
            "set",
            "de-stgb-201a",
            "--jurisdiction",
            "DE",
            "--instrument",
            STGB,
            "--article",
            "§ 201a",
            "--ack",
            ack,
            "--action",
            action,
            "--answer",
            answer,
        )
    )


def test_setting_a_policy_is_logged_and_listed(world, runner, clock):
    before = world.log_size()
    assert set_stgb(runner) == "Deadline policy de-stgb-201a v1 applies to new cases\n"
    [entry] = world.log_entries(before)
    assert entry["event"] == "deadline_policy_changed"
    assert entry["actor"] is None
    assert entry["case_id"] is None
    assert entry["logged_at"] == format_utc(clock())
    assert entry["details"] == {
        "name": "de-stgb-201a",
        "version": 1,
        "scope": {
            "jurisdiction": "DE",
            "instrument": STGB,
            "article": "§ 201a",
            "category": None,
            "priority": None,
        },
        "ack_within": 1800,
        "action_within": 43200,
        "answer_within": 21600,
        "retired": False,
    }
    listed = json.loads(ok(admin(runner, "deadline-policy", "list", "--json")))
    assert listed == [
        {
            "name": "de-stgb-201a",
            "version": 1,
            "retired": False,
            "jurisdiction": "DE",
            "instrument": STGB,
            "article": "§ 201a",
            "category": None,
            "priority": None,
            "ack_within": 1800,
            "action_within": 43200,
            "answer_within": 21600,
            "log_index": before,
        }
    ]


def test_a_case_opens_under_the_most_specific_policy_in_force(world, runner, clock, database_url):
    officer = world.officials["officer-1"]
    ok(
        admin(
            runner, "deadline-policy", "set", "deepfakes", "--category", "sexual_deepfake",
            "--ack", "2h", "--action", "48h", "--answer", "24h",
        )
    )  # fmt: skip
    set_stgb(runner)
    opened_at = clock()
    # The example case cites the DSA Art. 9 and StGB § 201a, about a sexual deepfake: the
    # statute outranks the category.
    _, statement = submit(world, officer)
    entry = case_entry(world, statement["case_id"])
    assert entry["details"]["deadline_policy"] == {
        "name": "de-stgb-201a",
        "version": 1,
        "ack_within": 1800,
        "action_within": 43200,
        "answer_within": 21600,
    }
    assert entry["details"]["ack_due_at"] == format_utc(opened_at + timedelta(minutes=30))
    assert entry["details"]["action_due_at"] == format_utc(opened_at + timedelta(hours=12))
    # The clear meta carries the legal bases the policy was resolved from.
    assert statement["meta"]["legal_basis"][1] == {
        "jurisdiction": "DE",
        "instrument": STGB,
        "article": "§ 201a",
    }
    # Another article of the same statute is not covered: the category policy applies.
    _, other = submit(
        world,
        officer,
        legal_basis=[{"jurisdiction": "DE", "instrument": STGB, "article": "§ 184k"}],
    )
    assert case_entry(world, other["case_id"])["details"]["deadline_policy"]["name"] == "deepfakes"
    # Nothing covers an NCII notice under Irish law: the settings' normal periods apply.
    _, irish = submit(
        world,
        officer,
        category="ncii",
        priority="normal",
        legal_basis=[{"jurisdiction": "IE", "instrument": IE_ACT, "article": "s. 2"}],
    )
    assert case_entry(world, irish["case_id"])["details"]["deadline_policy"] == {
        "name": "settings",
        "version": 0,
        "ack_within": 24 * 3600,
        "action_within": 7 * 24 * 3600,
        "answer_within": 72 * 3600,
    }
    seen = officer.get(f"/v1/cases/{statement['case_id']}").get_json()
    assert seen["ack_due_at"] == format_utc(opened_at + timedelta(minutes=30))
    assert seen["deadline_policy"] == {
        "name": "de-stgb-201a",
        "version": 1,
        "answer_within": 21600,
    }
    assert audit(world, database_url).entries == world.log_size()


def test_a_policy_change_applies_to_new_cases_only(world, runner, clock, database_url):
    officer = world.officials["officer-1"]
    set_stgb(runner, ack="2h", action="48h")
    _, before_change = submit(world, officer)
    clock.advance(minutes=10)
    assert set_stgb(runner, ack="30m", action="12h") == (
        "Deadline policy de-stgb-201a v2 applies to new cases\n"
    )
    _, after_change = submit(world, officer)
    first = case_entry(world, before_change["case_id"])["details"]["deadline_policy"]
    second = case_entry(world, after_change["case_id"])["details"]["deadline_policy"]
    assert (first["version"], first["ack_within"]) == (1, 7200)
    assert (second["version"], second["ack_within"]) == (2, 1800)
    # 40 minutes on, only the case opened under v2 is late: v2 did not shorten v1's case.
    clock.advance(minutes=30)
    with world.app.app_context(), runtime.write() as session:
        assert deadlines.sweep(session, clock()) == [(after_change["case_id"], "ack")]
    assert ok(admin(runner, "deadline-policy", "retire", "de-stgb-201a")) == (
        "Deadline policy de-stgb-201a retired (v3)\n"
    )
    _, after_retirement = submit(world, officer)
    applied = case_entry(world, after_retirement["case_id"])["details"]["deadline_policy"]
    assert (applied["name"], applied["version"], applied["ack_within"]) == ("settings", 0, 3600)
    assert ok(admin(runner, "deadline-policy", "list", "--json")) == "[]\n"
    versions = json.loads(ok(admin(runner, "deadline-policy", "list", "--all", "--json")))
    assert [(v["version"], v["retired"], v["ack_within"]) for v in versions] == [
        (1, False, 7200),
        (2, False, 1800),
        (3, True, 1800),
    ]
    assert audit(world, database_url).entries == world.log_size()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["Bad_Name", "--ack", "1h", "--action", "2h", "--answer", "1h"],
            "Error: policy name 'Bad_Name' must be 1-64 lowercase letters, digits, dots or "
            "inner hyphens, and not 'settings'",
        ),
        (
            ["settings", "--ack", "1h", "--action", "2h", "--answer", "1h"],
            "Error: policy name 'settings' must be 1-64 lowercase letters, digits, dots or "
            "inner hyphens, and not 'settings'",
        ),
        (
            ["p", "--article", "Art. 9", "--ack", "1h", "--action", "2h", "--answer", "1h"],
            "Error: an article belongs to an instrument: give the instrument too",
        ),
        (
            ["p", "--instrument", DSA, "--ack", "1h", "--action", "2h", "--answer", "1h"],
            "Error: an instrument belongs to a jurisdiction: give it too",
        ),
        (
            ["p", "--jurisdiction", "de", "--ack", "1h", "--action", "2h", "--answer", "1h"],
            "Error: jurisdiction must be an ISO 3166-1 alpha-2 code or EU",
        ),
        (
            ["p", "--ack", "3h", "--action", "2h", "--answer", "1h"],
            "Error: the ack period must not be longer than the action period",
        ),
        (
            ["p", "--ack", "1h", "--action", "400d", "--answer", "1h"],
            "Error: the action period must be between 1 s and 365 days",
        ),
    ],
)
def test_a_policy_that_cannot_be_in_force_is_refused(world, runner, args, message):
    before = world.log_size()
    assert refused(admin(runner, "deadline-policy", "set", *args)) == message
    assert world.log_size() == before
    assert ok(admin(runner, "deadline-policy", "list", "--all", "--json")) == "[]\n"


def test_a_malformed_period_and_duplicate_scopes_are_refused(world, runner):
    result = admin(runner, "deadline-policy", "set", "p", "--ack", "1w", "--action", "2h",
                   "--answer", "1h")  # fmt: skip
    assert result.exit_code == 2
    assert "'1w' is not a period such as 30m, 24h or 7d" in result.output
    set_stgb(runner)
    before = world.log_size()
    duplicate = admin(
        runner, "deadline-policy", "set", "stgb-copy", "--jurisdiction", "DE", "--instrument",
        STGB, "--article", "§ 201a", "--ack", "1h", "--action", "2h", "--answer", "1h",
    )  # fmt: skip
    assert refused(duplicate) == (
        "Error: policy de-stgb-201a already covers exactly this scope; change or retire it"
    )
    assert refused(admin(runner, "deadline-policy", "retire", "nothing")) == (
        "Error: no deadline policy nothing in force"
    )
    assert world.log_size() == before


# --- what a dishonest operator could write, and the auditor's refusal ---------------------------


def test_the_auditor_refuses_a_case_given_a_softer_policy(world, runner, clock, database_url):
    officer = world.officials["officer-1"]
    set_stgb(runner)
    sealed = world.seal_case(officer, "clipshare")
    payload = statement_of(sealed)
    now = clock()
    with world.app.app_context(), runtime.write() as session:
        forged = log.append(
            session,
            Event.CASE,
            now,
            actor=Actor(officer.org, officer.id, officer.identity.signing_kid),
            case_id=payload["case_id"],
            handoff_id=payload["handoff_id"],
            statement=sealed.statement,
            jwe_sha256=payload["jwe_sha256"],
            details={
                "to": ["clipshare"],
                "state": "submitted",
                "assignee": "cs-reviewer",
                "ack_due_at": format_utc(now + timedelta(hours=1)),
                "action_due_at": format_utc(now + timedelta(hours=24)),
                "deadline_policy": {
                    "name": "settings",
                    "version": 0,
                    "ack_within": 3600,
                    "action_within": 86400,
                    "answer_within": 86400,
                },
            },
        ).index
    with pytest.raises(DeadlinePolicyError) as refusal:
        audit(world, database_url)
    assert refusal.value.index == forged
    assert refusal.value.reason.startswith(
        "the case was given policy settings v0; de-stgb-201a v1 was in force for it"
    )


def test_the_auditor_refuses_a_skipped_policy_version(world, clock, database_url):
    details = {
        "name": "quiet",
        "version": 2,
        "scope": {
            "jurisdiction": None,
            "instrument": None,
            "article": None,
            "category": "drugs",
            "priority": None,
        },
        "ack_within": 3600,
        "action_within": 7200,
        "answer_within": 3600,
        "retired": False,
    }
    with world.app.app_context(), runtime.write() as session:
        index = log.append(session, Event.DEADLINE_POLICY_CHANGED, clock(), details=details).index
    with pytest.raises(DeadlinePolicyError) as refusal:
        audit(world, database_url)
    assert refusal.value.index == index
    assert refusal.value.reason.startswith("policy quiet version 2, expected 1")
