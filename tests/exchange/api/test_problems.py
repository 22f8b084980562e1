"""Every problem type the API can answer with: its status, its type, and nothing changed.

Problem types raised elsewhere are tested where their cause lives: `invalid-token`,
`invalid-client-assertion` and `assertion-replayed` in test_auth; `enrollment-code-invalid`
and `invalid-keys` in test_enrollment; `invalid-transition` in test_transitions;
`handoff-conflict` and `case-exists` in test_idempotency. `test_every_problem_type_is_tested`
keeps that list honest.
"""

import json
import uuid
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from exchange import create_app, runtime
from exchange.api import problems
from exchange.errors import ExchangeError
from exchange.protocol import envelope as env
from exchange.protocol.envelope import errors as envelope_errors
from exchange.protocol.envelope.canonical import canonical
from exchange.protocol.envelope.jose import STATEMENT_TYP, sign_compact
from keys import b64url_decode, b64url_encode
from schemas.common import format_utc
from tests.conftest import app_config
from tests.exchange.api.support import (
    assert_problem,
    assignment,
    created,
    receipt,
    sealed_reply,
    submit,
)
from tests.exchange.protocol.envelope.forge import flip_bit, resign
from tests.helpers.world import World, statement_of
from tests.schemas import examples

HERE = Path(__file__).parent

# Problem types no request can produce today, and why (kept short; see the report).
UNREACHABLE = {
    "bad-request": "werkzeug's own 400: every body is parsed by our parser, which says why",
    "unauthenticated": "the base of the 401s; every 401 says invalid-token or -assertion",
    "conflict": "the base of the 409s",
    "not-acceptable": "no route negotiates its representation",
    "rate-limited": "rate limits are configured and tested with them",
    "unavailable": "werkzeug's 503; readiness answers not-ready",
    "envelope-invalid-envelope": "the base class of envelope errors",
    "envelope-non-canonical-base64": "the envelope schema refuses it first (422)",
    "envelope-signature-count": "the envelope schema refuses it first (422)",
    "envelope-oversize": "the body limit (413) is below the envelope's size limits",
    "envelope-invalid-content": "the base of invalid-statement and invalid-record",
}
# Envelope errors that only a recipient (decrypting) can run into, never the server.
RECIPIENT_ONLY = {
    "unknown-recipient",
    "low-order-point",
    "decryption-failed",
    "bad-inner-signature",
    "signer-mismatch",
    "record-mismatch",
    "case-mismatch",
    "not-addressed",
    "no-record",
    "invalid-record",
}


def all_problem_types() -> set[str]:
    """Every type the server can answer with: the published catalogue, less the envelope
    errors only a recipient meets when it decrypts."""
    slugs = {uri.removeprefix("urn:hotline:problem:") for uri in problems.catalogue()}
    return slugs - {f"envelope-{code}" for code in RECIPIENT_ONLY}


def test_the_catalogue_holds_every_error_class():
    catalogue = problems.catalogue()
    for slug in ("invalid-transition", "json-too-deep", "envelope-bad-signature", "not-ready"):
        assert f"urn:hotline:problem:{slug}" in catalogue
    assert catalogue["urn:hotline:problem:invalid-transition"] == {
        "status": 409,
        "title": "This kind of handoff is not allowed for this role in this state",
    }


# Where each problem type is asserted (status and type), by test file (relative to this
# folder) and test.
TESTED = {
    "validation-failed": "test_problems.py::test_schema_errors_are_a_422_with_errors_by_field",
    "malformed-json": "test_problems.py::test_malformed_json_is_a_400",
    "json-too-deep": "test_problems.py::test_json_nested_deeper_than_allowed_is_a_400",
    "unsupported-media-type": "test_problems.py::test_a_json_body_must_say_so",
    "payload-too-large": "test_problems.py::test_a_body_over_the_limit_is_a_413",
    "method-not-allowed": "test_problems.py::test_a_wrong_method_is_a_405_with_allow",
    "not-found": "test_problems.py::test_an_unknown_route_is_a_problem",
    "internal-error": "test_problems.py::test_an_unexpected_failure_is_a_bare_500",
    "not-ready": "test_problems.py::test_readiness_says_not_ready_when_the_schema_is_behind",
    "unprocessable": "test_problems.py::test_log_queries_out_of_range",
    "invalid-cursor": "test_listing.py::test_an_invalid_cursor_is_a_422",
    "sender-mismatch": "test_problems.py::test_the_sender_must_be_the_caller",
    "clock-skew": "test_problems.py::test_issued_at_must_be_near_server_time",
    "wrong-endpoint": "test_problems.py::test_each_kind_has_its_endpoint",
    "case-mismatch": "test_problems.py::test_the_statement_names_the_case_of_the_url",
    "wrong-addressee": "test_problems.py::test_a_case_goes_to_exactly_one_active_platform",
    "unknown-handoff": "test_problems.py::test_in_reply_to_names_a_handoff_of_the_case",
    "missing-recipient-keys": (
        "test_problems.py::test_the_jwe_must_reach_every_case_handler_and_nobody_else"
    ),
    "unexpected-recipient-keys": (
        "test_problems.py::test_the_jwe_must_reach_every_case_handler_and_nobody_else"
    ),
    "recipient-unreachable": (
        "test_problems.py::test_a_platform_without_enrolled_officials_is_unreachable"
    ),
    "receipt-digest-mismatch": (
        "test_problems.py::test_a_receipt_binds_the_record_the_sender_signed"
    ),
    "invalid-assignee": (
        "test_problems.py::test_a_case_is_assigned_to_an_active_official_of_its_platform"
    ),
    "forbidden": "test_authorization.py::test_only_agency_officers_submit_cases",
    "unapproved-recipient-keys": (
        "test_membership.py::test_an_operator_invitation_receives_nothing_until_a_lead_approves"
    ),
    "not-a-lead": "test_membership.py::test_refusals_name_their_problem_and_change_nothing",
    "lead-of-another-organisation": (
        "test_membership.py::test_refusals_name_their_problem_and_change_nothing"
    ),
    "unknown-official": "test_membership.py::test_refusals_name_their_problem_and_change_nothing",
    "invalid-membership-statement": (
        "test_membership.py::test_a_statement_for_another_org_or_by_another_key_is_refused"
    ),
    "statement-replayed": "test_membership.py::test_a_statement_applies_once",
    "organisation-has-leads": "test_membership.py::test_the_operator_bootstraps_a_lead_only_once",
    "last-lead": "test_membership.py::test_removal_ends_access_and_the_last_lead_stays",
    "invalid-token": "test_auth.py::test_a_bad_token_is_a_401_never_a_422",
    "invalid-client-assertion": "test_auth.py::test_every_unacceptable_assertion_is_a_401",
    "assertion-replayed": "test_auth.py::test_a_replayed_assertion_is_refused",
    "enrollment-code-invalid": "test_enrollment.py::test_a_code_enrolls_once",
    "invalid-keys": "test_enrollment.py::test_an_enrollment_statement_must_be_right_and_proven",
    "invalid-transition": "test_transitions.py::test_nothing_happens_to_a_closed_case",
    "handoff-conflict": (
        "test_idempotency.py::test_the_same_handoff_id_with_other_content_conflicts"
    ),
    "case-exists": "test_idempotency.py::test_the_same_case_id_is_a_conflict",
    "subscription-statement-invalid": (
        "../notify/test_subscriptions.py::test_a_statement_signed_by_someone_else_is_refused"
    ),
    "unsafe-destination": (
        "../notify/test_subscriptions.py::test_refusals_are_exact_and_change_nothing"
    ),
    "already-exists": "test_admin_cli.py::test_refusals_exit_1_with_one_line",
    "log-key-retired": (
        "../ops/test_observability.py::test_an_instance_with_a_stale_log_key_signs_nothing"
    ),
    # A database that cannot serve right now: tested by breaking one (tests/faults/).
    "database-busy": (
        "../../faults/test_database_faults.py::"
        "test_a_database_locked_longer_than_the_busy_timeout_is_a_503"
    ),
    "database-read-only": (
        "../../faults/test_database_faults.py::"
        "test_a_read_only_database_file_refuses_writes_and_serves_reads"
    ),
    "storage-full": (
        "../../faults/test_database_faults.py::"
        "test_a_full_disk_refuses_writes_and_leaves_the_log_whole"
    ),
    "database-unavailable": (
        "../../faults/test_postgres_outage.py::"
        "test_an_unreachable_database_is_a_503_and_the_service_recovers_by_itself"
    ),
    # The transparency report's own, tested with it.
    "unknown-platform": "../reports/test_api.py::test_an_unknown_platform_is_422",
    "log-unverifiable": (
        "../reports/test_api.py::test_a_database_edited_behind_the_servers_back_publishes_nothing"
    ),
    "report-time-limit": (
        "../reports/test_api.py::test_a_log_too_long_to_verify_in_time_is_verified_over_several_requests"
    ),
    **dict.fromkeys(
        (
            "envelope-bad-signature",
            "envelope-unknown-signer-key",
            "envelope-alg-none",
            "envelope-symmetric-algorithm",
            "envelope-unsupported-algorithm",
            "envelope-forbidden-header",
            "envelope-malformed",
            "envelope-wrong-type",
            "envelope-non-canonical-json",
            "envelope-invalid-statement",
            "envelope-digest-mismatch",
        ),
        "test_problems.py::test_every_envelope_refusal_is_its_own_problem",
    ),
}


def test_every_problem_type_is_tested():
    """Each type the code defines is asserted by a named test, or said to be unreachable."""
    assert sorted(all_problem_types() - set(TESTED) - set(UNREACHABLE)) == []
    assert sorted(set(TESTED) & set(UNREACHABLE)) == []
    for slug, where in TESTED.items():
        file, test = where.split("::")
        source = (HERE / file).read_text()
        assert f"def {test}(" in source, (slug, where)
        assert f'"{slug}"' in source, (slug, where)


def test_problem_types_and_titles_are_unique_per_cause():
    """One title per type, wherever the type is raised from."""
    titles: dict[str, str] = {}
    for cls in [ExchangeError, *_descendants(ExchangeError)]:
        assert titles.setdefault(cls.slug, cls.title) == cls.title, cls
    for slug, title in problems._HTTP_PROBLEMS.values():
        assert titles.setdefault(slug, title) == title, slug
    codes = [
        e.code
        for e in [envelope_errors.EnvelopeError, *_descendants(envelope_errors.EnvelopeError)]
    ]
    assert len(codes) == len(set(codes))


def _descendants(cls: type) -> list[Any]:
    found: list[Any] = []
    for sub in cls.__subclasses__():
        found += [sub, *_descendants(sub)]
    return found


class Refusals:
    """Checks problems against a mark of the log: nothing refused is ever on record."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.mark()

    def mark(self) -> None:
        self.size = self.world.log_size()

    def check(self, response: Any, status: int, slug: str) -> dict[str, Any]:
        body = assert_problem(response, status, slug)
        assert self.world.log_size() == self.size, slug
        return body


@pytest.fixture
def refusals(world) -> Refusals:
    return Refusals(world)


# --- HTTP and parsing --------------------------------------------------------------------------


def test_an_unknown_route_is_a_problem(client):
    for path in ("/v1/nothing", "/nothing", "/v2/cases", "/v1/cases/x/y/z"):  # `/` answers
        body = assert_problem(client.get(path), 404, "not-found")
        assert set(body) >= {"type", "title", "status", "request_id"}


def test_a_wrong_method_is_a_405_with_allow(client):
    response = client.delete("/v1/cases")
    assert_problem(response, 405, "method-not-allowed")
    assert set(response.headers["Allow"].split(", ")) == {"GET", "HEAD", "OPTIONS", "POST"}
    response = client.put("/v1/token")
    assert_problem(response, 405, "method-not-allowed")
    assert set(response.headers["Allow"].split(", ")) == {"OPTIONS", "POST"}


def test_a_body_over_the_limit_is_a_413(app, refusals):
    world = refusals.world
    officer = world.officials["officer-1"]
    limit = app.config["MAX_BODY_BYTES"]
    big = b'{"statement": "' + b"a" * limit + b'", "jwe": null}'
    headers = {**officer.headers(), "Content-Type": "application/json"}
    refusals.check(
        world.client.post("/v1/cases", data=big, headers=headers), 413, "payload-too-large"
    )
    form = {"grant_type": "client_credentials", "client_assertion": "a" * limit}
    refusals.check(world.client.post("/v1/token", data=form), 413, "payload-too-large")
    refusals.check(
        world.client.post("/v1/enroll", data=big, content_type="application/json"),
        413,
        "payload-too-large",
    )


def test_the_body_limit_is_configurable(tmp_path, database_url, clock):
    app = create_app(app_config(tmp_path, database_url, clock, MAX_BODY_BYTES=1024))
    client = app.test_client()
    body = {"code": "AAAAA-BBBBB", "statement": "a.b.c"}
    assert client.post("/v1/enroll", json={**body, "pad": "x" * 900}).status_code == 422
    response = client.post("/v1/enroll", json={**body, "pad": "x" * 1100})
    assert_problem(response, 413, "payload-too-large")
    with app.app_context():
        runtime.get_database().engine.dispose()


def test_a_json_body_must_say_so(refusals):
    world = refusals.world
    officer = world.officials["officer-1"]
    sealed = json.dumps(world.seal_case(officer, "clipshare").to_json())
    for content_type in ("text/plain", "application/x-www-form-urlencoded", None):
        headers = dict(officer.headers())
        if content_type:
            headers["Content-Type"] = content_type
        response = world.client.post("/v1/cases", data=sealed, headers=headers)
        body = refusals.check(response, 415, "unsupported-media-type")
        assert "application/json" in body["detail"]
    # The token endpoint wants a form, and says so.
    response = world.client.post("/v1/token", json={"grant_type": "client_credentials"})
    body = refusals.check(response, 415, "unsupported-media-type")
    assert "application/x-www-form-urlencoded" in body["detail"]


@pytest.mark.parametrize(
    "data",
    [
        b"{",
        b'{"statement": "a",}',
        b"\xff\xfe{}",
        b"",
        b"NaN",
        b'{"jwe": null, "statement": Infinity}',
        b'{"jwe": null, "jwe": {}, "statement": "a.b.c"}',
        b'{"a": 1} trailing',
    ],
)
def test_malformed_json_is_a_400(refusals, data):
    world = refusals.world
    officer = world.officials["officer-1"]
    headers = {**officer.headers(), "Content-Type": "application/json"}
    for path in ("/v1/cases", f"/v1/cases/{uuid.uuid4()}/handoffs", "/v1/enroll"):
        response = world.client.post(path, data=data, headers=headers)
        body = refusals.check(response, 400, "malformed-json")
        assert "Traceback" not in body.get("detail", "")


def test_json_nested_deeper_than_allowed_is_a_400(app, refusals):
    world = refusals.world
    officer = world.officials["officer-1"]
    depth = app.config["MAX_JSON_DEPTH"]
    headers = {**officer.headers(), "Content-Type": "application/json"}
    too_deep = b'{"jwe": ' + b"[" * depth + b"]" * depth + b', "statement": "a"}'
    body = refusals.check(
        world.client.post("/v1/cases", data=too_deep, headers=headers), 400, "json-too-deep"
    )
    assert str(depth) in body["detail"]
    # Deeper than the parser itself goes: the same problem, not a crash.
    abyss = b"[" * 100_000 + b"]" * 100_000
    refusals.check(
        world.client.post("/v1/cases", data=abyss, headers=headers), 400, "json-too-deep"
    )
    # One level less parses, and is then simply the wrong shape.
    fits = b"[" * depth + b"]" * depth
    refusals.check(
        world.client.post("/v1/cases", data=fits, headers=headers), 422, "validation-failed"
    )


def test_schema_errors_are_a_422_with_errors_by_field(refusals):
    world = refusals.world
    officer = world.officials["officer-1"]
    body = refusals.check(officer.post("/v1/cases", {"statement": 7}), 422, "validation-failed")
    assert set(body["errors"]) == {"statement", "jwe"}
    body = refusals.check(
        officer.post("/v1/cases", {"statement": "a.b.c", "jwe": None, "x": 1}),
        422,
        "validation-failed",
    )
    assert "x" in body["errors"]
    body = refusals.check(officer.post("/v1/cases", []), 422, "validation-failed")
    assert "_schema" in body["errors"]
    body = refusals.check(
        officer.get("/v1/cases?limit=0&priority=whenever"), 422, "validation-failed"
    )
    assert set(body["errors"]) == {"limit", "priority"}
    for query in (
        "after=-1",
        "after=1.5",
        "after=%201",
        "after=+1",
        "limit=1_0",
        "after=\u0661",  # ARABIC-INDIC DIGIT ONE: int() takes it, a query must not
        "bogus=1",
    ):
        body = refusals.check(officer.get(f"/v1/inbox?{query}"), 422, "validation-failed")
        assert len(body["errors"]) == 1, query


def test_an_unexpected_failure_is_a_bare_500(app, refusals):
    world = refusals.world
    officer = world.officials["officer-1"]
    officer.headers()
    with app.app_context(), runtime.get_database().engine.begin() as connection:
        connection.execute(text("DROP TABLE inbox_heads"))
    response = officer.get("/v1/inbox")
    body = refusals.check(response, 500, "internal-error")
    assert set(body) == {"type", "title", "status", "request_id"}
    assert "inbox_heads" not in response.get_data(as_text=True)


def test_readiness_says_not_ready_when_the_schema_is_behind(app, client):
    assert client.get("/readyz").status_code == 200
    with app.app_context(), runtime.get_database().engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '0000'"))
    response = client.get("/readyz")
    assert_problem(response, 503, "not-ready")
    assert response.headers["Retry-After"]


def test_the_log_is_a_404_until_it_holds_something(client):
    assert_problem(client.get("/v1/log/checkpoint"), 404, "not-found")


def test_log_queries_out_of_range(refusals):
    world = refusals.world
    auditor = world.officials["auditor-1"]
    size = world.log_size()
    refusals.check(auditor.get("/v1/log/entries?start=5&end=5"), 422, "unprocessable")
    refusals.check(
        auditor.get(f"/v1/log/proof/inclusion?index={size}&tree_size={size}"),
        422,
        "unprocessable",
    )
    refusals.check(
        auditor.get(f"/v1/log/proof/inclusion?index=0&tree_size={size + 1}"),
        404,
        "not-found",
    )
    refusals.check(
        auditor.get(f"/v1/log/proof/consistency?old={size}&new={size + 1}"),
        422,
        "unprocessable",
    )


# --- handoff checks ----------------------------------------------------------------------------


def test_the_sender_must_be_the_caller(refusals):
    world = refusals.world
    officer = world.officials["officer-1"]
    record = world.case_record(officer, "clipshare")
    # Signed by officer-1's key, but claiming to come from a colleague.
    record["sender"] = {**record["sender"], "official": "officer-2"}
    sealed = env.seal(
        record, officer.identity.signing_key, world.keys_of("clipshare", "metro-police")
    )
    refusals.check(officer.send(sealed), 403, "sender-mismatch")


def test_issued_at_must_be_near_server_time(refusals, clock):
    world = refusals.world
    officer = world.officials["officer-1"]
    sealed = world.seal_case(officer, "clipshare")
    clock.advance(minutes=6)
    body = refusals.check(officer.send(sealed), 422, "clock-skew")
    assert body["server_time"]
    clock.advance(minutes=-12)
    refusals.check(officer.send(sealed), 422, "clock-skew")
    clock.advance(minutes=6)
    created(officer.send(sealed))


def test_each_kind_has_its_endpoint(refusals):
    world = refusals.world
    officer = world.officials["officer-1"]
    case = world.seal_case(officer, "clipshare")
    path = f"/v1/cases/{statement_of(case)['case_id']}/handoffs"
    refusals.check(officer.post(path, case.to_json()), 422, "wrong-endpoint")
    created(officer.send(case))
    refusals.mark()
    withdrawal = sealed_reply(
        world, officer, case, "withdrawal", examples.withdrawal_body(), "clipshare"
    )
    refusals.check(officer.post("/v1/cases", withdrawal.to_json()), 422, "wrong-endpoint")


def test_the_statement_names_the_case_of_the_url(refusals):
    world = refusals.world
    officer, reviewer = world.officials["officer-1"], world.officials["cs-reviewer"]
    case, _ = submit(world, officer)
    other, _ = submit(world, officer)
    refusals.mark()
    ack = receipt(world, reviewer, case, "metro-police")
    path = f"/v1/cases/{statement_of(other)['case_id']}/handoffs"
    refusals.check(reviewer.post(path, ack.to_json()), 422, "case-mismatch")


@pytest.mark.parametrize("to", ["metro-police", "regulator", "nowhere", "clipshare,chatter"])
def test_a_case_goes_to_exactly_one_active_platform(refusals, to):
    world = refusals.world
    officer = world.officials["officer-1"]
    record = world.case_record(officer, "clipshare")
    record["to"] = to.split(",")
    sealed = env.seal(
        record, officer.identity.signing_key, world.keys_of("clipshare", "metro-police")
    )
    refusals.check(officer.send(sealed), 422, "wrong-addressee")


def test_a_reply_goes_to_the_other_party(refusals):
    world = refusals.world
    officer, reviewer = world.officials["officer-1"], world.officials["cs-reviewer"]
    _case, statement = submit(world, officer)
    refusals.mark()
    meta = {
        "handoff_id": statement["handoff_id"],
        "record_sha256": statement["record_sha256"],
        "received_at": format_utc(world.clock()),
    }
    for to in ("helpline", "clipshare"):
        ack = world.reply(
            reviewer, statement["case_id"], "receipt", statement["handoff_id"], to, meta=meta
        )
        refusals.check(reviewer.send(ack), 422, "wrong-addressee")


def test_in_reply_to_names_a_handoff_of_the_case(refusals):
    world = refusals.world
    officer, reviewer = world.officials["officer-1"], world.officials["cs-reviewer"]
    _case, statement = submit(world, officer)
    _other, other_statement = submit(world, officer)
    refusals.mark()
    for answered in (str(uuid.uuid4()), other_statement["handoff_id"]):
        question = world.reply(
            reviewer,
            statement["case_id"],
            "question",
            answered,
            "metro-police",
            body=examples.question_body(),
        )
        refusals.check(reviewer.send(question), 422, "unknown-handoff")


def test_the_jwe_must_reach_every_case_handler_and_nobody_else(refusals):
    world = refusals.world
    officer = world.officials["officer-1"]
    record = world.case_record(officer, "clipshare")
    lead = world.officials["cs-lead"].identity
    reviewer = world.officials["cs-reviewer"].identity
    short = env.seal(record, officer.identity.signing_key, [lead.encryption_public_key])
    body = refusals.check(officer.send(short), 422, "missing-recipient-keys")
    assert body["missing_kids"] == [reviewer.encryption_kid]
    keys = world.keys_of("clipshare", "metro-police") + world.keys_of("chatter")
    wide = env.seal(world.case_record(officer, "clipshare"), officer.identity.signing_key, keys)
    body = refusals.check(officer.send(wide), 422, "unexpected-recipient-keys")
    assert body["unexpected_kids"] == sorted(
        world.officials[o].identity.encryption_kid for o in ("ch-lead", "ch-reviewer")
    )


def test_a_platform_without_enrolled_officials_is_unreachable(refusals):
    world = refusals.world
    world.org("newcomer", "platform")
    world.invite("newcomer", "nc-lead", "platform_lead")  # invited, not enrolled
    refusals.mark()
    officer = world.officials["officer-1"]
    record = world.case_record(officer, "newcomer")
    sealed = env.seal(record, officer.identity.signing_key, world.keys_of("metro-police"))
    refusals.check(officer.send(sealed), 422, "recipient-unreachable")


def test_a_receipt_binds_the_record_the_sender_signed(refusals):
    world = refusals.world
    officer, reviewer = world.officials["officer-1"], world.officials["cs-reviewer"]
    _case, statement = submit(world, officer)
    refusals.mark()
    meta = {
        "handoff_id": statement["handoff_id"],
        "record_sha256": examples.digest("some other record"),
        "received_at": format_utc(world.clock()),
    }
    ack = world.reply(
        reviewer,
        statement["case_id"],
        "receipt",
        statement["handoff_id"],
        "metro-police",
        meta=meta,
    )
    body = refusals.check(reviewer.send(ack), 422, "receipt-digest-mismatch")
    assert body["expected"] == statement["record_sha256"]


@pytest.mark.parametrize("assignee", ["ch-reviewer", "officer-1", "nobody", "retired"])
def test_a_case_is_assigned_to_an_active_official_of_its_platform(refusals, assignee):
    world = refusals.world
    officer, lead = world.officials["officer-1"], world.officials["cs-lead"]
    if assignee == "retired":
        world.enroll("clipshare", "retired", "platform_official")
        world.deactivate("retired")
    case, _ = submit(world, officer, category="ncii")
    refusals.mark()
    refusals.check(lead.send(assignment(world, lead, case, assignee)), 422, "invalid-assignee")


# --- envelope errors ---------------------------------------------------------------------------


def jws(key: Any, header: dict[str, Any], payload: bytes) -> str:
    """A compact JWS with any protected header, properly signed by `key`."""
    signing_input = f"{b64url_encode(json.dumps(header).encode())}.{b64url_encode(payload)}"
    return f"{signing_input}.{b64url_encode(key.sign(signing_input.encode()))}"


def envelope_cases(world: World) -> dict[str, tuple[str, env.Envelope]]:
    """Envelopes a careless or malicious sender might post, each with the problem it gets."""
    officer = world.officials["officer-1"]
    key = officer.identity.signing_key
    sealed = world.seal_case(officer, "clipshare")
    head, payload, signature = sealed.statement.split(".")
    fields = statement_of(sealed)
    raw = b64url_decode(payload)

    def header(**changes: Any) -> env.Envelope:
        protected = {"alg": "Ed25519", "kid": officer.identity.signing_kid, "typ": STATEMENT_TYP}
        protected.update(changes)
        protected = {k: v for k, v in protected.items() if v is not None}
        return env.Envelope(jws(key, protected, raw), sealed.jwe)

    def signed(document: Any, jwe: Any = sealed.jwe) -> env.Envelope:
        return env.Envelope(sign_compact(document, key, STATEMENT_TYP), jwe)

    protected = json.loads(b64url_decode(sealed.jwe["protected"]))
    weak = {**protected, "enc": "A128GCM"}
    weak_jwe = {**sealed.jwe, "protected": b64url_encode(json.dumps(weak).encode())}
    receipt_fields = {
        **fields,
        "kind": "receipt",
        "handoff_id": str(uuid.uuid4()),
        "in_reply_to": fields["handoff_id"],
        "meta": {
            "handoff_id": fields["handoff_id"],
            "record_sha256": fields["record_sha256"],
            "received_at": fields["issued_at"],
        },
        "jwe_sha256": None,
        "record_sha256": None,
    }
    no_meta = {name: value for name, value in fields.items() if name != "meta"}
    return {
        "flipped signature bit": (
            "envelope-bad-signature",
            env.Envelope(f"{head}.{payload}.{flip_bit(signature, 5)}", sealed.jwe),
        ),
        "a colleague's key": (
            "envelope-unknown-signer-key",
            world.seal_case(world.officials["officer-2"], "clipshare"),
        ),
        "alg none": ("envelope-alg-none", header(alg="none")),
        "alg HS256": ("envelope-symmetric-algorithm", header(alg="HS256")),
        "alg ES256": ("envelope-unsupported-algorithm", header(alg="ES256")),
        "jku header": ("envelope-forbidden-header", header(jku="https://evil.example/keys")),
        "cty header": ("envelope-forbidden-header", header(cty="json")),
        "no typ": ("envelope-malformed", header(typ=None)),
        "typ JWT": ("envelope-wrong-type", header(typ="JWT")),
        "record typ": ("envelope-wrong-type", header(typ="hotline-record+jws")),
        "non-canonical payload": (
            "envelope-non-canonical-json",
            signed(json.dumps(fields, indent=1).encode()),
        ),
        "statement without meta": ("envelope-invalid-statement", signed(canonical(no_meta))),
        "another case's jwe": (
            "envelope-digest-mismatch",
            env.Envelope(sealed.statement, world.seal_case(officer, "clipshare").jwe),
        ),
        "A128GCM jwe": ("envelope-unsupported-algorithm", resign(sealed, key, jwe=weak_jwe)),
        "sealed kind without jwe": ("envelope-malformed", env.Envelope(sealed.statement, None)),
        "receipt with a jwe": ("envelope-malformed", signed(canonical(receipt_fields))),
    }


ENVELOPE_PROBLEMS = {
    "envelope-bad-signature",
    "envelope-unknown-signer-key",
    "envelope-alg-none",
    "envelope-symmetric-algorithm",
    "envelope-unsupported-algorithm",
    "envelope-forbidden-header",
    "envelope-malformed",
    "envelope-wrong-type",
    "envelope-non-canonical-json",
    "envelope-invalid-statement",
    "envelope-digest-mismatch",
}


def test_every_envelope_refusal_is_its_own_problem(refusals):
    world = refusals.world
    officer = world.officials["officer-1"]
    cases = envelope_cases(world)
    assert {slug for slug, _ in cases.values()} == ENVELOPE_PROBLEMS
    for name, (slug, sealed) in cases.items():
        body = refusals.check(officer.post("/v1/cases", sealed.to_json()), 422, slug)
        assert body["detail"], name
        if slug == "envelope-invalid-statement":
            assert "meta" in body["errors"]
    # The envelope these were made from was never the problem.
    created(officer.send(world.seal_case(officer, "clipshare")))
