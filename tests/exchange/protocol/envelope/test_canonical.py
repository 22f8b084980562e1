"""RFC 8785: the fast path (C json codec) writes and accepts exactly what the reference
`rfc8785` package writes and accepts."""

import json
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from exchange.protocol.envelope.canonical import (
    _parse_canonical_reference,
    canonical,
    parse_canonical_object,
)
from exchange.protocol.envelope.errors import EnvelopeError
from exchange.protocol.envelope.structures import Envelope


@dataclass
class Point:
    x: int
    y: int


# JSON as RFC 8785 can express it: integers in the safe range, any text, no floats.
SCALARS = st.none() | st.booleans() | st.integers(-(2**53) + 1, 2**53 - 1) | st.text(max_size=20)
VALUES = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
OBJECTS = st.dictionaries(st.text(max_size=8), VALUES, max_size=6)


def _reference(data: bytes) -> dict | None:
    try:
        return _parse_canonical_reference(data, "x")
    except (EnvelopeError, ValueError):
        return None


def _fast(data: bytes) -> dict | None:
    try:
        return parse_canonical_object(data, "x")
    except EnvelopeError:
        return None


@settings(max_examples=400, deadline=None)
@given(OBJECTS)
def test_canonical_text_is_accepted_and_means_the_same(value):
    data = rfc8785.dumps(value)
    assert parse_canonical_object(data, "x") == value


@settings(max_examples=400, deadline=None)
@given(OBJECTS, st.sampled_from(["sorted", "spaced", "ascii", "unsorted", "float"]))
def test_the_fast_path_decides_as_the_reference(value, spelling):
    if spelling == "float":
        value = {**value, "f": 1.5}
    data = json.dumps(
        value,
        sort_keys=spelling != "unsorted",
        separators=(", ", ": ") if spelling == "spaced" else (",", ":"),
        ensure_ascii=spelling == "ascii",
    ).encode()
    assert _fast(data) == _reference(data)


@pytest.mark.parametrize(
    "text",
    [
        '{"a":1,"a":2}',
        '{"a":NaN}',
        '{"a":9007199254740992}',
        '{"a":"\\ud800"}',
        '{"b":1,"a":2}',
        '{"a":1.0}',
        ' {"a":1}',
        '{"\\u00e9":1}',
        '{"a":"\\u001F"}',
    ],
)
def test_non_canonical_or_ambiguous_json_is_refused(text):
    with pytest.raises(EnvelopeError):
        parse_canonical_object(text.encode(), "x")


@settings(max_examples=400, deadline=None)
@given(OBJECTS, st.sampled_from([None, 1.5, 1e21, -0.0, 2**53, -(2**60)]))
def test_canonical_writes_what_the_reference_writes(value, extra):
    """The C codec's spelling where it is exact; floats and unsafe integers go to rfc8785."""
    if extra is not None:
        value = {**value, "extra": extra}
    try:
        expected = rfc8785.dumps(value)
    except rfc8785.IntegerDomainError:
        with pytest.raises(rfc8785.IntegerDomainError):
            canonical(value)
    else:
        assert canonical(value) == expected


@given(st.text(max_size=40), st.none() | OBJECTS)
def test_an_envelopes_canonical_bytes_are_the_reference_spelling_of_its_json(statement, jwe):
    """`Envelope.canonical_bytes` is put together around the JWE's canonical bytes (worked
    out once per envelope); it must be exactly what `rfc8785` writes for the envelope."""
    envelope = Envelope(statement, jwe)
    assert envelope.canonical_bytes == rfc8785.dumps(envelope.to_json())
    assert envelope.jwe_bytes == (rfc8785.dumps(jwe) if jwe is not None else None)


def test_every_ascii_character_is_written_as_the_reference_writes_it():
    """The fast path's escapes are orjson's: each of the 128 in a value and in a key."""
    for code in range(128):
        character = chr(code)
        value = {character: character, "k": f"a{character}b"}
        assert canonical(value) == rfc8785.dumps(value), repr(character)


@pytest.mark.parametrize(
    ("value", "error"),
    [
        ({"when": datetime(2026, 12, 7, tzinfo=UTC)}, rfc8785.CanonicalizationError),
        ({"what": Point(1, 2)}, rfc8785.CanonicalizationError),
        ({"bytes": b"x"}, rfc8785.CanonicalizationError),
        ({"big": 2**53}, rfc8785.IntegerDomainError),
        # Python's json wrote {"1":2} here; RFC 8785 has no rule for a non-string key.
        ({1: 2}, rfc8785.CanonicalizationError),
    ],
    ids=["datetime", "dataclass", "bytes", "unsafe-integer", "integer-key"],
)
def test_what_json_cannot_express_is_refused_as_the_reference_refuses_it(value, error):
    with pytest.raises(error):
        rfc8785.dumps(value)
    with pytest.raises(error):
        canonical(value)
