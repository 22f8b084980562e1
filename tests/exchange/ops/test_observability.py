"""Readiness, request ids, Prometheus metrics and JSON logs, with secrets kept out of them."""

import io
import json
import logging
import threading
import time

import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from exchange import runtime
from exchange.client import authoring
from exchange.observability import json_lines
from exchange.protocol.key_management import code_sha256
from exchange.services import handoffs
from exchange.services.caller import Caller
from exchange.storage.models import Checkpoint
from keys import Identity
from schemas.common import format_utc
from tests.conftest import KEY_PASSPHRASE
from tests.exchange.api.support import assert_problem, response_body, sealed_reply
from tests.helpers.world import TOKEN_URL, World, standard_world, statement_of
from tests.schemas import examples

# --- readiness ---------------------------------------------------------------------------------


def test_ready_when_the_schema_is_current_and_the_log_key_is_ours(app, client):
    body = client.get("/readyz").get_json()
    with app.app_context():
        from exchange.runtime import server_keys
        from exchange.storage import migrate

        assert body == {
            "status": "ready",
            "schema": migrate.head_revision(runtime.get_database().engine),
            "log_key": server_keys().log.verifier_key,
        }
    assert client.get("/healthz").get_json() == {"status": "ok"}


def test_not_ready_before_the_migrations(make_app, empty_database_url):
    from exchange.storage import migrate

    app = make_app(DATABASE_URL=empty_database_url)
    client = app.test_client()
    response = client.get("/readyz")
    body = assert_problem(response, 503, "not-ready")
    with app.app_context():
        head = migrate.head_revision(runtime.get_database().engine)
    assert head is not None
    assert body["detail"] == f"schema at None, code needs {head}"
    assert head == "0007"  # the newest migration: the directory version
    assert response.headers["Retry-After"] == "30"
    assert client.get("/healthz").status_code == 200


def test_not_ready_without_a_database(make_app, tmp_path):
    client = make_app(DATABASE_URL=f"sqlite:///{tmp_path / 'missing' / 'x.db'}").test_client()
    response = client.get("/readyz")
    assert assert_problem(response, 503, "not-ready")["detail"] == "the database is unreachable"
    assert response.headers["Retry-After"] == "5"


def test_an_instance_with_a_stale_log_key_is_not_ready(make_app, tmp_path, clock):
    current = make_app(INSTANCE_PATH=str(tmp_path / "current"))
    World(current, current.test_client(), clock).org("metro-police", "agency")
    # Another instance on the same database, holding other keys (as after a rotation).
    stale = make_app(INSTANCE_PATH=str(tmp_path / "stale")).test_client()
    body = assert_problem(stale.get("/readyz"), 503, "not-ready")
    assert "log key was rotated" in body["detail"]
    assert current.test_client().get("/readyz").status_code == 200


# --- request ids -------------------------------------------------------------------------------


def test_a_well_formed_request_id_is_kept_and_any_other_replaced(client):
    assert client.get("/healthz", headers={"X-Request-ID": "lb-42.a_b"}).headers[
        "X-Request-ID"
    ] == ("lb-42.a_b")
    replaced = client.get("/healthz", headers={"X-Request-ID": "bad id\u00e9"})
    assert len(replaced.headers["X-Request-ID"]) == 32
    assert replaced.headers["X-Request-ID"] != client.get("/healthz").headers["X-Request-ID"]


# --- metrics -----------------------------------------------------------------------------------


def samples(client, **request):
    response = client.get("/metrics", **request)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "text/plain"
    found = {}
    for family in text_string_to_metric_families(response.get_data(as_text=True)):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def value(found, name, **labels):
    return found.get((name, tuple(sorted(labels.items()))), 0.0)


def test_metrics_count_requests_handoffs_log_size_and_overdue_cases(make_app, clock):
    app = make_app()
    client = app.test_client()
    world = standard_world(app, client, clock)
    officer = world.officials["officer-1"]
    sealed, response = world.submit(officer, "clipshare")
    assert response.status_code == 201
    # The same envelope again: answered as before, but nothing new is accepted.
    assert officer.post("/v1/cases", sealed.to_json()).status_code == 201
    assert officer.post("/v1/cases", {"statement": "x", "jwe": None}).status_code == 422
    assert client.get("/v1/nowhere").status_code == 404

    found = samples(client)
    cases = {"endpoint": "/v1/cases", "method": "POST"}
    assert value(found, "hotline_http_requests_total", status="201", **cases) == 2
    assert value(found, "hotline_http_requests_total", status="422", **cases) == 1
    assert value(found, "hotline_http_request_duration_seconds_count", **cases) == 3
    assert value(
        found, "hotline_http_requests_total", endpoint="<unmatched>", method="GET", status="404"
    ) == (1)
    assert value(found, "hotline_handoffs_accepted_total", kind="case") == 1
    assert value(found, "hotline_database_up") == 1
    assert value(found, "hotline_log_entries") == world.log_size()
    assert value(found, "hotline_cases_overdue", platform="clipshare", deadline="ack") == 0

    clock.advance(hours=1, seconds=1)  # past the urgent case's acknowledgement deadline
    found = samples(client)
    assert value(found, "hotline_cases_overdue", platform="clipshare", deadline="ack") == 1
    assert value(found, "hotline_cases_overdue", platform="clipshare", deadline="action") == 0
    clock.advance(hours=23)
    found = samples(client)
    assert value(found, "hotline_cases_overdue", platform="clipshare", deadline="action") == 1


class RefusedAfterRecordingError(Exception):
    """Raised by a unit of a group commit after its handoff was written."""


def test_a_handoff_undone_in_a_group_commit_is_not_counted(make_app, clock):
    """Two submits share a batch; the second is refused after its handoff row was flushed.
    Only the first is counted, and the batch histogram counts one answered request."""
    app = make_app()
    client = app.test_client()
    world = standard_world(app, client, clock)
    officer = world.officials["officer-1"]
    caller = Caller(
        "officer-1", "metro-police", "agency", "agency_officer", officer.identity.signing_kid
    )
    envelopes = [world.seal_case(officer, "clipshare") for _ in range(2)]
    with app.app_context():
        policy = runtime.handoff_policy()
        with runtime.read() as session:
            checked = [handoffs.check(session, policy, caller, e, None) for e in envelopes]
        committer = runtime.current().committer
    leading, release = threading.Event(), threading.Event()
    outcomes: dict[str, object] = {}

    def unit(name: str, refuse: bool):
        def work(session, now):
            if name == "blocker":
                leading.set()
                assert release.wait(30)
                return None
            accepted = handoffs.accept(session, now, policy, caller, checked[name == "second"])
            if refuse:
                raise RefusedAfterRecordingError(accepted.handoff.id)
            return accepted.handoff.id

        def call():
            try:
                outcomes[name] = committer.run(work, lambda _session, done: done)
            except RefusedAfterRecordingError as error:
                outcomes[name] = error

        return threading.Thread(target=call)

    blocker = unit("blocker", False)
    blocker.start()
    assert leading.wait(30)  # the blocker's unit runs: it leads, and the queue is empty
    units = [unit("first", False), unit("second", True)]
    for thread in units:
        thread.start()
    while committer.queued < 2:
        time.sleep(0.001)
    release.set()
    for thread in [blocker, *units]:
        thread.join(30)
    assert outcomes["first"] == statement_of(envelopes[0])["handoff_id"]
    assert isinstance(outcomes["second"], RefusedAfterRecordingError)
    found = samples(client)
    assert value(found, "hotline_handoffs_accepted_total", kind="case") == 1
    # The blocker's batch answered one request, the pair's batch one (the other refused).
    assert value(found, "hotline_commit_batch_size_count") == 2
    assert value(found, "hotline_commit_batch_size_sum") == 2


def test_metrics_report_a_database_that_does_not_answer(make_app, tmp_path):
    client = make_app(DATABASE_URL=f"sqlite:///{tmp_path / 'missing' / 'x.db'}").test_client()
    found = samples(client)
    assert value(found, "hotline_database_up") == 0
    assert ("hotline_log_entries", ()) not in found


def test_metrics_can_require_a_token(make_app):
    client = make_app(METRICS_TOKEN="scrape-secret").test_client()
    assert_problem(client.get("/metrics"), 401, "unauthenticated")
    wrong = {"Authorization": "Bearer other"}
    assert_problem(client.get("/metrics", headers=wrong), 401, "unauthenticated")
    samples(client, headers={"Authorization": "Bearer scrape-secret"})


# --- logs --------------------------------------------------------------------------------------


@pytest.fixture
def captured():
    """Every log record of the test at DEBUG, as the JSON lines production writes."""
    root = logging.getLogger()
    level = root.level
    held = {name: logging.getLogger(name).level for name in ("sqlalchemy",)}
    logging.getLogger("sqlalchemy").setLevel(logging.NOTSET)  # as an operator might
    stream = io.StringIO()
    handler = json_lines.configure("DEBUG", stream)
    yield stream
    root.removeHandler(handler)
    root.setLevel(level)
    for name, old in held.items():
        logging.getLogger(name).setLevel(old)


def records(stream):
    lines = stream.getvalue().splitlines()
    assert lines
    return [json.loads(line) for line in lines]


def test_each_request_is_one_json_line(make_app, captured, clock):
    app = make_app()
    world = standard_world(app, app.test_client(), clock)
    reviewer = world.officials["cs-reviewer"]
    headers = {**reviewer.headers(), "X-Request-ID": "trace-7"}
    response = app.test_client().get("/v1/inbox", headers=headers)
    assert response.status_code == 200
    [line] = [r for r in records(captured) if r.get("request_id") == "trace-7"]
    assert line["message"] == "request"
    assert set(line) == {
        "time",
        "level",
        "logger",
        "message",
        "request_id",
        "method",
        "path",
        "endpoint",
        "status",
        "duration_ms",
        "official",
    }
    assert line["level"] == "INFO"
    assert line["message"] == "request"
    assert (line["method"], line["path"], line["status"]) == ("GET", "/v1/inbox", 200)
    assert line["official"] == "cs-reviewer"
    assert line["duration_ms"] >= 0
    assert line["time"].endswith("+00:00")


def test_an_unexpected_error_is_one_json_line_with_its_trace(make_app, captured):
    app = make_app()

    def broken() -> str:
        raise RuntimeError("boom")

    app.add_url_rule("/v1/broken", "broken", broken)
    response = app.test_client().get("/v1/broken", headers={"X-Request-ID": "trace-500"})
    assert assert_problem(response, 500, "internal-error")["request_id"] == "trace-500"
    lines = [r for r in records(captured) if r.get("request_id") == "trace-500"]
    assert [(r["level"], r["message"]) for r in lines] == [
        ("ERROR", "unhandled error"),
        ("WARNING", "request"),
    ]
    assert "RuntimeError: boom" in lines[0]["exception"]
    assert lines[1]["status"] == 500


def test_no_token_assertion_code_statement_jwe_or_passphrase_is_ever_logged(
    make_app, captured, clock
):
    app = make_app()
    client = app.test_client()
    world = World(app, client, clock)
    world.org("metro-police", "agency")
    world.org("clipshare", "platform")
    codes = []
    invite = world.invite

    def remembering_invite(*args, **kwargs):
        codes.append(invite(*args, **kwargs))
        return codes[-1]

    world.invite = remembering_invite
    officer = world.enroll("metro-police", "officer-1", "agency_officer")
    reviewer = world.enroll("clipshare", "cs-reviewer", "platform_official")
    world.enroll("clipshare", "cs-lead", "platform_lead")
    world.route("clipshare", "sexual_deepfake", "cs-reviewer")

    # The officer signs in with an assertion the test keeps.
    assertion = authoring.client_assertion(officer.identity, officer.id, TOKEN_URL, clock())
    answer = client.post(
        "/v1/token",
        data={
            "grant_type": "client_credentials",
            "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            "client_assertion": assertion,
        },
    )
    assert answer.status_code == 200
    officer.token = answer.get_json()["access_token"]
    replayed = client.post(
        "/v1/token",
        data={
            "grant_type": "client_credentials",
            "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            "client_assertion": assertion,
        },
    )
    assert replayed.status_code == 401

    # A whole case: submitted, pulled, acknowledged, answered, closed.
    case, response = world.submit(officer, "clipshare")
    assert response.status_code == 201
    item = reviewer.get("/v1/inbox").get_json()["items"][0]
    opened = reviewer.open(item["handoff"])
    ack = world.reply(
        reviewer,
        statement_of(case)["case_id"],
        "receipt",
        statement_of(case)["handoff_id"],
        "metro-police",
        meta={
            "handoff_id": statement_of(case)["handoff_id"],
            "record_sha256": opened.record_sha256,
            "received_at": format_utc(clock()),
        },
    )
    assert reviewer.send(ack).status_code == 201
    answer_ = sealed_reply(world, reviewer, case, "response", response_body(), "metro-police")
    assert reviewer.send(answer_).status_code == 201
    closure = sealed_reply(world, officer, answer_, "closure", examples.closure_body(), "clipshare")
    assert officer.send(closure).status_code == 201
    # Refusals log too: a forged token and a tampered envelope.
    forged = {"Authorization": f"Bearer {officer.token[:-4]}AAAA"}
    assert client.get("/v1/inbox", headers=forged).status_code == 401
    tampered = {"statement": case.statement[:-8] + "AAAAAAAA", "jwe": case.jwe}
    assert officer.post("/v1/cases", tampered).status_code == 422

    output = captured.getvalue()
    requests = [r for r in records(captured) if r["message"] == "request"]
    assert len(requests) >= 10
    assert {r.get("official") for r in requests} >= {"officer-1", "cs-reviewer"}
    secrets = {
        "passphrase": KEY_PASSPHRASE,
        "assertion": assertion,
        **{f"assertion part {i}": part for i, part in enumerate(assertion.split("."))},
        **{f"code {i}": code for i, code in enumerate(codes)},
    }
    for who in (officer, reviewer):
        secrets[f"token of {who.id}"] = who.token
        secrets[f"token signature of {who.id}"] = who.token.rsplit(".", 1)[1]
    for number, sealed in enumerate((case, ack, answer_, closure)):
        secrets[f"statement {number}"] = sealed.statement
        for part, piece in enumerate(sealed.statement.split(".")):
            secrets[f"statement {number} part {part}"] = piece
        if sealed.jwe is not None:
            jwe = json.loads(sealed.jwe) if isinstance(sealed.jwe, str) else sealed.jwe
            secrets[f"jwe {number} ciphertext"] = jwe["ciphertext"]
            secrets[f"jwe {number} tag"] = jwe["tag"]
    for what, secret in secrets.items():
        assert secret, what
        assert secret not in output, f"the {what} is in the logs"
    with app.app_context(), runtime.read() as session:
        assert session.get(Checkpoint, world.log_size()) is not None


def test_sqlalchemy_is_held_at_warning_whatever_the_level(captured):
    # At DEBUG it would log every row it reads: statements, JWEs.
    assert logging.getLogger("sqlalchemy.engine.Engine").getEffectiveLevel() == logging.WARNING


def test_a_database_error_carries_no_parameters(app):
    with app.app_context(), pytest.raises(IntegrityError) as refused, runtime.write() as session:
        session.execute(
            text(
                "INSERT INTO organisations (id, kind, name, active, created_at) "
                "VALUES (:id, 'agency', :name, true, :at)"
            ),
            [{"id": "twice", "name": "secret-name-1", "at": "2026-01-01"}] * 2,
        )
    assert "secret-name-1" not in str(refused.value)
    assert "hidden" in str(refused.value)


def test_an_instance_with_a_stale_log_key_signs_nothing(make_app, tmp_path, clock):
    """Between a rotation elsewhere and its own restart, an instance refuses to write:
    the log head names the key that signs now, and it is not this instance's."""
    current = make_app(INSTANCE_PATH=str(tmp_path / "current"))
    world = World(current, current.test_client(), clock)
    world.org("metro-police", "agency")
    code = world.invite("metro-police", "officer-1", "agency_officer")
    size = world.log_size()
    stale = make_app(INSTANCE_PATH=str(tmp_path / "stale"))
    identity = Identity.generate()
    statement = authoring.enrollment(
        identity, "metro-police", "officer-1", code_sha256(code), clock()
    )
    response = stale.test_client().post("/v1/enroll", json={"code": code, "statement": statement})
    assert_problem(response, 503, "log-key-retired")
    assert response.headers["Retry-After"] == "5"
    assert world.log_size() == size
    # The instance with the current key enrolls the same official with the same code.
    enrolled = world.client.post("/v1/enroll", json={"code": code, "statement": statement})
    assert enrolled.status_code == 201
