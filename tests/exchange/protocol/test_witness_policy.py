"""Witness policies: the Sigsum/torchwood text format, strict parsing, quorum evaluation."""

import re

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from exchange.protocol import note
from exchange.protocol.checkpoint import Checkpoint, sign_checkpoint
from exchange.protocol.cosignature import cosign, witness_vkey
from exchange.protocol.witness_policy import (
    PolicyError,
    QuorumError,
    describe_quorum,
    parse_policy,
    require_quorum,
)

LOG = Ed25519PrivateKey.generate()
KEYS = {n: Ed25519PrivateKey.generate() for n in ("w1", "w2", "w3")}
ORIGIN = "hotline.test/log"


def _vkey(name: str) -> str:
    return witness_vkey(f"{name}.example", KEYS[name].public_key())


def _policy(quorum: str = "q", group: str = "group q 2 w1 w2 w3") -> str:
    return (
        f"# pinned by the court\nlog {note.verifier_key(ORIGIN, LOG.public_key())}\n"
        + "".join(f"witness {n} {_vkey(n)} http://{n}.example\n" for n in KEYS)
        + f"{group}\nquorum {quorum}\n"
    )


def test_a_policy_is_parsed_whole():
    policy = parse_policy(_policy())
    assert policy.log_keys == (note.verifier_key(ORIGIN, LOG.public_key()),)
    assert sorted(policy.witnesses) == ["w1", "w2", "w3"]
    assert policy.witnesses["w2"].url == "http://w2.example"
    assert policy.groups["q"].threshold == 2
    assert describe_quorum(policy) == "2 of (w1, w2, w3)"


@pytest.mark.parametrize(
    ("cosigned", "satisfied"),
    [((), False), (("w1",), False), (("w1", "w3"), True), (("w1", "w2", "w3"), True)],
)
def test_two_of_three(cosigned, satisfied):
    assert parse_policy(_policy()).satisfied_by(cosigned) is satisfied


def test_nested_groups_and_all_and_any():
    text = _policy(quorum="top", group="group a all w1 w2\ngroup b any w3\ngroup top all a b")
    policy = parse_policy(text)
    assert policy.satisfied_by(["w1", "w2", "w3"])
    assert not policy.satisfied_by(["w1", "w3"])
    assert describe_quorum(policy) == "2 of (2 of (w1, w2), 1 of (w3))"


def test_quorum_none_needs_nothing():
    assert parse_policy(_policy(quorum="none")).satisfied_by([])


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("witness w1 x+y\nquorum w1\n", "line 1: witness key is not"),
        ("group g 1 w9\nquorum g\n", "line 1: group member 'w9' is not defined above"),
        ("quorum w1\n", "line 1: quorum 'w1' is not defined above"),
        ("frobnicate\nquorum none\n", "line 1: cannot read 'frobnicate'"),
        ("log not-a-key\nquorum none\n", "line 1: verifier key is not"),
        ("", "policy has no quorum line"),
    ],
)
def test_malformed_policies_are_refused_with_their_line(text, message):
    with pytest.raises(PolicyError, match=re.escape(message)):
        parse_policy(text)


def test_thresholds_out_of_range_duplicates_and_second_quorum():
    with pytest.raises(PolicyError, match=re.escape("line 6: threshold 4 is outside 1..3")):
        parse_policy(_policy(group="group q 4 w1 w2 w3"))
    with pytest.raises(PolicyError, match=re.escape("threshold '02' is not all, any")):
        parse_policy(_policy(group="group q 02 w1 w2 w3"))
    with pytest.raises(PolicyError, match=re.escape("line 6: name 'w1' is already defined")):
        parse_policy(_policy(group="group w1 1 w2"))
    with pytest.raises(PolicyError, match=re.escape("line 8: a second quorum line")):
        parse_policy(_policy(group="group q 1 w1\nquorum q"))


def _cosigned(*names: str) -> str:
    checkpoint = Checkpoint(ORIGIN, 5, bytes(32))
    signed = sign_checkpoint(checkpoint, ORIGIN, LOG)
    return signed + "".join(
        cosign(checkpoint.format(), f"{n}.example", KEYS[n], 1700000000) for n in names
    )


def test_require_quorum_returns_who_cosigned():
    assert require_quorum(_cosigned("w3", "w1"), parse_policy(_policy())) == ["w1", "w3"]


def test_require_quorum_refuses_with_who_signed_and_what_was_needed():
    with pytest.raises(QuorumError) as refused:
        require_quorum(_cosigned("w2"), parse_policy(_policy()))
    assert str(refused.value) == (
        "checkpoint lacks a witness quorum: cosigned by w2; the policy needs 2 of (w1, w2, w3)"
    )
    with pytest.raises(QuorumError, match="cosigned by no pinned witness;"):
        require_quorum(_cosigned(), parse_policy(_policy()))
