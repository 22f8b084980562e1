"""docs/protocol.md stays true: its worked example opens with the real code, its keys are
what they claim, and its refusal table lists every error code."""

import hashlib
import importlib.util
import inspect
import json
import re
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.keywrap import aes_key_unwrap

from exchange.protocol import envelope as env
from exchange.protocol.envelope import errors
from exchange.protocol.envelope.canonical import canonical, sha256_b64url
from exchange.protocol.envelope.jose import RECORD_TYP, sign_compact
from keys import b64url_decode, load_jwks, public_jwk, thumbprint

DOCS = Path(__file__).resolve().parents[2] / "docs"
DOC = DOCS / "protocol.md"
BLOCK_RE = re.compile(r"<!-- example: ([a-z-]+) -->\n```[a-z]*\n(.*?)\n```\n", re.DOTALL)
ROW_RE = re.compile(r"^\| `([a-z0-9-]+)` \| ([^|\n]+) \| `?([a-z0-9-]+|—)`? \|", re.MULTILINE)
PLATFORM = "example-platform"
AGENCY = "example-agency"


@pytest.fixture(scope="module")
def generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("protocol_example", DOCS / "protocol_example.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def text() -> str:
    return DOC.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def region(text: str, generator: ModuleType) -> str:
    assert text.count(generator.BEGIN) == 1
    assert text.count(generator.END) == 1
    return text[text.index(generator.BEGIN) : text.index(generator.END)]


@pytest.fixture(scope="module")
def blocks(region: str) -> dict[str, str]:
    found = BLOCK_RE.findall(region)
    names = [name for name, _ in found]
    assert len(names) == len(set(names)), "an example block label is used twice"
    return dict(found)


def _json(blocks: dict[str, str], name: str) -> Any:
    return json.loads(blocks[name])


def _private_keys(jwks: dict[str, Any]) -> tuple[Ed25519PrivateKey, X25519PrivateKey]:
    signing, encryption = jwks["keys"]
    return (
        Ed25519PrivateKey.from_private_bytes(b64url_decode(signing["d"])),
        X25519PrivateKey.from_private_bytes(b64url_decode(encryption["d"])),
    )


def _signing_keys(jwks: dict[str, Any]) -> dict[str, Ed25519PublicKey]:
    public = {"keys": [{k: v for k, v in jwk.items() if k != "d"} for jwk in jwks["keys"]]}
    return {kid: key for kid, key in load_jwks(public).items() if isinstance(key, Ed25519PublicKey)}


@pytest.fixture(scope="module")
def opened(blocks: dict[str, str]) -> env.OpenedRecord:
    _, platform_key = _private_keys(_json(blocks, "platform-keys"))
    sealed = env.Envelope.from_json(_json(blocks, "envelope"))
    return env.open(sealed, platform_key, _signing_keys(_json(blocks, "agency-keys")), PLATFORM)


def test_the_generated_region_holds_every_example(blocks: dict[str, str]) -> None:
    assert set(blocks) == {
        "agency-keys",
        "platform-keys",
        "record",
        "record-canonical",
        "record-jws",
        "jwe",
        "statement-payload",
        "statement",
        "envelope",
        "receipt-payload",
        "receipt-envelope",
    }


@pytest.mark.parametrize("party", ["agency-keys", "platform-keys"])
def test_the_example_keys_are_what_they_claim(
    blocks: dict[str, str], generator: ModuleType, party: str
) -> None:
    jwks = _json(blocks, party)
    private: tuple[Ed25519PrivateKey | X25519PrivateKey, ...] = _private_keys(jwks)
    for jwk, key in zip(jwks["keys"], private, strict=True):
        assert jwk["kid"] == thumbprint(jwk)
        assert {k: v for k, v in jwk.items() if k != "d"} == public_jwk(key.public_key())
    expected = generator.AGENCY if party == "agency-keys" else generator.PLATFORM
    assert jwks == expected.private_jwks(), "keys not derived from the documented seeds"


def test_the_envelope_opens_to_the_shown_record(
    blocks: dict[str, str], opened: env.OpenedRecord
) -> None:
    record = _json(blocks, "record")
    assert opened.record == record
    assert opened.record_jws == blocks["record-jws"]
    assert opened.statement.payload == _json(blocks, "statement-payload")
    assert opened.statement.token == blocks["statement"]
    assert _json(blocks, "envelope")["jwe"] == _json(blocks, "jwe")
    assert blocks["record-canonical"].encode() == canonical(record)


def test_the_sender_can_read_its_own_case(blocks: dict[str, str]) -> None:
    _, agency_key = _private_keys(_json(blocks, "agency-keys"))
    sealed = env.Envelope.from_json(_json(blocks, "envelope"))
    agency_signing = _signing_keys(_json(blocks, "agency-keys"))
    assert env.open(sealed, agency_key, agency_signing, AGENCY).record == _json(blocks, "record")


def test_the_record_and_inner_jws_are_reproducible(
    blocks: dict[str, str], generator: ModuleType
) -> None:
    record = generator.case_record()
    assert _json(blocks, "record") == record
    signing_key, _ = _private_keys(_json(blocks, "agency-keys"))
    assert sign_compact(canonical(record), signing_key, RECORD_TYP) == blocks["record-jws"]


def test_the_stated_lengths_and_digests_are_right(
    blocks: dict[str, str], region: str, opened: env.OpenedRecord
) -> None:
    jwe_bytes = canonical(_json(blocks, "jwe"))
    assert f"({len(canonical(opened.record))} bytes)" in region
    assert f"these {len(opened.record_jws)} ASCII bytes" in region
    assert f"`{opened.record_sha256}`" in region
    assert f"its {len(jwe_bytes)} canonical bytes) = `{sha256_b64url(jwe_bytes)}`" in region


def test_the_receipt_verifies(blocks: dict[str, str], opened: env.OpenedRecord) -> None:
    receipt = env.Envelope.from_json(_json(blocks, "receipt-envelope"))
    assert receipt.jwe is None
    platform_signing = _signing_keys(_json(blocks, "platform-keys"))
    verified = env.verify_statement(receipt, platform_signing)
    assert verified.payload == _json(blocks, "receipt-payload")
    assert verified.payload["meta"]["record_sha256"] == opened.record_sha256
    assert verified.payload["in_reply_to"] == opened.statement.handoff_id


def test_the_documented_primitives_decrypt_the_example(blocks: dict[str, str]) -> None:
    """§2's thumbprint and §5's Concat KDF, AES key wrap and AAD, done by hand."""
    _, platform_key = _private_keys(_json(blocks, "platform-keys"))
    for jwk in _json(blocks, "platform-keys")["keys"]:
        members = f'{{"crv":"{jwk["crv"]}","kty":"OKP","x":"{jwk["x"]}"}}'
        assert hashlib.sha256(members.encode()).digest() == b64url_decode(jwk["kid"])
    jwe = _json(blocks, "jwe")
    entry = jwe["recipients"][0]
    epk = X25519PublicKey.from_public_bytes(b64url_decode(entry["header"]["epk"]["x"]))
    shared = platform_key.exchange(epk)
    other_info = b"\0\0\0\x0eECDH-ES+A256KW" + b"\0" * 8 + b"\0\0\x01\0"
    kek = hashlib.sha256(b"\0\0\0\x01" + shared + other_info).digest()
    cek = aes_key_unwrap(kek, b64url_decode(entry["encrypted_key"]))
    sealed = b64url_decode(jwe["ciphertext"]) + b64url_decode(jwe["tag"])
    plaintext = AESGCM(cek).decrypt(b64url_decode(jwe["iv"]), sealed, jwe["protected"].encode())
    assert plaintext.decode("ascii") == blocks["record-jws"]


def _error_classes() -> list[type[errors.EnvelopeError]]:
    return [
        cls
        for _, cls in inspect.getmembers(errors, inspect.isclass)
        if issubclass(cls, errors.EnvelopeError)
    ]


def test_the_refusal_table_lists_every_code_with_its_title_and_parent(text: str) -> None:
    section = text[text.index("### Refusal codes") : text.index("## 9. Limits")]
    rows = {code: (title.strip(), parent) for code, title, parent in ROW_RE.findall(section)}
    documented = {}
    for cls in _error_classes():
        base = cls.__mro__[1]
        parent = base.code if issubclass(base, errors.EnvelopeError) else "—"
        documented[cls.code] = (cls.title, parent)
    assert rows == documented


def test_the_generator_rewrites_only_its_region(text: str, generator: ModuleType) -> None:
    rewritten = generator.rewrite(text, "replaced\n")
    before, after = text.split(generator.BEGIN)[0], text.split(generator.END)[1]
    assert rewritten == f"{before}{generator.BEGIN}\nreplaced\n{generator.END}{after}"
