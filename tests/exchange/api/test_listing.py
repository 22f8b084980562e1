"""GET /v1/cases: filters, the derived overdue flag, and cursor pagination."""

import base64
from typing import Any

import pytest

from exchange.protocol.workflow import State
from schemas.api import CASE_STATES
from schemas.common import format_utc
from tests.exchange.api.support import assert_problem, created, receipt, submit
from tests.helpers.world import Official, World


def ids(person: Official, query: str = "") -> list[str]:
    response = person.get(f"/v1/cases?limit=100&{query}")
    assert response.status_code == 200, response.get_json()
    return [case["case_id"] for case in response.get_json()["cases"]]


def pages(person: Official, limit: int, query: str = "") -> list[list[str]]:
    """Every page, following next_cursor to the end."""
    found, cursor = [], None
    while True:
        suffix = f"&cursor={cursor}" if cursor else ""
        body = person.get(f"/v1/cases?limit={limit}&{query}{suffix}").get_json()
        found.append([case["case_id"] for case in body["cases"]])
        cursor = body["next_cursor"]
        if cursor is None:
            return found


def populate(world: World) -> dict[str, str]:
    """Five cases of different priorities, categories and states, at different times."""
    officer, reviewer = world.officials["officer-1"], world.officials["cs-reviewer"]
    made: dict[str, str] = {}
    made["urgent"] = submit(world, officer)[1]["case_id"]
    world.clock.advance(minutes=1)
    made["high-ncii"] = submit(world, officer, category="ncii", priority="high")[1]["case_id"]
    world.clock.advance(minutes=1)
    case, statement = submit(world, officer, priority="normal")
    made["acknowledged"] = statement["case_id"]
    world.clock.advance(minutes=1)
    created(reviewer.send(receipt(world, reviewer, case, "metro-police")))
    world.clock.advance(minutes=1)
    made["fraud"] = submit(world, officer, category="fraud", priority="normal")[1]["case_id"]
    made["chatter"] = submit(world, officer, to="chatter", priority="high")[1]["case_id"]
    return made


def test_cases_are_filtered_by_state_category_and_priority(world):
    made = populate(world)
    officer = world.officials["officer-1"]
    everything = ids(officer)
    assert sorted(everything) == sorted(made.values())
    assert ids(officer, "state=acknowledged") == [made["acknowledged"]]
    assert set(ids(officer, "state=submitted")) == set(made.values()) - {made["acknowledged"]}
    assert ids(officer, "state=closed") == []
    assert ids(officer, "category=ncii") == [made["high-ncii"]]
    assert set(ids(officer, "priority=high")) == {made["high-ncii"], made["chatter"]}
    assert ids(officer, "priority=normal&category=fraud") == [made["fraud"]]
    assert ids(officer, "priority=normal&state=acknowledged") == [made["acknowledged"]]


def test_overdue_follows_the_clock(world, clock):
    made = populate(world)
    officer = world.officials["officer-1"]
    assert ids(officer, "overdue=true") == []
    clock.advance(minutes=56)  # the urgent case was submitted 1 h ago
    assert ids(officer, "overdue=true") == [made["urgent"]]
    assert made["urgent"] not in ids(officer, "overdue=false")
    listed = {c["case_id"]: c for c in officer.get("/v1/cases").get_json()["cases"]}
    assert listed[made["urgent"]]["overdue"] is True
    assert listed[made["high-ncii"]]["overdue"] is False
    clock.advance(hours=4)  # the high ones too
    assert set(ids(officer, "overdue=true")) == {
        made["urgent"],
        made["high-ncii"],
        made["chatter"],
    }
    # Acknowledged cases have only the action deadline left: 7 days for a normal one.
    clock.advance(days=7)
    assert set(ids(officer, "overdue=true")) == set(made.values())
    assert ids(officer, "overdue=false") == []


def test_updated_since(world, clock):
    made = populate(world)
    officer = world.officials["officer-1"]
    start = clock()
    assert set(ids(officer, f"updated_since={format_utc(start)}")) == {
        made["fraud"],
        made["chatter"],
    }
    # The receipt updated the acknowledged case one minute before.
    earlier = format_utc(start.replace(minute=start.minute - 1))
    assert made["acknowledged"] in ids(officer, f"updated_since={earlier}")
    assert ids(officer, f"updated_since={format_utc(clock.advance(seconds=1))}") == []


def test_pagination_covers_every_case_once_in_order(world, clock):
    officer = world.officials["officer-1"]
    made = [submit(world, officer)[1]["case_id"] for _ in range(4)]  # the same updated_at
    clock.advance(seconds=1)
    made += [submit(world, officer)[1]["case_id"] for _ in range(3)]
    expected = sorted(made[:4]) + sorted(made[4:])
    for limit in (1, 2, 3, 7, 100):
        found = pages(officer, limit)
        flat = [case_id for page in found for case_id in page]
        assert flat == expected, limit
        assert all(len(page) == limit for page in found[:-1])
        assert len(found[-1]) <= limit
    # Filters hold across pages.
    assert [c for page in pages(officer, 2, "priority=urgent") for c in page] == expected


def test_a_page_of_an_exact_fit_has_no_next_cursor(world):
    officer = world.officials["officer-1"]
    for _ in range(2):
        submit(world, officer)
    body = officer.get("/v1/cases?limit=2").get_json()
    assert len(body["cases"]) == 2
    assert body["next_cursor"] is None


@pytest.mark.parametrize(
    "cursor",
    [
        "x",
        "%%%",
        base64.urlsafe_b64encode(b"not json").decode().rstrip("="),
        base64.urlsafe_b64encode(b"[1, 2]").decode().rstrip("="),
        base64.urlsafe_b64encode(b'{"a": 1}').decode().rstrip("="),
        base64.urlsafe_b64encode(b'["2026-03-03T09:00:00Z"]').decode().rstrip("="),
        base64.urlsafe_b64encode(b"\xff\xfe").decode().rstrip("="),
        "\u00e9t\u00e9",
    ],
)
def test_an_invalid_cursor_is_a_422(world, cursor):
    officer = world.officials["officer-1"]
    assert_problem(officer.get("/v1/cases", query_string={"cursor": cursor}), 422, "invalid-cursor")


def test_bad_filters_are_schema_errors(world):
    officer = world.officials["officer-1"]
    for query, field in (
        ("state=bogus", "state"),
        ("category=gossip", "category"),
        ("priority=asap", "priority"),
        ("overdue=maybe", "overdue"),
        ("updated_since=yesterday", "updated_since"),
        ("updated_since=2026-03-03T09:00:00%2B01:00", "updated_since"),
        ("limit=101", "limit"),
        ("limit=0", "limit"),
    ):
        problem = assert_problem(officer.get(f"/v1/cases?{query}"), 422, "validation-failed")
        assert set(problem["errors"]) == {field}, query


def test_the_state_filter_knows_every_state():
    assert set(CASE_STATES) == {str(state) for state in State}


def test_summaries_carry_no_jwe_and_the_auditor_lists_everything(world):
    made = populate(world)
    auditor = world.officials["auditor-1"]
    body: dict[str, Any] = auditor.get("/v1/cases?limit=100").get_json()
    assert sorted(c["case_id"] for c in body["cases"]) == sorted(made.values())
    assert all("jwe" not in case and "timeline" not in case for case in body["cases"])
