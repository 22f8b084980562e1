"""Rotating the server's keys: the log key on record with a handover, the token key at once."""

import json
import shutil

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from exchange import runtime
from exchange.auditor import verify_log
from exchange.auditor.bundle import Bundle, write_bundle
from exchange.auditor.directory import Directory
from exchange.auditor.entries import Entry
from exchange.auditor.errors import CheckpointInvalidError, DirectoryEventError
from exchange.cli import main as cli_main
from exchange.config import key_passphrase
from exchange.log import keyring
from exchange.log.keyring import LOG_KEY_FILE, RETIRED_LOG_KEYS_FILE, TOKEN_KEY_FILE
from exchange.ops import backup
from exchange.protocol import note
from exchange.protocol.checkpoint import verify_checkpoint
from exchange.protocol.handover import (
    MARKER,
    Handover,
    HandoverError,
    sign_handover,
    verify_handover,
)
from exchange.storage.models import Checkpoint, LogEntry
from tests.helpers.world import standard_world


def keys_of(app):
    with app.app_context():
        return runtime.server_keys()


def checkpoint_notes(app):
    with app.app_context(), runtime.read() as session:
        return {c.size: c.note for c in session.scalars(select(Checkpoint))}


def entry(app, index):
    with app.app_context(), runtime.read() as session:
        return json.loads(session.get(LogEntry, index).leaf)


def rotate(app, command="rotate-log-key"):
    result = app.test_cli_runner().invoke(args=["admin", command])
    assert result.exit_code == 0, result.output
    return result.output


def audit(app):
    """The whole log through the auditor, with the keys this server holds."""
    with app.app_context():
        keys = runtime.server_keys()
        with runtime.get_database().engine.connect() as connection:
            return backup.check_log(
                connection, backup.LogKeys(keys.log.name, keys.log_verifier_keys)
            )


@pytest.fixture
def world(app, client, clock):
    world = standard_world(app, client, clock)
    assert world.submit(world.officials["officer-1"], "clipshare")[1].status_code == 201
    return world


def test_the_log_key_rotation_is_a_log_entry_signed_over_by_both_keys(app, client, world):
    old = keys_of(app).log
    origin = old.name
    before = checkpoint_notes(app)
    index = world.log_size()

    output = rotate(app)

    new = keys_of(app).log
    assert new.verifier_key != old.verifier_key
    assert f"Rotated the log key at log entry {index}." in output
    assert new.verifier_key in output
    assert keys_of(app).retired_log_verifier_keys == (old.verifier_key,)
    # The rotation entry: no actor, both keys, and the handover both keys signed.
    rotation = entry(app, index)
    assert rotation["event"] == "log_key_rotated"
    assert rotation["actor"] is None
    assert rotation["details"]["old_verifier_key"] == old.verifier_key
    assert rotation["details"]["new_verifier_key"] == new.verifier_key
    assert verify_handover(rotation["details"]["handover"]) == Handover(
        origin, index, old.verifier_key, new.verifier_key
    )
    # Its checkpoint is signed by the new key only; every earlier one by the old key only.
    after = checkpoint_notes(app)
    assert set(after) == set(before) | {index + 1}
    assert verify_checkpoint(after[index + 1], [new.verifier_key], origin).size == index + 1
    with pytest.raises(note.UnknownKeyError):
        verify_checkpoint(after[index + 1], [old.verifier_key], origin)
    for size, signed in before.items():
        assert after[size] == signed
        verify_checkpoint(signed, [old.verifier_key], origin)
        with pytest.raises(note.UnknownKeyError):
            verify_checkpoint(signed, [new.verifier_key], origin)
    # The service goes on under the new key; the whole log still audits.
    assert world.submit(world.officials["officer-1"], "clipshare")[1].status_code == 201
    verify_checkpoint(
        client.get("/v1/log/checkpoint").get_data(as_text=True), [new.verifier_key], origin
    )
    assert client.get("/v1/log/key").get_json() == {
        "origin": origin,
        "verifier_key": new.verifier_key,
        "retired_verifier_keys": [old.verifier_key],
        "handovers": [{"index": index, "note": rotation["details"]["handover"]}],
    }
    assert client.get("/readyz").status_code == 200
    assert audit(app).entries == world.log_size()


def test_the_rotated_keys_are_what_a_restarted_server_loads(app, make_app, world, tmp_path):
    rotate(app)
    rotate(app)  # twice: both earlier keys are retired, oldest last
    keys = keys_of(app)
    directory = tmp_path / "instance" / "keys"
    assert not list(directory.glob("*.new"))
    assert (directory / RETIRED_LOG_KEYS_FILE).read_text().split() == list(
        keys.retired_log_verifier_keys
    )
    assert oct((directory / LOG_KEY_FILE).stat().st_mode & 0o777) == "0o600"
    restarted = keys_of(make_app())
    assert restarted.log.verifier_key == keys.log.verifier_key
    assert len(restarted.log_verifier_keys) == 3
    assert make_app().test_client().get("/readyz").status_code == 200


def test_an_interrupted_rotation_is_finished_by_the_next_run(app, world, tmp_path):
    directory = tmp_path / "instance" / "keys"
    old = keys_of(app).log.verifier_key
    # Make the final rename fail after the commit: the key file's name is taken by a folder.
    (directory / LOG_KEY_FILE).unlink()
    (directory / LOG_KEY_FILE).mkdir()
    index = world.log_size()
    failed = app.test_cli_runner().invoke(args=["admin", "rotate-log-key"])
    assert failed.exit_code != 0
    assert isinstance(failed.exception, IsADirectoryError | OSError)
    assert entry(app, index)["event"] == "log_key_rotated"  # the log has moved on
    assert keys_of(app).log.verifier_key == old  # the process has not
    (directory / LOG_KEY_FILE).rmdir()

    output = rotate(app)

    assert f"Finished the interrupted rotation at log entry {index}." in output
    new = keys_of(app).log.verifier_key
    assert new == entry(app, index)["details"]["new_verifier_key"]
    assert keys_of(app).retired_log_verifier_keys == (old,)
    assert world.log_size() == index + 1  # no second rotation entry
    assert audit(app).entries == index + 1


def test_a_staged_key_the_log_never_adopted_is_discarded(app, world, tmp_path):
    directory = tmp_path / "instance" / "keys"
    with app.app_context():
        abandoned = keyring.stage_key(directory, LOG_KEY_FILE, key_passphrase(app.config))
    abandoned_key = note.verifier_key(keys_of(app).log.name, abandoned.public_key())
    index = world.log_size()
    rotate(app)
    assert keys_of(app).log.verifier_key != abandoned_key
    assert entry(app, index)["details"]["new_verifier_key"] == keys_of(app).log.verifier_key
    assert not (directory / f"{LOG_KEY_FILE}.new").exists()


def test_a_rotation_that_cannot_commit_changes_nothing(make_app, tmp_path):
    app = make_app(DATABASE_URL=f"sqlite:///{tmp_path / 'missing' / 'x.db'}")
    directory = tmp_path / "instance" / "keys"
    before = (directory / LOG_KEY_FILE).read_bytes()
    old = keys_of(app).log.verifier_key
    result = app.test_cli_runner().invoke(args=["admin", "rotate-log-key"])
    assert result.exit_code != 0
    assert (directory / LOG_KEY_FILE).read_bytes() == before
    assert not (directory / f"{LOG_KEY_FILE}.new").exists()
    assert not (directory / RETIRED_LOG_KEYS_FILE).exists()
    assert keys_of(app).log.verifier_key == old


def test_rotating_the_token_key_ends_every_session(app, world, tmp_path):
    officer = world.officials["officer-1"]
    assert officer.get("/v1/orgs").status_code == 200
    key_file = tmp_path / "instance" / "keys" / TOKEN_KEY_FILE
    before = key_file.read_bytes()
    log_size = world.log_size()

    output = rotate(app, "rotate-token-key")

    assert "Rotated the access-token key" in output
    assert key_file.read_bytes() != before
    refused = officer.get("/v1/orgs")
    assert refused.status_code == 401
    assert refused.get_json()["type"] == "urn:hotline:problem:invalid-token"
    officer.login()  # a fresh client assertion, a token under the new key
    assert officer.get("/v1/orgs").status_code == 200
    assert world.log_size() == log_size  # sessions are not the log's business


def test_a_copy_of_the_key_directory_is_all_another_instance_needs(app, make_app, world, tmp_path):
    rotate(app)
    shutil.copytree(tmp_path / "instance" / "keys", tmp_path / "second" / "keys")
    second = make_app(INSTANCE_PATH=str(tmp_path / "second"))
    assert keys_of(second).log.verifier_key == keys_of(app).log.verifier_key
    assert second.test_client().get("/readyz").status_code == 200
    # The first instance's tokens work on the second: they share the token key.
    officer = world.officials["officer-1"]
    assert second.test_client().get("/v1/orgs", headers=officer.headers()).status_code == 200


# --- the handover note -------------------------------------------------------------------------


@pytest.fixture
def handover():
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    old, new = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    origin = "hotline.test/log"
    stated = Handover(
        origin,
        7,
        note.verifier_key(origin, old.public_key()),
        note.verifier_key(origin, new.public_key()),
    )
    return stated, old, new


def test_the_handover_note_verifies_with_both_keys(handover):
    stated, old, new = handover
    signed = sign_handover(stated, old, new)
    assert signed.startswith(stated.text() + "\n\u2014 hotline.test/log ")
    assert signed.count("\u2014 ") == 2
    assert verify_handover(signed) == stated
    note.verify(signed, [stated.old_verifier_key])
    note.verify(signed, [stated.new_verifier_key])


def test_a_handover_signed_by_one_key_only_is_refused(handover):
    stated, old, _new = handover
    with pytest.raises(HandoverError, match="not signed by both"):
        verify_handover(note.sign(stated.text(), stated.origin, old))


def test_a_handover_with_changed_text_is_refused(handover):
    stated, old, new = handover
    signed = sign_handover(stated, old, new)
    with pytest.raises(HandoverError):
        verify_handover(signed.replace("\n7\n", "\n8\n", 1))
    with pytest.raises(HandoverError, match="not a log key handover"):
        verify_handover(signed.replace(MARKER, "checkpoint", 1))


def test_a_handover_cannot_pass_for_a_checkpoint(handover):
    stated, old, new = handover
    from exchange.protocol.checkpoint import CheckpointError

    with pytest.raises(CheckpointError):
        verify_checkpoint(sign_handover(stated, old, new), [stated.old_verifier_key], stated.origin)


# --- an auditor across a rotation ---------------------------------------------------------------


def log_texts(app):
    """Every entry's text and the newest checkpoint, as an auditor fetches them."""
    with app.app_context(), runtime.read() as session:
        entries = session.scalars(select(LogEntry).order_by(LogEntry.index))
        newest = session.scalars(select(Checkpoint).order_by(Checkpoint.size.desc())).first()
        return [row.leaf for row in entries], newest.note


def test_an_auditor_who_pinned_the_old_key_learns_the_new_one_from_the_handover(app, world):
    old = keys_of(app).log
    rotate(app)
    new = keys_of(app).log
    assert world.submit(world.officials["officer-1"], "clipshare")[1].status_code == 201
    texts, newest = log_texts(app)

    report = verify_log(texts, newest, [old.verifier_key], old.name)

    assert report.entries == len(texts) == world.log_size()
    assert report.learned_keys == (new.verifier_key,)
    assert report.verifier_keys == (old.verifier_key, new.verifier_key)
    # The saved state pins both, so the next run needs no handover to trust the new key.
    assert report.state(old.name).verifier_keys == (old.verifier_key, new.verifier_key)
    assert verify_log(texts, newest, [new.verifier_key], old.name).learned_keys == ()


def test_a_handover_from_a_key_the_auditor_never_trusted_is_not_followed(app, world):
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    origin = keys_of(app).log.name
    rotate(app)
    texts, newest = log_texts(app)
    stranger = note.verifier_key(origin, Ed25519PrivateKey.generate().public_key())

    with pytest.raises(CheckpointInvalidError, match="the log's checkpoint does not verify"):
        verify_log(texts, newest, [stranger], origin)


def test_a_checkpoint_of_another_log_is_refused_before_any_entry_is_read(app, world):
    old = keys_of(app).log
    _texts, newest = log_texts(app)

    def entries():
        raise AssertionError("no entry is read for a checkpoint of another log")
        yield ""  # pragma: no cover - makes this a generator

    with pytest.raises(CheckpointInvalidError, match="the log's checkpoint does not verify"):
        verify_log(entries(), newest, [old.verifier_key], "another.test/log")


def rotation_entry(handover_note, index, old_key, new_key):
    return Entry(
        index=index,
        logged_at="2026-03-03T09:00:00Z",
        event="log_key_rotated",
        case_id=None,
        handoff_id=None,
        actor=None,
        statement=None,
        jwe_sha256=None,
        details={
            "old_verifier_key": old_key,
            "new_verifier_key": new_key,
            "handover": handover_note,
        },
    )


def test_the_auditor_takes_a_rotation_entry_only_with_its_own_handover(handover):
    stated, old, new = handover
    signed = sign_handover(stated, old, new)
    keys = (stated.old_verifier_key, stated.new_verifier_key)
    directory = Directory()
    directory.apply(rotation_entry(signed, 7, *keys))
    assert directory.handovers == [stated]

    refusals = {
        "for entry 7": rotation_entry(signed, 8, *keys),
        "other keys than the entry": rotation_entry(signed, 7, keys[1], keys[0]),
        "not signed by both": rotation_entry(
            note.sign(stated.text(), stated.origin, old), 7, *keys
        ),
        "details.handover is not a string": rotation_entry(None, 7, *keys),
    }
    for reason, entry_ in refusals.items():
        with pytest.raises(DirectoryEventError, match=reason) as refused:
            Directory().apply(entry_)
        assert refused.value.index == entry_.index


def test_hotline_audit_follows_the_rotation_and_remembers_the_new_key(app, world, tmp_path):
    old = keys_of(app).log
    rotate(app)
    new = keys_of(app).log
    texts, newest = log_texts(app)
    bundle, state = tmp_path / "bundle.json", tmp_path / "audit.json"
    write_bundle(Bundle(old.name, (old.verifier_key,), newest, texts), bundle)

    def audit_cli(command):
        args = ["audit", command, "--bundle", bundle, "--log-key", old.verifier_key]
        return CliRunner().invoke(cli_main, [*map(str, args), "--state", str(state)])

    # Before any `verify`, the old key alone cannot vouch for the new key's checkpoint.
    refused = audit_cli("checkpoint")
    assert refused.exit_code == 1
    assert "[bad-checkpoint]" in refused.stderr
    verified_ = audit_cli("verify")
    assert verified_.exit_code == 0, verified_.output
    assert (
        f"  the log key was handed over to {new.verifier_key}, a key you trusted signing it"
        in verified_.stdout.splitlines()
    )
    assert json.loads(state.read_text())["verifier_keys"] == [old.verifier_key, new.verifier_key]
    # Later runs trust the learned key with only the old one pinned.
    checked = audit_cli("checkpoint")
    assert checked.exit_code == 0, checked.output
    assert checked.stdout.splitlines()[0] == f"Checkpoint of log {old.name}: size {len(texts)}"


def test_trust_follows_handovers_in_order_and_only_from_trusted_keys(handover):
    from exchange.auditor.verify import _follow

    stated, _old, _new = handover
    origin = stated.origin
    later = Handover(origin, 9, stated.new_verifier_key, "hotline.test/log+00000000+later")
    assert _follow([stated.old_verifier_key], [stated, later], origin) == (
        stated.old_verifier_key,
        stated.new_verifier_key,
        later.new_verifier_key,
    )
    # Without a trusted key at the start of the chain, nothing is learned.
    assert _follow(["hotline.test/log+11111111+other"], [stated, later], origin) == (
        "hotline.test/log+11111111+other",
    )
    with pytest.raises(DirectoryEventError, match=r"for log 'hotline\.test/log'") as refused:
        _follow([stated.old_verifier_key], [stated], "another.test/log")
    assert refused.value.index == 7
