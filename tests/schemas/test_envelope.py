"""The envelope and the JWE structure it carries."""

from typing import Any

import pytest

from schemas.envelope import (
    MAX_JWE_CIPHERTEXT_CHARS,
    MAX_JWE_RECIPIENTS,
    MAX_STATEMENT_CHARS,
    EnvelopeSchema,
    JweSchema,
)
from tests.schemas.examples import b64url, digest, envelope, jwe, signed_only_envelope
from tests.schemas.helpers import load_errors, loads

ENVELOPE = EnvelopeSchema()
JWE = JweSchema()
JWS_ERROR = ["Not a compact JWS (three base64url segments joined by dots)."]


def recipient(n: int) -> dict[str, Any]:
    first = jwe()["recipients"][0]
    return {**first, "header": {**first["header"], "kid": digest(f"key {n}")}}


def test_the_examples_load_unchanged() -> None:
    assert loads(ENVELOPE, envelope())
    assert loads(ENVELOPE, signed_only_envelope())
    assert loads(JWE, jwe())


def test_envelope_members_are_required_and_strict() -> None:
    assert load_errors(ENVELOPE, {"statement": envelope()["statement"]}) == {
        "jwe": ["Missing data for required field."]
    }
    assert load_errors(ENVELOPE, {**envelope(), "record": "x"}) == {"record": ["Unknown field."]}


@pytest.mark.parametrize(
    "statement",
    [
        "a.b",
        "a.b.c.d",
        "a..c",
        ".b.c",
        "a.b.",
        "a.b.c\n",
        "a=.b.c",
        "a b.c.d",
        "eyJ+.b.c",
    ],
)
def test_statement_must_be_a_compact_jws(statement: str) -> None:
    assert load_errors(ENVELOPE, {**envelope(), "statement": statement}) == {"statement": JWS_ERROR}


def test_statement_segments_must_be_canonical() -> None:
    head, payload, signature = envelope()["statement"].split(".")
    assert signature.endswith("A")
    bad = f"{head}.{payload}.{signature[:-1]}B"
    assert load_errors(ENVELOPE, {**envelope(), "statement": bad}) == {
        "statement": ["A JWS segment is not canonical unpadded base64url."]
    }


def test_statement_size_cap() -> None:
    def token(length: int) -> str:
        return "eyJh." + "A" * (length - 5 - 87) + "." + "A" * 86

    assert len(token(MAX_STATEMENT_CHARS)) == MAX_STATEMENT_CHARS
    assert loads(ENVELOPE, {**envelope(), "statement": token(MAX_STATEMENT_CHARS)})
    assert load_errors(ENVELOPE, {**envelope(), "statement": token(MAX_STATEMENT_CHARS + 4)}) == {
        "statement": [f"Length must be between 1 and {MAX_STATEMENT_CHARS}."]
    }


# --- JWE ------------------------------------------------------------------------------------------


def test_jwe_unknown_members_are_refused_everywhere() -> None:
    document = jwe()
    document["aad"] = "eA"
    document["recipients"][0]["extra"] = 1
    document["recipients"][0]["header"]["enc"] = "A256GCM"
    document["recipients"][1]["header"]["epk"]["d"] = b64url(bytes(32))
    assert load_errors(JWE, document) == {
        "aad": ["Unknown field."],
        "recipients": {
            0: {"extra": ["Unknown field."], "header": {"enc": ["Unknown field."]}},
            1: {"header": {"epk": {"d": ["Unknown field."]}}},
        },
    }


def test_jwe_errors_are_reported_inside_the_envelope() -> None:
    document = envelope()
    document["jwe"]["unprotected"] = {}
    assert load_errors(ENVELOPE, document) == {"jwe": {"unprotected": ["Unknown field."]}}


def test_jwe_algorithm_and_key_type_are_fixed() -> None:
    document = jwe()
    header = document["recipients"][0]["header"]
    header["alg"] = "RSA-OAEP"
    header["epk"]["kty"] = "EC"
    header["epk"]["crv"] = "P-256"
    assert load_errors(JWE, document) == {
        "recipients": {
            0: {
                "header": {
                    "alg": ['Must be "ECDH-ES+A256KW".'],
                    "epk": {"kty": ['Must be "OKP".'], "crv": ['Must be "X25519".']},
                }
            }
        }
    }


def test_jwe_epk_is_a_32_byte_key() -> None:
    document = jwe()
    document["recipients"][0]["header"]["epk"]["x"] = b64url(bytes(33))
    document["recipients"][1]["header"]["epk"]["x"] = "A" * 42 + "B"
    assert load_errors(JWE, document) == {
        "recipients": {
            0: {"header": {"epk": {"x": ["Length must be 43."]}}},
            1: {"header": {"epk": {"x": ["Not canonical unpadded base64url."]}}},
        }
    }


def test_jwe_recipients_cap_and_unique_kids() -> None:
    many = [recipient(n) for n in range(MAX_JWE_RECIPIENTS)]
    assert loads(JWE, {**jwe(), "recipients": many})
    assert load_errors(JWE, {**jwe(), "recipients": [*many, recipient(64)]}) == {
        "recipients": [f"Length must be between 1 and {MAX_JWE_RECIPIENTS}."]
    }
    assert load_errors(JWE, {**jwe(), "recipients": []}) == {
        "recipients": [f"Length must be between 1 and {MAX_JWE_RECIPIENTS}."]
    }
    twice = [recipient(1), recipient(2), recipient(1)]
    assert load_errors(JWE, {**jwe(), "recipients": twice}) == {
        "recipients": {2: {"header": {"kid": ["Duplicate recipient kid."]}}}
    }


@pytest.mark.parametrize("member", ["protected", "iv", "ciphertext", "tag"])
def test_jwe_parts_are_canonical_base64url(member: str) -> None:
    for bad in ("QR", "QQ==", "a+b/", "Q"):
        assert load_errors(JWE, {**jwe(), member: bad}) == {
            member: ["Not canonical unpadded base64url."]
        }
    assert list(load_errors(JWE, {**jwe(), member: ""})) == [member]


def test_jwe_ciphertext_cap() -> None:
    assert loads(JWE, {**jwe(), "ciphertext": "A" * MAX_JWE_CIPHERTEXT_CHARS})
    assert load_errors(JWE, {**jwe(), "ciphertext": "A" * (MAX_JWE_CIPHERTEXT_CHARS + 4)}) == {
        "ciphertext": [f"Length must be between 1 and {MAX_JWE_CIPHERTEXT_CHARS}."]
    }
