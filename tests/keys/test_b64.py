import base64
import binascii

import pytest
from hypothesis import given
from hypothesis import strategies as st

from keys import NonCanonicalBase64Error, b64url_decode, b64url_encode
from keys.b64 import is_canonical_b64url


@pytest.mark.parametrize("data", [b"", b"\x00", b"ab", b"abc", bytes(range(256))])
def test_round_trip(data):
    assert b64url_decode(b64url_encode(data)) == data


@pytest.mark.parametrize(
    "text",
    [
        "YQ==",  # padding
        "YR",  # trailing bits set: "a" is YQ
        "Y",  # impossible length
        "Y+8",  # standard alphabet
        "Y Q",  # whitespace
        "YQ\n",
    ],
)
def test_refuses_non_canonical(text):
    with pytest.raises(NonCanonicalBase64Error):
        b64url_decode(text)


def _reference(text: str) -> bytes | None:
    """The bytes whose one unpadded base64url spelling is `text`, if any: decode leniently,
    then the re-encoding must give back the text."""
    try:
        data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        return None
    return data if b64url_encode(data) == text else None


near_base64url = st.text(
    alphabet=st.sampled_from([*"AQgwYRz09_-", "+", "/", "=", " ", "\n", "é", "\x00"]), max_size=12
) | st.binary(max_size=40).map(b64url_encode)


@given(near_base64url)
def test_decodes_exactly_the_canonical_spellings(text: str) -> None:
    expected = _reference(text)
    if expected is None:
        with pytest.raises(NonCanonicalBase64Error):
            b64url_decode(text)
    else:
        assert b64url_decode(text) == expected
        assert is_canonical_b64url(text)
