"""Key management statements: an official enrolling, rotating or revoking keys.

Each is the RFC 8785 JSON payload of a compact JWS (header typ `hotline-keys+jws`) that
goes into the log verbatim, so the log itself says which key was valid for whom and when.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from marshmallow import ValidationError, fields, validates_schema

from schemas.common import (
    B64Url,
    BoundedList,
    Choice,
    Const,
    Kid,
    OfficialId,
    OrgId,
    StrictSchema,
    Text,
    UtcTimestamp,
    parse_utc,
)

KEYS_STATEMENT_TYP = "hotline-keys+jws"
ENROLLMENT_TYP = "hotline.enrollment/v1"
ROTATION_TYP = "hotline.key-rotation/v1"
REVOCATION_TYP = "hotline.key-revocation/v1"


class PublicJwkSchema(StrictSchema):
    """An official's public key: RFC 8037 OKP, kid = RFC 7638 thumbprint."""

    kty = Const("OKP", required=True)
    crv = Choice(["Ed25519", "X25519"], required=True)
    x = B64Url(min_length=43, max_length=43, required=True)
    kid = Kid(required=True)
    use = Choice(["sig", "enc"], required=True)
    alg = Choice(["Ed25519", "ECDH-ES+A256KW"], required=True)


class IdentityJwksSchema(StrictSchema):
    """Exactly one signing key and one encryption key, in that order."""

    keys = BoundedList(fields.Nested(PublicJwkSchema), min_length=2, max_length=2, required=True)

    @validates_schema
    def _one_of_each(self, data: dict[str, Any], **kwargs: object) -> None:
        if [key["use"] for key in data["keys"]] != ["sig", "enc"]:
            raise ValidationError("Must hold a sig key, then an enc key.", field_name="keys")


class EnrollmentSchema(StrictSchema):
    typ = Const(ENROLLMENT_TYP, required=True)
    org = OrgId(required=True)
    official = OfficialId(required=True)
    code_sha256 = Text(min_length=64, max_length=64, required=True)
    jwks = fields.Nested(IdentityJwksSchema, required=True)
    issued_at = UtcTimestamp(required=True)


class RotationSchema(StrictSchema):
    typ = Const(ROTATION_TYP, required=True)
    org = OrgId(required=True)
    official = OfficialId(required=True)
    jwks = fields.Nested(IdentityJwksSchema, required=True)
    issued_at = UtcTimestamp(required=True)


class RevocationSchema(StrictSchema):
    typ = Const(REVOCATION_TYP, required=True)
    org = OrgId(required=True)
    official = OfficialId(required=True)
    kid = Kid(required=True)
    reason = Choice(["compromised", "lost", "superseded", "other"], required=True)
    issued_at = UtcTimestamp(required=True)


# --- Typed key statements --------------------------------------------------------------------
# As for handoff statements: the schemas load the plain JSON that was signed; the loaders
# below validate once with them and return typed, immutable objects.


@dataclass(frozen=True, slots=True)
class IdentityJwks:
    """An official's two public keys, as signed: `documents` are the JWKs verbatim."""

    signing: Mapping[str, str]
    encryption: Mapping[str, str]

    @property
    def documents(self) -> list[dict[str, str]]:
        return [dict(self.signing), dict(self.encryption)]

    @property
    def kids(self) -> tuple[str, str]:
        return self.signing["kid"], self.encryption["kid"]


@dataclass(frozen=True, slots=True)
class Enrollment:
    org: str
    official: str
    code_sha256: str
    jwks: IdentityJwks
    issued_at: datetime


@dataclass(frozen=True, slots=True)
class Rotation:
    org: str
    official: str
    jwks: IdentityJwks
    issued_at: datetime


@dataclass(frozen=True, slots=True)
class Revocation:
    org: str
    official: str
    kid: str
    reason: str
    issued_at: datetime


def _jwks(document: Mapping[str, Any]) -> IdentityJwks:
    signing, encryption = document["keys"]
    return IdentityJwks(signing, encryption)


_ENROLLMENT, _ROTATION, _REVOCATION = EnrollmentSchema(), RotationSchema(), RevocationSchema()


def load_enrollment(document: Mapping[str, Any]) -> Enrollment:
    """Validate an enrollment statement's payload once; typed, or ValidationError."""
    data = _ENROLLMENT.load(document)
    return Enrollment(
        data["org"],
        data["official"],
        data["code_sha256"],
        _jwks(data["jwks"]),
        parse_utc(data["issued_at"]),
    )


def load_rotation(document: Mapping[str, Any]) -> Rotation:
    data = _ROTATION.load(document)
    return Rotation(
        data["org"], data["official"], _jwks(data["jwks"]), parse_utc(data["issued_at"])
    )


def load_revocation(document: Mapping[str, Any]) -> Revocation:
    data = _REVOCATION.load(document)
    return Revocation(
        data["org"], data["official"], data["kid"], data["reason"], parse_utc(data["issued_at"])
    )
