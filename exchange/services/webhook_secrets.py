"""Webhook signing secrets: made once, shown once, stored sealed.

A subscription's secret is 32 random bytes, given to the official as `whsec_<base64>`
(the Standard Webhooks form) at creation and never again. The server must keep it to
sign, so it stores it sealed with AES-256-GCM under a key derived (HKDF-SHA256) from the
server's key passphrase, bound to the subscription id: a database dump alone forges no
webhook, and a sealed secret copied to another subscription does not open.
"""

import base64
import os
import secrets

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

PREFIX = "whsec_"
_INFO = b"hotline-exchange webhook secrets v1"
_NONCE_BYTES = 12


class SealedSecretError(Exception):
    """A stored secret does not open with this server's passphrase (or was moved)."""


def sealing_key(passphrase: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_INFO).derive(passphrase)


def new_secret() -> bytes:
    return secrets.token_bytes(32)


def display(secret: bytes) -> str:
    return PREFIX + base64.b64encode(secret).decode("ascii")


def seal(key: bytes, subscription_id: str, secret: bytes) -> bytes:
    nonce = os.urandom(_NONCE_BYTES)
    return nonce + AESGCM(key).encrypt(nonce, secret, subscription_id.encode())


def unseal(key: bytes, subscription_id: str, sealed: bytes) -> bytes:
    try:
        return AESGCM(key).decrypt(
            sealed[:_NONCE_BYTES], sealed[_NONCE_BYTES:], subscription_id.encode()
        )
    except InvalidTag as exc:
        raise SealedSecretError(
            f"the secret of subscription {subscription_id} does not open"
        ) from exc
