"""GET /v1/log/directory: the log's entries about no case, by position in their own tree."""

import json

from exchange.protocol import merkle
from exchange.protocol.checkpoint import Checkpoint
from keys.b64 import b64_encode
from tests.exchange.api.support import assert_problem


def test_the_feed_is_every_entry_about_no_case_in_log_order(world):
    officer = world.officials["officer-1"]
    _, accepted = world.submit(officer, "clipshare")
    assert accepted.status_code == 201
    everything = world.log_entries()
    expected = [e for e in everything if e["case_id"] is None]
    assert 0 < len(expected) < len(everything)

    answer = officer.get("/v1/log/directory?start=0&end=1000").get_json()
    assert answer["tree_size"] == len(everything)
    assert [item["position"] for item in answer["entries"]] == list(range(len(expected)))
    assert [item["index"] for item in answer["entries"]] == [e["index"] for e in expected]
    assert [json.loads(item["entry"]) for item in answer["entries"]] == expected

    note = officer.client.get("/v1/log/checkpoint").get_data(as_text=True)
    line = Checkpoint.parse(note.split("\n\n", 1)[0] + "\n").extensions
    leaves = [merkle.leaf_hash(item["entry"].encode()) for item in answer["entries"]]
    assert line == (f"directory {len(leaves)} {b64_encode(merkle.root(leaves))}",)


def test_a_page_starts_at_its_position(world):
    officer = world.officials["officer-1"]
    whole = officer.get("/v1/log/directory?start=0&end=1000").get_json()["entries"]
    page = officer.get("/v1/log/directory?start=2&end=4").get_json()["entries"]
    assert page == whole[2:4]
    beyond = officer.get(f"/v1/log/directory?start={len(whole)}&end={len(whole) + 5}")
    assert beyond.get_json()["entries"] == []


def test_an_empty_range_is_refused(world):
    officer = world.officials["officer-1"]
    assert_problem(officer.get("/v1/log/directory?start=3&end=3"), 422, "unprocessable")
