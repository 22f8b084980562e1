"""Generate the worked example of docs/protocol.md: `python docs/protocol_example.py`.

Rewrites only the text between the BEGIN and END GENERATED EXAMPLE markers. The keys come
from fixed seeds and the ids and times are fixed, so the record, its canonical bytes and
the inner JWS (Ed25519 is deterministic) come out the same on every run; the JWE's
ephemeral keys, content key and IV are random, and so is everything that covers them.
"""

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from exchange.protocol import envelope as env
from exchange.protocol.envelope.canonical import canonical, sha256_b64url
from exchange.protocol.envelope.structures import RECORD_TYPE
from exchange.protocol.envelope.templates import EXAMPLE_AGENCY, EXAMPLE_PLATFORM, template
from keys import b64url_decode, b64url_encode, public_jwk
from schemas.enums import Kind

DOC = Path(__file__).with_name("protocol.md")
BEGIN = "<!-- BEGIN GENERATED EXAMPLE -->"
END = "<!-- END GENERATED EXAMPLE -->"

CASE_HANDOFF_ID = "6f9d2c4e-3b1a-4e8f-9c7d-2a5b8e1f0c3d"
CASE_ID = "0d8e4b2a-7c1f-4a3e-8b6d-9f2e5c1a7b40"
CASE_ISSUED_AT = "2026-03-02T09:30:00Z"
RECEIPT_HANDOFF_ID = "a3c5e7f9-1b2d-4f6a-8c0e-4d6f8a0b2c1e"
RECEIPT_ISSUED_AT = "2026-03-02T09:31:05Z"
RECEIVED_AT = "2026-03-02T09:31:04Z"


def seed(label: str) -> bytes:
    return hashlib.sha256(f"hotline example: {label}".encode()).digest()


@dataclass(frozen=True)
class Party:
    org: str
    official: str
    signing_key: Ed25519PrivateKey
    encryption_key: X25519PrivateKey

    @classmethod
    def example(cls, org: str, role: str) -> "Party":
        return cls(
            org,
            f"{org}-official",
            Ed25519PrivateKey.from_private_bytes(seed(f"{role} signing key")),
            X25519PrivateKey.from_private_bytes(seed(f"{role} encryption key")),
        )

    @property
    def signing_kid(self) -> str:
        return public_jwk(self.signing_key.public_key())["kid"]

    def sender(self) -> dict[str, str]:
        return {"org": self.org, "official": self.official, "kid": self.signing_kid}

    def private_jwks(self) -> dict[str, Any]:
        """Both keys as JWKs with their private part `d`: for the example only."""
        return {
            "keys": [
                {**public_jwk(key.public_key()), "d": b64url_encode(key.private_bytes_raw())}
                for key in (self.signing_key, self.encryption_key)
            ]
        }


AGENCY = Party.example(EXAMPLE_AGENCY, "agency")
PLATFORM = Party.example(EXAMPLE_PLATFORM, "platform")


def case_record() -> dict[str, Any]:
    """The template case with fixed ids, time and sender, as the agency signs it."""
    fixed = {
        "handoff_id": CASE_HANDOFF_ID,
        "case_id": CASE_ID,
        "issued_at": CASE_ISSUED_AT,
        "sender": AGENCY.sender(),
    }
    return {"typ": RECORD_TYPE, **template(Kind.CASE), **fixed}


def receipt_fields(record_sha256: str) -> dict[str, Any]:
    """The platform's receipt for the case, acknowledging the record it decrypted."""
    fixed = {
        "handoff_id": RECEIPT_HANDOFF_ID,
        "case_id": CASE_ID,
        "issued_at": RECEIPT_ISSUED_AT,
        "sender": PLATFORM.sender(),
        "in_reply_to": CASE_HANDOFF_ID,
        "meta": {
            "handoff_id": CASE_HANDOFF_ID,
            "record_sha256": record_sha256,
            "received_at": RECEIVED_AT,
        },
    }
    return {**template(Kind.RECEIPT), **fixed}


REGION = """\
<!-- Written by docs/protocol_example.py: do not edit by hand, re-run it. -->

### Example keys

> **Example keys only: never use them.** Their private parts (`d`) are published here, and
> each raw private key is the SHA-256 of a public seed,
> `"hotline example: <agency|platform> <signing|encryption> key"`.

The agency, `{agency.org}` (official `{agency.official}`):

{agency_keys}
The platform, `{platform.org}` (official `{platform.official}`):

{platform_keys}
### The case record

`templates.template(Kind.CASE)` with fixed ids, time and sender (member order is free;
only the canonical form below is signed):

{record}
Its RFC 8785 canonical form, the inner JWS payload ({record_length} bytes):

{record_canonical}
### The inner JWS

Protected header: `{record_header}`. With the same key and payload, any Ed25519 signer
produces exactly this compact JWS, the JWE plaintext:

{record_jws}
`record_sha256` = base64url(SHA-256 of these {record_jws_length} ASCII bytes) =
`{record_sha256}`.

### The JWE

Protected header: `{jwe_header}`. Recipient 0 is the platform's encryption key, recipient 1
the agency's own, so that the agency can read the case it sent.

{jwe}
`jwe_sha256` = base64url(SHA-256 of its {jwe_length} canonical bytes) = `{jwe_sha256}`.

### The statement

Protected header: `{statement_header}`. Payload, decoded (it is signed in canonical form):

{statement_payload}
The compact JWS:

{statement}
### The envelope as sent

{envelope}
### A receipt (signed only)

The platform acknowledges the case, signing with its own key; `meta.record_sha256` is the
`record_sha256` above. Payload, decoded:

{receipt_payload}
The envelope as sent:

{receipt_envelope}"""


def block(name: str, language: str, content: Any) -> str:
    """A fenced block the doc test finds by its `example:` label."""
    text = content if isinstance(content, str) else json.dumps(content, indent=2)
    return f"<!-- example: {name} -->\n```{language}\n{text}\n```\n"


def header(token: str) -> str:
    """The decoded protected header of a compact JWS, or of a JWE's `protected` member."""
    return b64url_decode(token.split(".")[0]).decode("ascii")


def render() -> str:
    record = case_record()
    sealed = env.seal(
        record,
        AGENCY.signing_key,
        [PLATFORM.encryption_key.public_key(), AGENCY.encryption_key.public_key()],
    )
    agency_keys = {AGENCY.signing_kid: AGENCY.signing_key.public_key()}
    opened = env.open(sealed, PLATFORM.encryption_key, agency_keys, PLATFORM.org)
    assert sealed.jwe is not None
    receipt = env.sign_statement(receipt_fields(opened.record_sha256), PLATFORM.signing_key)
    platform_keys = {PLATFORM.signing_kid: PLATFORM.signing_key.public_key()}
    return REGION.format(
        agency=AGENCY,
        platform=PLATFORM,
        agency_keys=block("agency-keys", "json", AGENCY.private_jwks()),
        platform_keys=block("platform-keys", "json", PLATFORM.private_jwks()),
        record=block("record", "json", record),
        record_length=len(canonical(record)),
        record_canonical=block("record-canonical", "text", canonical(record).decode()),
        record_header=header(opened.record_jws),
        record_jws=block("record-jws", "text", opened.record_jws),
        record_jws_length=len(opened.record_jws),
        record_sha256=opened.record_sha256,
        jwe_header=header(sealed.jwe["protected"]),
        jwe=block("jwe", "json", sealed.jwe),
        jwe_length=len(canonical(sealed.jwe)),
        jwe_sha256=sha256_b64url(canonical(sealed.jwe)),
        statement_header=header(sealed.statement),
        statement_payload=block("statement-payload", "json", opened.statement.payload),
        statement=block("statement", "text", sealed.statement),
        envelope=block("envelope", "json", sealed.to_json()),
        receipt_payload=block(
            "receipt-payload", "json", env.verify_statement(receipt, platform_keys).payload
        ),
        receipt_envelope=block("receipt-envelope", "json", receipt.to_json()),
    )


def rewrite(document: str, region: str) -> str:
    """`document` with the text between the markers replaced by `region`."""
    start = document.index(BEGIN) + len(BEGIN)
    end = document.index(END, start)
    return f"{document[:start]}\n{region}{document[end:]}"


def main() -> None:
    DOC.write_text(rewrite(DOC.read_text(encoding="utf-8"), render()), encoding="utf-8")
    print(f"rewrote the generated example in {DOC}")


if __name__ == "__main__":
    main()
