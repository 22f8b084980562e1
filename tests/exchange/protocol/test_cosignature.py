"""C2SP tlog-cosignature/v1, checked against tlog-scales, an implementation that is not ours."""

import re

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from tlog_scales.signing import Ed25519CosignatureVerifier, NoteSignature, Vkey
from tlog_scales.tlog import Checkpoint as ScalesCheckpoint

from exchange.protocol import cosignature
from exchange.protocol.checkpoint import Checkpoint, sign_checkpoint
from exchange.protocol.cosignature import (
    CosignatureSignatureError,
    MalformedWitnessKeyError,
    WitnessKey,
    cosign,
    parse_witness_vkey,
    verify_cosignatures,
    witness_vkey,
)
from keys.b64 import b64_decode, b64_encode

LOG = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
WITNESS = Ed25519PrivateKey.from_private_bytes(bytes(range(1, 33)))
ORIGIN = "example.com/behind-the-sofa"
ROOT = b64_decode("CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=")


def _signed() -> str:
    return sign_checkpoint(Checkpoint(ORIGIN, 20852163, ROOT), ORIGIN, LOG)


def test_the_signed_message_is_the_spec_s_example_layout():
    text = Checkpoint(ORIGIN, 20852163, ROOT).format()
    assert cosignature.signed_message(text, 1679315147) == (
        b"cosignature/v1\ntime 1679315147\nexample.com/behind-the-sofa\n20852163\n"
        b"CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
    )


def test_key_id_and_vkey_agree_with_tlog_scales():
    ours = witness_vkey("witness.example.com/w1", WITNESS.public_key())
    theirs = Vkey("witness.example.com/w1", None, 4, WITNESS.public_key().public_bytes_raw())
    assert ours == theirs.serialize()
    assert parse_witness_vkey(ours).key_id == theirs.key_id.to_bytes(4, "big")


def test_tlog_scales_verifies_our_cosignature():
    signed = _signed()
    line = cosign(Checkpoint(ORIGIN, 20852163, ROOT).format(), "w.example/1", WITNESS, 1679315147)
    parsed = ScalesCheckpoint.from_text(signed + line)
    vkey = Vkey.from_string(witness_vkey("w.example/1", WITNESS.public_key()))
    (theirs,) = [s for s in parsed.signatures if vkey.match(s)]
    Ed25519CosignatureVerifier(vkey).verify_note(theirs, parsed)  # raises if invalid
    assert Ed25519CosignatureVerifier.get_timestamp(theirs.payload) == 1679315147


def test_we_verify_a_tlog_scales_cosignature():
    signed = _signed()
    vkey = Vkey("w.example/2", None, 4, WITNESS.public_key().public_bytes_raw())
    # tlog-scales has no Ed25519 cosigner; build its wire line with its own types.
    message = cosignature.signed_message(Checkpoint(ORIGIN, 20852163, ROOT).format(), 42)
    payload = (42).to_bytes(8, "big") + WITNESS.sign(message)
    line = NoteSignature.from_vkey_signature(vkey, payload).serialize() + "\n"
    found = verify_cosignatures(signed + line, [parse_witness_vkey(vkey.serialize())])
    assert list(found) == ["w.example/2"]
    assert found["w.example/2"].timestamp == 42
    assert found["w.example/2"].line == line


def test_lines_by_other_keys_are_ignored_and_the_log_signature_is_not_a_cosignature():
    signed = _signed()
    other = Ed25519PrivateKey.generate()
    line = cosign(Checkpoint(ORIGIN, 20852163, ROOT).format(), "w.example/1", other, 1)
    pinned = WitnessKey("w.example/1", WITNESS.public_key())
    assert verify_cosignatures(signed + line, [pinned]) == {}
    # The log's own key, pinned as a witness under the log's name, does not match: the
    # key id of a cosignature key differs (0x04 instead of 0x01).
    assert verify_cosignatures(signed, [WitnessKey(ORIGIN, LOG.public_key())]) == {}


def test_a_forged_cosignature_by_a_pinned_witness_is_refused():
    signed = _signed()
    line = cosign(Checkpoint(ORIGIN, 20852163, ROOT).format(), "w.example/1", WITNESS, 7)
    name, encoded = line[2:-1].split(" ")
    raw = bytearray(b64_decode(encoded))
    raw[-1] ^= 1
    forged = f"\u2014 {name} {b64_encode(bytes(raw))}\n"
    pinned = WitnessKey("w.example/1", WITNESS.public_key())
    with pytest.raises(
        CosignatureSignatureError, match=re.escape("cosignature by w.example/1 does not verify")
    ):
        verify_cosignatures(signed + forged, [pinned])
    # A cosignature of another checkpoint moved onto this one is a forgery too.
    moved = cosign(Checkpoint(ORIGIN, 20852164, ROOT).format(), "w.example/1", WITNESS, 7)
    with pytest.raises(CosignatureSignatureError):
        verify_cosignatures(signed + moved, [pinned])


@pytest.mark.parametrize(
    ("vkey", "message"),
    [
        ("w+0000", "witness key is not <name>+<key id>+<key>"),
        ("w+ABCDEF01+BA==", "is not 8 lowercase hex digits"),
        ("w+abcdef01+AQ" + "A" * 42, "is not type 0x04"),
    ],
)
def test_malformed_witness_keys(vkey, message):
    with pytest.raises(MalformedWitnessKeyError, match=re.escape(message)):
        parse_witness_vkey(vkey)


def test_a_key_id_that_does_not_match_is_refused():
    good = witness_vkey("w.example/1", WITNESS.public_key())
    name, _, key = good.split("+", 2)
    with pytest.raises(MalformedWitnessKeyError, match="does not match the key and name"):
        parse_witness_vkey(f"{name}+00000000+{key}")
