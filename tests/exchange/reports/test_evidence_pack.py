"""The evidence pack (exchange.reports.pack) of the scripted history: its files, its
breaches proven against the checkpoint, and its check refusing every kind of edit."""

import hashlib
import json

import pytest

from exchange.protocol import merkle
from exchange.reports import Period, compute
from exchange.reports.pack import (
    BREACHES,
    CHECKPOINT,
    FIGURES,
    PACK_FILES,
    PackCheckError,
    PackFormatError,
    check_pack,
    pack_files,
)
from exchange.runtime import server_keys
from keys.b64 import b64_decode, b64_encode
from tests.exchange.reports.conftest import texts_from_database
from tests.exchange.reports.scripted import AS_OF, PERIOD


def rfc9162_root(leaf: bytes, index: int, size: int, path: list[bytes]) -> bytes:
    """RFC 9162 §2.1.3.2, as the RFC writes it (hashlib only, not our merkle module)."""
    fn, sn, r = index, size - 1, leaf
    for p in path:
        if sn == 0:
            raise AssertionError("the proof is too long")
        if fn % 2 == 1 or fn == sn:
            r = hashlib.sha256(b"\x01" + p + r).digest()
            if fn % 2 == 0:
                while fn % 2 == 0 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = hashlib.sha256(b"\x01" + r + p).digest()
        fn >>= 1
        sn >>= 1
    assert sn == 0, "the proof is too short"
    return r


@pytest.fixture
def pack(app, scripted):
    texts, log = texts_from_database(app)
    report = compute(
        log.entries,
        checkpoint=log.checkpoint,
        period=Period.parse(*PERIOD),
        now=AS_OF,
        platform="clipshare",
    )
    return texts, log, report, pack_files(texts, log, report)


def _keys(app):
    with app.app_context():
        return server_keys().log_verifier_keys


def test_the_pack_holds_the_figures_and_every_breach_of_the_platform(app, scripted, pack):
    texts, log, report, files = pack
    assert set(files) == set(PACK_FILES)
    assert json.loads(files[FIGURES]) == json.loads(json.dumps(report.to_json()))
    assert files[CHECKPOINT] == log.checkpoint.note
    document = json.loads(files[BREACHES])
    assert document["checkpoint"]["note"] == log.checkpoint.note
    assert document["checkpoint"]["size"] == len(texts)
    assert (document["platform"], document["as_of"]) == ("clipshare", "2026-03-16T12:00:00Z")
    breaches = document["breaches"]
    # B's acknowledgement (sweep of 03-03 14:30) and action (sweep of 03-06 12:30): the
    # only deadline_breached entries of clipshare's cases; E's is chatter's.
    b = scripted.cases["B"]
    logged = [
        i
        for i, text in enumerate(texts)
        if json.loads(text)["event"] == "deadline_breached" and json.loads(text)["case_id"] == b
    ]
    assert len(logged) == 2
    assert [x["index"] for x in breaches] == logged
    assert [(x["case_id"], x["deadline"]) for x in breaches] == [(b, "ack"), (b, "action")]
    assert [x["due_at"] for x in breaches] == ["2026-03-03T14:00:00Z", "2026-03-06T10:00:00Z"]
    assert [x["logged_at"] for x in breaches] == ["2026-03-03T14:30:00Z", "2026-03-06T12:30:00Z"]
    root = b64_decode(log.checkpoint.root)
    for breach in breaches:
        leaf = hashlib.sha256(b"\x00" + texts[breach["index"]].encode()).digest()
        assert b64_decode(breach["leaf_hash"]) == leaf
        path = [b64_decode(node) for node in breach["inclusion_proof"]]
        assert rfc9162_root(leaf, breach["index"], len(texts), path) == root
    # The figures count exactly these.
    figures = json.loads(files[FIGURES])["platforms"][0]
    assert figures["evidence"]["breach_entries"]["ack"] == 1
    assert figures["evidence"]["breach_entries"]["action"] == 1
    assert "case content" not in files["VERIFY.md"]
    for key in log.checkpoint.verifier_keys:
        assert f"--log-key {key}" in files["VERIFY.md"]


def test_the_check_passes_on_the_pack(app, pack):
    texts, log, _, files = pack
    checked = check_pack(files, _keys(app))
    assert (checked.platform, checked.size, checked.breaches) == ("clipshare", len(texts), 2)
    assert checked.root == log.checkpoint.root


def _edited(files, name, edit):
    document = json.loads(files[name])
    edit(document)
    return {**files, name: json.dumps(document)}


def _refusal(app, files) -> str:
    with pytest.raises(PackCheckError) as refused:
        check_pack(files, _keys(app))
    return str(refused.value)


def test_an_edited_breach_index_is_refused(app, pack):
    texts, _, _, files = pack
    index = json.loads(files[BREACHES])["breaches"][0]["index"]

    def edit(document):
        document["breaches"][0]["index"] -= 1

    message = _refusal(app, _edited(files, BREACHES, edit))
    prefix = (
        f"breaches.json breach 0 (log index {index - 1}): the inclusion proof does not verify"
        f" against the checkpoint: inclusion proof for leaf {index - 1} of {len(texts)} "
    )
    assert message.startswith(prefix), message


def test_an_edited_proof_hash_is_refused(app, pack):
    texts, log, _, files = pack
    breach = json.loads(files[BREACHES])["breaches"][1]

    def edit(document):
        document["breaches"][1]["inclusion_proof"][0] = b64_encode(b"\x07" * 32)

    message = _refusal(app, _edited(files, BREACHES, edit))
    proof = [b64_decode(n) for n in breach["inclusion_proof"]]
    proof[0] = b"\x07" * 32
    with pytest.raises(merkle.RootMismatchError) as mismatch:
        merkle.verify_inclusion(
            b64_decode(breach["leaf_hash"]),
            breach["index"],
            len(texts),
            proof,
            b64_decode(log.checkpoint.root),
        )
    assert message == (
        f"breaches.json breach 1 (log index {breach['index']}): the inclusion proof does not"
        f" verify against the checkpoint: {mismatch.value}"
    )


def test_a_breach_moved_to_another_case_is_refused(app, scripted, pack):
    _, _, _, files = pack
    breach = json.loads(files[BREACHES])["breaches"][0]

    def edit(document):
        document["breaches"][0]["case_id"] = scripted.cases["D"]

    assert _refusal(app, _edited(files, BREACHES, edit)) == (
        f"breaches.json breach 0 (log index {breach['index']}): the log entry is not the"
        f" deadline_breached entry of case {scripted.cases['D']} (ack, due"
        " 2026-03-03T14:00:00Z, logged 2026-03-03T14:30:00Z)"
    )


def test_a_breach_left_out_is_refused(app, pack):
    _, _, _, files = pack
    indexes = [b["index"] for b in json.loads(files[BREACHES])["breaches"]]

    def edit(document):
        del document["breaches"][1]

    assert _refusal(app, _edited(files, BREACHES, edit)) == (
        f"breaches.json lists the entries at log indexes [{indexes[0]}], but the log has the"
        f" breaches of these cases at {indexes}"
    )


def test_an_edited_figure_is_refused(app, pack):
    _, _, _, files = pack

    def edit(document):
        document["platforms"][0]["acknowledgement"]["missed"] -= 1

    assert _refusal(app, _edited(files, FIGURES, edit)) == (
        "figures.json differs from the figures recomputed from log.bundle at"
        " platforms[0].acknowledgement.missed: 1 in the file, 2 recomputed"
    )


def test_an_edited_checkpoint_is_refused(app, pack):
    _, log, _, files = pack
    size = log.checkpoint.size
    edited = files[CHECKPOINT].replace(f"\n{size}\n", f"\n{size - 1}\n", 1)
    assert edited != files[CHECKPOINT]
    assert _refusal(app, {**files, CHECKPOINT: edited}) == (
        "checkpoint.txt is not the checkpoint log.bundle verified against"
    )


def test_an_edited_bundle_checkpoint_is_refused(app, pack):
    _, log, _, files = pack
    size = log.checkpoint.size

    def edit(document):
        document["checkpoint"] = document["checkpoint"].replace(f"\n{size}\n", f"\n{size - 1}\n")

    message = _refusal(app, _edited(files, "log.bundle", edit))
    assert message.startswith("log.bundle does not verify: "), message


def test_what_is_not_a_pack_is_a_usage_problem(app, pack):
    _, _, _, files = pack
    with pytest.raises(PackFormatError, match=r"^not an evidence pack: figures.json missing$"):
        check_pack({k: v for k, v in files.items() if k != FIGURES}, _keys(app))
    with pytest.raises(PackFormatError, match=r"^breaches.json is not JSON: "):
        check_pack({**files, BREACHES: "{"}, _keys(app))
