"""Tampering behind the application's back, caught by the auditor, which names where.

Each test edits a copy of a real exchange's SQLite file the way someone with access to
the file would: drop the append-only triggers, change the rows, put the triggers back.
The auditor then reads what the log publishes (entries up to the latest checkpoint, and
the checkpoints signed over time) and must refuse it, with the cause and the index.
"""

from __future__ import annotations

import json

import pytest

from exchange import runtime
from exchange.auditor import (
    CheckpointInvalidError,
    EntryFormatError,
    EntryIndexError,
    InconsistentLogError,
    MissingEntriesError,
    RollbackError,
    TreeMismatchError,
    verify_log,
)
from exchange.auditor.tree import node_range
from exchange.log.keyring import LogSigner
from exchange.protocol import merkle
from exchange.protocol.envelope.canonical import canonical
from tests.exchange.log.helpers import behind_the_back, bundle_from_database, leaf, set_leaf
from tests.exchange.log.scenario import busy


def audit(exchange, path, *, witnesses=True, previous=None):
    bundle = bundle_from_database(f"sqlite:///{path}", witnesses=witnesses)
    return verify_log(
        bundle.entries,
        bundle.checkpoint,
        [exchange.verifier_key],
        bundle.origin,
        previous=previous,
        witnesses=bundle.checkpoints,
    )


def first_index_of(exchange, path, event):
    bundle = bundle_from_database(f"sqlite:///{path}")
    return next(i for i, e in enumerate(bundle.entries) if json.loads(e)["event"] == event)


@pytest.fixture
def copy(exchange, tmp_path):
    return exchange.copy(tmp_path / "exchange.storage.database")


def test_the_untouched_log_verifies(exchange, copy):
    report = audit(exchange, copy)
    assert report.entries == len(bundle_from_database(exchange.url).entries)
    assert report.signatures == 12  # two cases of six handoffs each


def test_one_changed_byte_is_named(exchange, copy):
    index = first_index_of(exchange, copy, "delivered")
    with behind_the_back(copy) as sql:
        text = leaf(sql, index)
        changed = text.replace("T09:", "T08:", 1)
        assert changed != text
        assert len(changed) == len(text)
        set_leaf(sql, index, changed)
    with pytest.raises(TreeMismatchError) as caught:
        audit(exchange, copy)
    assert (caught.value.index, caught.value.end) == (index, None)
    assert str(caught.value).startswith(f"entry {index}: the entries do not hash to")


def test_a_changed_byte_without_earlier_checkpoints_is_blamed_on_the_whole_log(exchange, copy):
    index = first_index_of(exchange, copy, "delivered")
    with behind_the_back(copy) as sql:
        set_leaf(sql, index, leaf(sql, index).replace("T09:", "T08:", 1))
    size = len(bundle_from_database(exchange.url).entries)
    with pytest.raises(TreeMismatchError) as caught:
        audit(exchange, copy, witnesses=False)
    assert (caught.value.index, caught.value.end) == (0, size)


def test_a_changed_signature_is_named(exchange, copy):
    index = first_index_of(exchange, copy, "receipt")
    with behind_the_back(copy) as sql:
        entry = json.loads(leaf(sql, index))
        header, payload, signature = entry["statement"].split(".")
        entry["statement"] = (
            f"{header}.{payload}.{signature[:-2]}{'AA' if signature[-2:] != 'AA' else 'BA'}"
        )
        set_leaf(sql, index, canonical(entry).decode())
    with pytest.raises(TreeMismatchError) as caught:
        audit(exchange, copy)
    assert (caught.value.index, caught.value.end) == (index, None)


def test_a_deleted_entry_is_named(exchange, copy):
    index = first_index_of(exchange, copy, "receipt")
    with behind_the_back(copy) as sql:
        sql.execute('DELETE FROM log_entries WHERE "index" = ?', (index,))
    with pytest.raises(EntryIndexError) as caught:
        audit(exchange, copy)
    assert caught.value.index == index
    assert f"says it is entry {index + 1}" in caught.value.reason


def test_two_swapped_entries_are_named(exchange, copy):
    first = first_index_of(exchange, copy, "question")
    with behind_the_back(copy) as sql:
        a, b = leaf(sql, first), leaf(sql, first + 1)
        set_leaf(sql, first, b)
        set_leaf(sql, first + 1, a)
    with pytest.raises(EntryIndexError) as caught:
        audit(exchange, copy)
    assert caught.value.index == first


def test_swapped_and_renumbered_entries_are_named(exchange, copy):
    """A careful attacker fixes the index fields too: the signed roots still catch it."""
    first = first_index_of(exchange, copy, "question")
    with behind_the_back(copy) as sql:
        a, b = json.loads(leaf(sql, first)), json.loads(leaf(sql, first + 1))
        a["index"], b["index"] = b["index"], a["index"]
        set_leaf(sql, first, canonical(b).decode())
        set_leaf(sql, first + 1, canonical(a).decode())
    with pytest.raises(TreeMismatchError) as caught:
        audit(exchange, copy)
    assert caught.value.index == first


def test_an_inserted_forged_entry_is_named(exchange, copy):
    """Shift every later entry up by one and slip a forged delivery in at `index`."""
    index = first_index_of(exchange, copy, "delivered")
    with behind_the_back(copy) as sql:
        later = sql.execute(
            'SELECT "index", leaf FROM log_entries WHERE "index" >= ? ORDER BY "index" DESC',
            (index,),
        ).fetchall()
        for number, text in later:
            entry = json.loads(text)
            entry["index"] = number + 1
            sql.execute(
                'UPDATE log_entries SET "index" = ?, leaf = ? WHERE "index" = ?',
                (number + 1, canonical(entry).decode(), number),
            )
        forged = json.loads(later[-1][1])
        forged["details"] = {"state": "acknowledged"}
        sql.execute(
            'INSERT INTO log_entries ("index", leaf, event, case_id, handoff_id, logged_at)'
            " VALUES (?, ?, 'delivered', NULL, NULL, '2026-03-03 09:00:00')",
            (index, canonical(forged).decode()),
        )
    with pytest.raises(TreeMismatchError) as caught:
        audit(exchange, copy)
    assert caught.value.index == index


def test_a_truncated_log_is_named(exchange, copy):
    size = len(bundle_from_database(exchange.url).entries)
    cut = size - 5
    with behind_the_back(copy) as sql:
        sql.execute('DELETE FROM log_entries WHERE "index" >= ?', (cut,))
    with pytest.raises(MissingEntriesError) as caught:
        audit(exchange, copy)
    assert caught.value.index == cut


def test_a_log_truncated_with_its_checkpoints_is_a_rollback_for_an_auditor_who_saw_more(
    exchange, copy, tmp_path
):
    seen = audit(exchange, copy)
    state = seen.state(bundle_from_database(exchange.url).origin)
    cut = seen.entries - 5
    with behind_the_back(copy) as sql:
        sql.execute('DELETE FROM log_entries WHERE "index" >= ?', (cut,))
        sql.execute("DELETE FROM checkpoints WHERE size > ?", (cut,))
        sql.execute('DELETE FROM log_nodes WHERE (("index" + 1) << level) > ?', (cut,))
        sql.execute("UPDATE log_head SET size = ?", (cut,))
    assert audit(exchange, copy).entries == cut  # alone, the shorter log is self-consistent
    with pytest.raises(RollbackError) as caught:
        audit(exchange, copy, previous=state)
    assert caught.value.index == cut


def test_a_forged_checkpoint_is_refused(exchange, copy):
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from exchange.protocol.checkpoint import Checkpoint, sign_checkpoint

    bundle = bundle_from_database(exchange.url)
    forger = LogSigner(bundle.origin, Ed25519PrivateKey.generate())
    note = sign_checkpoint(
        Checkpoint(bundle.origin, 1, b"\x00" * 32), forger.name, forger.private_key
    )
    with pytest.raises(CheckpointInvalidError) as caught:
        verify_log(bundle.entries[:1], note, [exchange.verifier_key], bundle.origin)
    assert caught.value.index is None


def test_a_forged_earlier_checkpoint_in_a_bundle_is_refused(exchange, copy):
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from exchange.protocol.checkpoint import Checkpoint, sign_checkpoint

    bundle = bundle_from_database(exchange.url)
    forger = LogSigner(bundle.origin, Ed25519PrivateKey.generate())
    forged = sign_checkpoint(
        Checkpoint(bundle.origin, 3, b"\x01" * 32), forger.name, forger.private_key
    )
    with pytest.raises(CheckpointInvalidError) as caught:
        verify_log(
            bundle.entries,
            bundle.checkpoint,
            [exchange.verifier_key],
            bundle.origin,
            witnesses=[forged],
        )
    assert "size 3" in caught.value.reason


def test_non_canonical_entry_json_is_named(exchange, copy):
    index = first_index_of(exchange, copy, "delivered")
    with behind_the_back(copy) as sql:
        set_leaf(sql, index, json.dumps(json.loads(leaf(sql, index)), indent=1))
    with pytest.raises(EntryFormatError) as caught:
        audit(exchange, copy)
    assert caught.value.index == index
    assert "canonical" in caught.value.reason


class TestRestoredOlderCopy:
    """An older copy of the database put back after newer checkpoints were seen."""

    @pytest.fixture
    def history(self, exchange, tmp_path):
        """The database before, and after, more cases; the auditor saw the latter."""
        before = exchange.copy(tmp_path / "before.db")
        after = exchange.copy(tmp_path / "after.db")
        world = exchange.reopen(after)
        busy(world, cases=1)
        with world.app.app_context():
            runtime.get_database().engine.dispose()
        seen = audit(exchange, after)
        state = seen.state(bundle_from_database(exchange.url).origin)
        return before, state, seen.entries

    def test_the_newer_log_extends_what_was_seen(self, exchange, history, tmp_path):
        _, state, size = history
        assert state.tree.size == size

    def test_restoring_the_older_copy_is_a_rollback(self, exchange, history):
        before, state, _ = history
        older = len(bundle_from_database(f"sqlite:///{before}").entries)
        with pytest.raises(RollbackError) as caught:
            audit(exchange, before, previous=state)
        assert caught.value.index == older

    def test_writing_on_after_restoring_is_a_fork(self, exchange, history):
        before, state, seen = history
        older = len(bundle_from_database(f"sqlite:///{before}").entries)
        world = exchange.reopen(before)
        busy(world, cases=2)  # a different history, longer than the one seen
        with world.app.app_context():
            runtime.get_database().engine.dispose()
        with pytest.raises(InconsistentLogError) as caught:
            audit(exchange, before, previous=state)
        # The frontier saved with the checkpoint names the complete subtree of the tree
        # that was seen in which the two histories part: the one holding entry `older`.
        expected = next(
            node_range(node)
            for node in merkle.root_plan(seen)
            if node_range(node)[0] <= older < node_range(node)[1]
        )
        assert (caught.value.index, caught.value.end) == expected
        assert "does not extend the checkpoint of size" in caught.value.reason
