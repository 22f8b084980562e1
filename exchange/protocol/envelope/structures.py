"""What seal() produces and what verification returns."""

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from exchange.protocol.envelope.canonical import canonical
from exchange.protocol.envelope.errors import MalformedEnvelopeError, SignatureCountError
from schemas.enums import Kind
from schemas.statement import Statement

STATEMENT_TYPE = "hotline.handoff/v1"
RECORD_TYPE = "hotline.record/v1"


@dataclass(frozen=True)
class Envelope:
    """`{"statement": <JWS compact>, "jwe": <General JSON JWE or null>}`."""

    statement: str
    jwe: dict[str, Any] | None

    def to_json(self) -> dict[str, Any]:
        return {"statement": self.statement, "jwe": self.jwe}

    @cached_property
    def jwe_bytes(self) -> bytes | None:
        """The JWE's RFC 8785 canonical JSON, what `jwe_sha256` covers (None without one).

        Worked out once per envelope: verifying it, digesting the envelope and storing the
        JWE all need these bytes. An envelope is not changed once made; a JWE dict changed
        in place afterwards is not seen here.
        """
        return canonical(self.jwe) if self.jwe is not None else None

    @cached_property
    def canonical_bytes(self) -> bytes:
        """The RFC 8785 canonical JSON of `to_json()`, built around `jwe_bytes`: its two
        members in RFC 8785's order ("jwe" sorts before "statement"), no whitespace."""
        jwe = self.jwe_bytes if self.jwe_bytes is not None else b"null"
        return b'{"jwe":' + jwe + b',"statement":' + canonical(self.statement) + b"}"

    @classmethod
    def from_json(cls, document: object) -> "Envelope":
        if not isinstance(document, Mapping) or set(document) != {"statement", "jwe"}:
            raise MalformedEnvelopeError("an envelope is an object of exactly statement and jwe")
        statement, jwe = document["statement"], document["jwe"]
        if isinstance(statement, Mapping):
            signatures = statement.get("signatures")
            count = len(signatures) if isinstance(signatures, list) else 1
            raise SignatureCountError(
                f"statement must be a compact JWS with one signature, got JSON with {count}"
            )
        if not isinstance(statement, str):
            raise MalformedEnvelopeError("statement must be a compact JWS string")
        if jwe is not None and not isinstance(jwe, dict):
            raise MalformedEnvelopeError("jwe must be an object or null")
        return cls(statement, jwe)


@dataclass(frozen=True)
class VerifiedStatement:
    """A statement whose signature, schema and `jwe_sha256` verified.

    `token` is the compact JWS exactly as received: it is what the log stores, verbatim.
    `statement` is its payload, typed; `payload` the same payload as the JSON signed.
    """

    token: str
    statement: Statement
    kid: str

    @property
    def payload(self) -> Mapping[str, Any]:
        return self.statement.document

    @property
    def kind(self) -> Kind:
        return self.statement.kind

    @property
    def handoff_id(self) -> str:
        return self.statement.handoff_id

    @property
    def case_id(self) -> str:
        return self.statement.case_id


@dataclass(frozen=True)
class OpenedRecord:
    """A decrypted record whose inner signature verified and which agrees with its statement."""

    statement: VerifiedStatement
    record: dict[str, Any]
    record_jws: str
    record_sha256: str
