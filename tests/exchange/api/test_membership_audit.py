"""The auditor checks the membership rules for every organisation, replaying the log.

The forgeries are appended with `exchange.log.append` inside a write transaction, so the
server's own key signs a checkpoint over them: an operator with the database and the log
key, writing what the API refuses. The checkpoint verifies; the audit must still refuse
the entry, and name it.
"""

import pytest

from exchange import log, runtime
from exchange.auditor import SignerKeyError, verify_log
from exchange.auditor.errors import MembershipEventError
from exchange.client import authoring
from exchange.log import Actor
from exchange.protocol.events import Event
from exchange.runtime import server_keys
from tests.exchange.api.test_membership import pending
from tests.exchange.log.helpers import bundle_from_database


def audit(world, database_url):
    with world.app.app_context():
        key = server_keys().log.verifier_key
    bundle = bundle_from_database(database_url)
    return verify_log(bundle.entries, bundle.checkpoint, [key], bundle.origin, workers=0)


def append(world, event, *, actor=None, statement=None, details):
    with world.app.app_context(), runtime.write() as session:
        return log.append(
            session, event, world.clock(), actor=actor, statement=statement, details=details
        ).index


def test_an_honest_log_verifies_and_names_the_operators_changes(world, database_url):
    pending(world)
    world.approve("clipshare", "cs-rogue", "platform_official")
    report = audit(world, database_url)
    clipshare = [
        (c.event, c.official, c.signer, c.authorised)
        for c in report.changes
        if c.org == "clipshare"
    ]
    assert clipshare[0] == ("lead_bootstrapped", "cs-lead", None, True)
    assert ("member_invited", "cs-reviewer", "cs-lead", True) in clipshare
    assert ("routing_signed", "cs-reviewer", "cs-lead", True) in clipshare
    assert clipshare[-3:] == [
        ("official_invited", "cs-rogue", None, False),
        ("official_enrolled", "cs-rogue", "cs-rogue", True),
        ("member_approved", "cs-rogue", "cs-lead", True),
    ]


def test_routing_by_the_operator_alone_is_refused(world, database_url):
    index = append(
        world,
        Event.ROUTING_CHANGED,
        details={"platform": "clipshare", "category": "ncii", "official": "cs-reviewer"},
    )
    with pytest.raises(MembershipEventError) as refused:
        audit(world, database_url)
    assert refused.value.index == index
    assert "clipshare's routing changed by the operator alone" in refused.value.reason


def test_a_second_bootstrap_by_the_operator_is_refused(world, database_url):
    pending(world)
    index = append(
        world,
        Event.LEAD_BOOTSTRAPPED,
        details={
            "org": "clipshare",
            "official": "cs-rogue",
            "role": "platform_official",
            "title": "",
            "categories": [],
            "lead": True,
        },
    )
    with pytest.raises(MembershipEventError) as refused:
        audit(world, database_url)
    assert refused.value.index == index
    assert "which already had a lead" in refused.value.reason


def _approval(world, signer, official="cs-rogue"):
    person = world.officials[signer]
    statement = authoring.membership(
        person.identity.signing_key,
        "clipshare",
        "approve",
        world.clock(),
        official=official,
        role="platform_official",
        categories=[],
        lead=False,
    )
    actor = Actor("clipshare", signer, person.identity.signing_kid)
    details = {
        "org": "clipshare",
        "official": official,
        "role": "platform_official",
        "categories": [],
        "lead": False,
    }
    return actor, statement, details


def test_an_approval_signed_by_a_non_lead_is_refused(world, database_url):
    pending(world)
    actor, statement, details = _approval(world, "cs-reviewer")
    index = append(world, Event.MEMBER_APPROVED, actor=actor, statement=statement, details=details)
    with pytest.raises(MembershipEventError) as refused:
        audit(world, database_url)
    assert refused.value.index == index
    assert refused.value.reason == "cs-reviewer was not a current lead of clipshare"


def test_a_replayed_statement_and_altered_details_are_refused(world, database_url):
    pending(world)
    actor, statement, details = _approval(world, "cs-lead")
    append(world, Event.MEMBER_APPROVED, actor=actor, statement=statement, details=details)
    again = append(world, Event.MEMBER_APPROVED, actor=actor, statement=statement, details=details)
    with pytest.raises(MembershipEventError) as refused:
        audit(world, database_url)
    assert refused.value.index == again
    assert "was applied before, at entry" in refused.value.reason


def test_details_that_are_not_the_statements_are_refused(world, database_url):
    pending(world)
    actor, statement, details = _approval(world, "cs-lead")
    index = append(
        world,
        Event.MEMBER_APPROVED,
        actor=actor,
        statement=statement,
        details={**details, "lead": True},
    )
    with pytest.raises(MembershipEventError) as refused:
        audit(world, database_url)
    assert refused.value.index == index
    assert refused.value.reason == "the entry's details are not the statement's"


def test_a_delivery_to_an_unapproved_official_is_refused(world, database_url):
    rogue = pending(world)
    index = append(
        world,
        Event.DELIVERED,
        actor=Actor("clipshare", "cs-rogue", rogue.identity.signing_kid),
        details={},
    )
    with pytest.raises(SignerKeyError) as refused:
        audit(world, database_url)
    assert refused.value.index == index
    assert refused.value.reason == "cs-rogue was not approved by a lead of clipshare"
