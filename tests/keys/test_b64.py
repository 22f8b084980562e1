import pytest

from keys import NonCanonicalBase64Error, b64url_decode, b64url_encode


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
