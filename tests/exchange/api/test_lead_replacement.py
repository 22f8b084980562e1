"""Replacing all of an organisation's leads: the operator, a waiting period on record, and
the leads' objection, which cancels it. The audit checks the same rules."""

import re

import pytest

from exchange.auditor.errors import MembershipEventError
from exchange.protocol.events import Event
from tests.exchange.api.support import assert_problem, created
from tests.exchange.api.test_admin_cli import admin, ok, refusal
from tests.exchange.api.test_membership import pending
from tests.exchange.api.test_membership_audit import append, audit

REPLACEMENT = re.compile(r"Replacement ([0-9a-f-]{36}) ")


def start(world, runner):
    pending(world, official="cs-new-lead", role="platform_lead")
    output = ok(admin(runner, "org", "replace-leads", "clipshare", "cs-new-lead"))
    return REPLACEMENT.search(output).group(1)


def test_the_replacement_waits_then_replaces_every_lead(world, runner, clock, database_url):
    ident = start(world, runner)
    [entry] = [e for e in world.log_entries() if e["event"] == "lead_replacement_started"]
    assert entry["actor"] is None
    assert entry["details"] == {
        "org": "clipshare",
        "official": "cs-new-lead",
        "replacement": ident,
        "effective_at": "2026-03-17T09:00:00Z",
    }
    before = world.log_size()
    early = refusal(admin(runner, "org", "complete-replacement", "clipshare"))
    assert "the waiting period runs until 2026-03-17T09:00:00Z" in early
    assert world.log_size() == before
    clock.advance(days=14)
    assert ok(admin(runner, "org", "complete-replacement", "clipshare")) == (
        "cs-new-lead is now the only lead of clipshare\n"
    )
    [done] = world.log_entries(before)
    assert done["event"] == "lead_replacement_completed"
    assert done["details"]["replaced"] == ["cs-lead"]
    # The old lead signs nothing any more; the new one does.
    assert_problem(
        world.membership("clipshare", "remove", official="cs-reviewer"), 403, "not-a-lead"
    )
    created(world.membership("clipshare", "remove", signer="cs-new-lead", official="cs-reviewer"))
    report = audit(world, database_url)
    operator_only = [(c.event, c.authorised) for c in report.changes if c.org == "clipshare"]
    assert ("lead_replacement_started", False) in operator_only
    assert ("lead_replacement_completed", False) in operator_only


def test_a_leads_objection_cancels_the_replacement(world, runner, clock, database_url):
    ident = start(world, runner)
    answer = created(world.membership("clipshare", "object", replacement=ident))
    assert answer["event"] == "lead_replacement_objected"
    clock.advance(days=15)
    assert "no pending replacement" in refusal(
        admin(runner, "org", "complete-replacement", "clipshare")
    )
    again = world.membership("clipshare", "object", replacement=ident)
    assert_problem(again, 404, "not-found")
    report = audit(world, database_url)
    [objection] = [c for c in report.changes if c.event == "lead_replacement_objected"]
    assert (objection.signer, objection.authorised) == ("cs-lead", True)


def test_the_audit_refuses_a_replacement_completed_early(world, runner, database_url):
    ident = start(world, runner)
    index = append(
        world,
        Event.LEAD_REPLACEMENT_COMPLETED,
        details={
            "org": "clipshare",
            "official": "cs-new-lead",
            "replacement": ident,
            "replaced": ["cs-lead"],
        },
    )
    with pytest.raises(MembershipEventError) as refused:
        audit(world, database_url)
    assert refused.value.index == index
    assert "completed before its waiting period ended" in refused.value.reason
