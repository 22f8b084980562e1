"""Hypothesis: any single-byte change anywhere in a sealed envelope is refused.

The wire schemas' `load(dump(x)) == x` properties live in tests/schemas/test_roundtrip.py
and are not repeated. This is the envelope's: take a sealed envelope's JSON serialisation
(RFC 8785, so no insignificant whitespace a change could hide in), replace one byte by
any other, and both the server's check (`verify_statement`) and the recipient's
(`open`) refuse it with an `EnvelopeError`, unless it is not even JSON any more. Never
accepted, and never another exception.
"""

import json
from typing import Any

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from exchange.protocol import envelope as env
from exchange.protocol.envelope import EnvelopeError
from exchange.protocol.envelope.canonical import canonical
from keys import Identity
from tests.schemas import examples

AGENCY = Identity.generate()
PLATFORM = Identity.generate()


def _sealed() -> bytes:
    record = examples.case_record()
    record["sender"] = {
        "org": examples.AGENCY,
        "official": examples.AGENCY_OFFICIAL,
        "kid": AGENCY.signing_kid,
    }
    sealed = env.seal(
        record,
        AGENCY.signing_key,
        [PLATFORM.encryption_public_key, AGENCY.encryption_public_key],
    )
    return canonical(sealed.to_json())


ORIGINAL = _sealed()
SENDER_KEYS = {AGENCY.signing_kid: AGENCY.signing_public_key}


def _open(document: Any) -> None:
    envelope = env.Envelope.from_json(document)
    env.verify_statement(envelope, SENDER_KEYS)
    env.open(envelope, PLATFORM.encryption_key, SENDER_KEYS, examples.PLATFORM)


def test_the_original_opens():
    """The control: unchanged, the bytes verify and open."""
    _open(json.loads(ORIGINAL))


@st.composite
def one_byte_changed(draw: st.DrawFn) -> tuple[int, bytes]:
    position = draw(st.integers(min_value=0, max_value=len(ORIGINAL) - 1))
    # Mostly bytes that keep the JSON parsing (base64url, structure), sometimes any byte.
    likely = st.sampled_from(b'ABCXYZabcxyz0189-_=+/.:,"{}[] ')
    value = draw(
        st.one_of(likely, st.integers(min_value=0, max_value=255)).filter(
            lambda b: b != ORIGINAL[position]
        )
    )
    return position, ORIGINAL[:position] + bytes([value]) + ORIGINAL[position + 1 :]


@settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(changed=one_byte_changed())
def test_any_single_byte_change_is_refused(changed):
    position, data = changed
    try:
        document = json.loads(data)
    except ValueError:  # includes UnicodeDecodeError: not JSON, nothing to open
        event("not JSON")
        return
    event("parsed")
    for check in ("verify_statement", "open"):
        try:
            envelope = env.Envelope.from_json(document)
            if check == "verify_statement":
                env.verify_statement(envelope, SENDER_KEYS)
            else:
                env.open(envelope, PLATFORM.encryption_key, SENDER_KEYS, examples.PLATFORM)
        except EnvelopeError:
            continue
        raise AssertionError(
            f"{check} accepted a change at byte {position}: {data[position : position + 1]!r}"
        )


def test_a_change_in_every_member_is_refused():
    """Not left to chance: one change in each member of the envelope, at its middle."""
    document = json.loads(ORIGINAL)
    members = {"statement": document["statement"]}
    members |= {f"jwe.{k}": v for k, v in document["jwe"].items() if isinstance(v, str)}
    for i, recipient in enumerate(document["jwe"]["recipients"]):
        members[f"recipient {i} encrypted_key"] = recipient["encrypted_key"]
        members[f"recipient {i} kid"] = recipient["header"]["kid"]
        members[f"recipient {i} epk.x"] = recipient["header"]["epk"]["x"]
    for name, value in members.items():
        start = ORIGINAL.index(value.encode())
        position = start + len(value) // 2
        replacement = b"A" if ORIGINAL[position : position + 1] != b"A" else b"B"
        data = ORIGINAL[:position] + replacement + ORIGINAL[position + 1 :]
        try:
            _open(json.loads(data))
        except EnvelopeError:
            continue
        raise AssertionError(f"a change in {name} was accepted")
