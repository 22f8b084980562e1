"""The test server's access-token key, for tests that mint tokens of their own."""

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from flask import Flask

from exchange import runtime


def token_key(app: Flask) -> Ed25519PrivateKey:
    """The key the server signs its access tokens with."""
    with app.app_context():
        return runtime.server_keys().token_key


def token_public_pem(app: Flask) -> bytes:
    """Its public key as PEM: the bytes an HS256 forger would try as the MAC key."""
    return (
        token_key(app)
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
