"""Keys of officials and of the exchange: generation, JWK import/export, thumbprints, storage.

Pure: no Flask, no database.
"""

from keys.b64 import NonCanonicalBase64Error, b64url_decode, b64url_encode
from keys.errors import (
    InsecureKeyFileError,
    InvalidJWKError,
    KeyFileExistsError,
    KeyFileMissingError,
    KeyStoreError,
    KeyTypeMismatchError,
    WrongPassphraseError,
)
from keys.identity import Identity
from keys.jwk import PublicKey, jwks, load_jwks, load_public_jwk, public_jwk, thumbprint
from keys.keyfiles import (
    ENCRYPTION_KEY_FILE,
    PUBLIC_JWKS_FILE,
    SIGNING_KEY_FILE,
    create_key_dir,
    has_keys,
    load_encryption_key,
    load_key_dir,
    load_private_key,
    load_signing_key,
    save_private_key,
)

__all__ = [
    "ENCRYPTION_KEY_FILE",
    "PUBLIC_JWKS_FILE",
    "SIGNING_KEY_FILE",
    "Identity",
    "InsecureKeyFileError",
    "InvalidJWKError",
    "KeyFileExistsError",
    "KeyFileMissingError",
    "KeyStoreError",
    "KeyTypeMismatchError",
    "NonCanonicalBase64Error",
    "PublicKey",
    "WrongPassphraseError",
    "b64url_decode",
    "b64url_encode",
    "create_key_dir",
    "has_keys",
    "jwks",
    "load_encryption_key",
    "load_jwks",
    "load_key_dir",
    "load_private_key",
    "load_public_jwk",
    "load_signing_key",
    "public_jwk",
    "save_private_key",
    "thumbprint",
]
