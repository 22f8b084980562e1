"""An official's identity: one Ed25519 signing key and one X25519 encryption key."""

from dataclasses import dataclass
from functools import cached_property
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey

from keys.jwk import jwks, public_jwk


@dataclass(frozen=True)
class Identity:
    signing_key: Ed25519PrivateKey
    encryption_key: X25519PrivateKey

    @classmethod
    def generate(cls) -> "Identity":
        return cls(Ed25519PrivateKey.generate(), X25519PrivateKey.generate())

    @property
    def signing_public_key(self) -> Ed25519PublicKey:
        return self.signing_key.public_key()

    @property
    def encryption_public_key(self) -> X25519PublicKey:
        return self.encryption_key.public_key()

    @cached_property
    def signing_kid(self) -> str:
        return public_jwk(self.signing_public_key)["kid"]

    @cached_property
    def encryption_kid(self) -> str:
        return public_jwk(self.encryption_public_key)["kid"]

    def public_jwks(self) -> dict[str, Any]:
        """The JWKS of both public keys: signing first, then encryption."""
        return jwks([self.signing_public_key, self.encryption_public_key])
