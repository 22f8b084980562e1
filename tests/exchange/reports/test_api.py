"""GET /v1/reports/compliance: auditors only, strict queries, never figures from a log that
does not verify."""

import json
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

import pytest
from sqlalchemy import event

from exchange.reports import Period, compute
from exchange.storage.models.log import LogEntry
from schemas.common import parse_utc
from tests.exchange.reports.conftest import verified_from_database
from tests.exchange.reports.scripted import PERIOD
from tests.exchange.reports.tamper import rewrite_leaf
from tests.helpers.world import standard_world

URL = "/v1/reports/compliance"
QUERY = {"from": PERIOD[0], "to": PERIOD[1]}


def assert_problem(response, status, slug):
    """An RFC 9457 problem of exactly this status and type, without a trace; its body."""
    body = response.get_json(force=True)
    assert response.status_code == status, body
    assert response.mimetype == "application/problem+json"
    assert body["type"] == f"urn:hotline:problem:{slug}", body
    assert body["status"] == status
    assert "Traceback" not in response.get_data(as_text=True)
    return body


@pytest.fixture
def world(app, client, clock):
    world = standard_world(app, client, clock)
    _, response = world.submit(world.officials["officer-1"], "clipshare")
    assert response.status_code == 201
    return world


def test_an_auditor_gets_the_report(world):
    response = world.officials["auditor-1"].get(URL, query_string=QUERY)
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.headers["Cache-Control"] == "no-store"
    report = response.get_json()
    assert report["totals"]["cases_received"] == 1
    assert report["checkpoint"]["size"] == world.log_size()


@pytest.mark.parametrize("official", ["officer-1", "cs-reviewer", "cs-lead", "ch-lead"])
def test_agencies_and_platforms_are_refused(world, official):
    response = world.officials[official].get(URL, query_string=QUERY)
    assert_problem(response, 403, "forbidden")


def test_without_a_token_it_is_401(world):
    assert_problem(world.client.get(URL, query_string=QUERY), 401, "invalid-token")


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"to": "2026-03-15"}, "from"),
        ({"from": "2026-03-02"}, "to"),
        ({**QUERY, "from": "2026-02-30"}, "from"),
        ({**QUERY, "from": "03/02/2026"}, "from"),
        ({**QUERY, "to": "2026-03-15T12:00:00+01:00"}, "to"),
        ({"from": "2026-03-15", "to": "2026-03-14"}, "to"),
        ({"from": "2026-03-15T10:00:00Z", "to": "2026-03-15T10:00:00Z"}, "to"),
        ({"from": "2000-01-01", "to": "2026-03-15"}, "to"),
        ({**QUERY, "platform": "Not An Id"}, "platform"),
        ({**QUERY, "format": "html"}, "format"),
    ],
)
def test_bad_queries_are_422_by_field(world, query, field):
    before = world.log_size()
    response = world.officials["auditor-1"].get(URL, query_string=query)
    body = assert_problem(response, 422, "validation-failed")
    assert field in json.dumps(body["errors"]), body
    assert world.log_size() == before


def test_an_unknown_platform_is_422(world):
    auditor = world.officials["auditor-1"]
    for name in ("no-such-platform", "metro-police"):
        response = auditor.get(URL, query_string={**QUERY, "platform": name})
        body = assert_problem(response, 422, "unknown-platform")
        assert name in body["detail"]


def test_timestamps_bound_the_period_exactly(world):
    auditor = world.officials["auditor-1"]
    # The case was submitted at 2026-03-03T09:00:00Z: in [09:00, 09:01), not in [08:00, 09:00).
    inside = {"from": "2026-03-03T09:00:00Z", "to": "2026-03-03T09:01:00Z"}
    before = {"from": "2026-03-03T08:00:00Z", "to": "2026-03-03T09:00:00Z"}
    assert auditor.get(URL, query_string=inside).get_json()["totals"]["cases_received"] == 1
    assert auditor.get(URL, query_string=before).get_json()["totals"]["cases_received"] == 0


def test_a_database_edited_behind_the_servers_back_publishes_nothing(world, database_url):
    auditor = world.officials["auditor-1"]
    case_index = next(i for i, e in enumerate(world.log_entries()) if e["event"] == "case")
    # Someone with database access gives the platform a day more to acknowledge the case.
    due = '"ack_due_at":"2026-03-03T10:00:00Z"'
    rewrite_leaf(database_url, case_index, due, due.replace("03T10", "04T10"))
    response = auditor.get(URL, query_string=QUERY)
    body = assert_problem(response, 503, "log-unverifiable")
    assert body["detail"].endswith("[root-mismatch]")
    assert f"entries 0..{case_index}" in body["detail"]
    assert "errors" not in body


@contextmanager
def entries_read(world):
    """The log entries the requests inside read from the database (rows loaded)."""
    read: list[int] = []

    def loaded(entry, _context):
        read.append(entry.index)

    event.listen(LogEntry, "load", loaded)
    try:
        yield read
    finally:
        event.remove(LogEntry, "load", loaded)


def more_handoffs(world, cases=2):
    for _ in range(cases):
        world.clock.advance(minutes=5)
        _, response = world.submit(world.officials["officer-1"], "clipshare")
        assert response.status_code == 201


def from_scratch(world, report):
    """The report computed from every entry in the database, verified anew."""
    verified = verified_from_database(world.app)
    return compute(
        verified.entries,
        checkpoint=verified.checkpoint,
        period=Period.parse(*PERIOD),
        now=parse_utc(report["as_of"]),
    ).to_json()


def test_a_report_verifies_only_the_entries_logged_since_the_last_one(world):
    auditor = world.officials["auditor-1"]
    auditor.get(URL, query_string=QUERY)  # its token, so that the next requests read no entry
    first_size = world.log_size()
    more_handoffs(world)
    size = world.log_size()
    assert size > first_size
    with entries_read(world) as read:
        response = auditor.get(URL, query_string=QUERY)
    assert response.status_code == 200, response.get_json()
    assert read == list(range(first_size, size))
    report = response.get_json()
    assert report["totals"]["cases_received"] == 3
    assert report["checkpoint"]["size"] == size
    assert report == from_scratch(world, report)
    # Nothing new: nothing read, the same figures.
    with entries_read(world) as read:
        again = auditor.get(URL, query_string=QUERY)
    assert read == []
    assert again.get_json() == report


def test_concurrent_requests_take_turns_and_agree(world):
    """Gunicorn's threads share the process's state: each request extends it in turn."""
    auditor = world.officials["auditor-1"]
    auditor.get(URL, query_string=QUERY)
    more_handoffs(world, cases=3)
    headers = auditor.headers()

    def request(_):
        with world.app.test_client() as client:
            return client.get(URL, query_string=QUERY, headers=headers)

    with entries_read(world) as read, ThreadPoolExecutor(4) as pool:
        responses = list(pool.map(request, range(4)))
    assert [r.status_code for r in responses] == [200] * 4
    reports = [r.get_json() for r in responses]
    assert all(report == reports[0] for report in reports)
    assert reports[0]["totals"]["cases_received"] == 4
    assert reports[0] == from_scratch(world, reports[0])
    assert sorted(read) == list(range(world.log_size() - 3, world.log_size()))


def test_an_entry_edited_before_it_was_verified_publishes_nothing_then_all_is_read_again(
    world, database_url
):
    auditor = world.officials["auditor-1"]
    assert auditor.get(URL, query_string=QUERY).status_code == 200
    verified_size = world.log_size()
    more_handoffs(world)
    size = world.log_size()
    assert size - verified_size == 2
    case_index = max(i for i, e in enumerate(world.log_entries()) if e["event"] == "case")
    assert verified_size <= case_index < size
    due = world.log_entries(case_index)[0]["details"]["ack_due_at"]
    rewrite_leaf(database_url, case_index, due, due.replace("2026", "2027"))
    body = assert_problem(auditor.get(URL, query_string=QUERY), 503, "log-unverifiable")
    # The entries verified before agree with the log: the difference is after them.
    assert body["detail"] == (
        f"the log does not verify at entries {verified_size}..{size - 1}: the entries do not"
        " hash to the log's latest checkpoint [root-mismatch]"
    )
    # The verified state was dropped: the next request verifies the log from its start.
    with entries_read(world) as read:
        body = assert_problem(auditor.get(URL, query_string=QUERY), 503, "log-unverifiable")
    assert read == list(range(size))
    assert f"entries 0..{size - 1}" in body["detail"]


def test_an_entry_edited_after_it_was_verified_changes_no_figure(world, database_url):
    """What was verified stands: figures come from the entries as they were verified (the
    log's later checkpoints still cover them); `hotline audit verify` rereads the log."""
    auditor = world.officials["auditor-1"]
    before = auditor.get(URL, query_string=QUERY).get_json()
    case_index = next(i for i, e in enumerate(world.log_entries()) if e["event"] == "case")
    due = '"ack_due_at":"2026-03-03T10:00:00Z"'
    rewrite_leaf(database_url, case_index, due, due.replace("03T10", "04T10"))
    assert auditor.get(URL, query_string=QUERY).get_json() == before


def test_the_report_is_in_the_openapi_description(world):
    spec = world.client.get("/v1/openapi.json").get_json()
    operation = spec["paths"][URL]["get"]
    assert {p["name"] for p in operation["parameters"]} == {"platform", "from", "to"}
    assert {"200", "401", "403", "422", "503"} <= set(operation["responses"])
    assert operation["security"] == [{"bearerAuth": []}]
    schema = operation["responses"]["200"]["content"]["application/json"]["schema"]
    name = schema["$ref"].rsplit("/", 1)[-1]
    described = spec["components"]["schemas"][name]["properties"]
    report = world.officials["auditor-1"].get(URL, query_string=QUERY).get_json()
    assert set(described) == set(report)


def test_a_log_too_long_to_verify_in_time_is_verified_over_several_requests(world):
    """Past its time limit a request answers 503 but keeps what it verified (whole steps,
    each ending at a signed checkpoint); asking again goes on, and the last answer is the
    report a single unhurried request gives."""
    auditor = world.officials["auditor-1"]
    size = world.log_size()
    world.app.config.update(REPORT_TIME_LIMIT_SECONDS=1e-6, REPORT_STEP_ENTRIES=3)
    verified, answers = [], 0
    while True:
        response = auditor.get(URL, query_string=QUERY)
        answers += 1
        if response.status_code == 200:
            break
        body = assert_problem(response, 503, "report-time-limit")
        assert response.headers["Retry-After"] == "1"  # asking again makes progress
        done = int(body["detail"].split(" passed with ", 1)[1].split(" of ", 1)[0])
        assert body["detail"] == (
            f"the time limit of 1e-06 s passed with {done} of the log's {size} entries"
            " verified; they are kept, and the next request goes on from there (or run"
            " `hotline report compliance`, which verifies the log on your machine)"
        )
        verified.append(done)
        assert answers < size  # each request verifies at least one step
    # One step per request (the time is always up after it), never more than 3 entries
    # unless one transaction appended more; every request made progress.
    assert verified == sorted(set(verified))
    assert 0 < verified[0] <= 3
    assert len(verified) >= size // 3 - 1
    report = response.get_json()
    assert report == from_scratch(world, report)


@pytest.mark.parametrize("value", [0, -1, "20", True])
def test_the_report_time_limit_must_be_a_positive_number(app, value):
    from exchange.config import ConfigError, _check

    with pytest.raises(ConfigError, match="EXCHANGE_REPORT_TIME_LIMIT_SECONDS must be a positive"):
        _check({**app.config, "REPORT_TIME_LIMIT_SECONDS": value})
