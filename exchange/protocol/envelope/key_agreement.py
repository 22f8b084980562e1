"""The JWE registry the envelope encrypts and decrypts with: ECDH-ES+A256KW and A256GCM only.

joserfc's own ECDH-ES model (RFC 7518 §4.6) writes each recipient's `epk` by exporting
the ephemeral key as a full JWK first, its private half included and validated, only to
drop it again, once per recipient: 76 µs of the 517 µs a JWE to three recipients took
on the benchmark's machine. The model below is joserfc's, with that one
step replaced by writing the public key's three members directly, through the extension
point joserfc's own drafts (ECDH-1PU) use. Key agreement, Concat KDF, key wrapping and
content encryption stay joserfc's.

The registry is a subclass with its own algorithm table, so the process-wide registry
(and every other caller of joserfc, the interoperability tests among them) is untouched.
"""

from typing import Any

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from joserfc.jwa import ECDHESAlgKeyAgreement
from joserfc.jwe import JWERegistry, Recipient
from joserfc.jwk import OKPKey

from keys.b64 import b64url_encode

KEY_WRAP_ALG = "ECDH-ES+A256KW"
CONTENT_ENC = "A256GCM"


class _EphemeralX25519(ECDHESAlgKeyAgreement):
    """ECDH-ES+A256KW whose ephemeral key is an X25519 key written as {crv, x, kty}."""

    def prepare_ephemeral_key(self, recipient: Recipient[Any]) -> None:
        # `jose.encrypt` adds X25519 recipients only; joserfc refuses any other key when it
        # derives the shared secret from this one.
        ephemeral = X25519PrivateKey.generate()
        recipient.ephemeral_key = OKPKey(ephemeral, ephemeral)
        public = ephemeral.public_key().public_bytes_raw()
        recipient.add_header("epk", {"crv": "X25519", "x": b64url_encode(public), "kty": "OKP"})


_STANDARD = JWERegistry.algorithms


class EnvelopeJWERegistry(JWERegistry):
    algorithms = {  # noqa: RUF012 - joserfc's registry API: a class-level table
        "alg": {KEY_WRAP_ALG: _EphemeralX25519(_STANDARD["alg"]["A256KW"])},  # type: ignore[arg-type]
        "enc": {CONTENT_ENC: _STANDARD["enc"][CONTENT_ENC]},
        "zip": {},
    }


REGISTRY = EnvelopeJWERegistry(algorithms=[KEY_WRAP_ALG, CONTENT_ENC])
