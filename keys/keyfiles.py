"""Private keys at rest: passphrase-encrypted PKCS#8 PEM files readable by their owner only."""

import json
import os
import stat
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from keys.errors import (
    InsecureKeyFileError,
    KeyFileExistsError,
    KeyFileMissingError,
    KeyStoreError,
    KeyTypeMismatchError,
    WrongPassphraseError,
)
from keys.identity import Identity

# Other tools and languages read these names: they are part of the format.
SIGNING_KEY_FILE = "signing-key.pem"
ENCRYPTION_KEY_FILE = "encryption-key.pem"
PUBLIC_JWKS_FILE = "public.jwks"

PrivateKey = Ed25519PrivateKey | X25519PrivateKey


def _write_new(path: Path, data: bytes, mode: int) -> None:
    """Create `path` with `mode` from the start, so the key is never briefly world-readable."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    except FileExistsError as exc:
        raise KeyFileExistsError(f"{path} already exists; refusing to overwrite it") from exc
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    os.chmod(path, mode)  # the umask may have narrowed it further; never widened


def save_private_key(path: Path, key: PrivateKey, passphrase: bytes) -> None:
    if not passphrase:
        raise KeyStoreError("an empty passphrase would leave the key unprotected")
    pem = key.private_bytes(
        encoding=serialization.Encoding.PEM,
        format=serialization.PrivateFormat.PKCS8,
        encryption_algorithm=serialization.BestAvailableEncryption(passphrase),
    )
    _write_new(path, pem, 0o600)


def load_signing_key(path: Path, passphrase: bytes) -> Ed25519PrivateKey:
    key = load_private_key(path, passphrase)
    if not isinstance(key, Ed25519PrivateKey):
        raise KeyTypeMismatchError(f"{path} holds {_describe(key)}, expected an Ed25519 key")
    return key


def load_encryption_key(path: Path, passphrase: bytes) -> X25519PrivateKey:
    key = load_private_key(path, passphrase)
    if not isinstance(key, X25519PrivateKey):
        raise KeyTypeMismatchError(f"{path} holds {_describe(key)}, expected an X25519 key")
    return key


def _describe(key: PrivateKey) -> str:
    return "an Ed25519 key" if isinstance(key, Ed25519PrivateKey) else "an X25519 key"


def load_private_key(path: Path, passphrase: bytes) -> PrivateKey:
    """Load an encrypted PKCS#8 Ed25519 or X25519 key, refusing an exposed file."""
    try:
        mode = path.stat().st_mode
    except FileNotFoundError as exc:
        raise KeyFileMissingError(f"{path} does not exist") from exc
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise InsecureKeyFileError(
            f"{path} is accessible by group or others (mode {stat.S_IMODE(mode):04o}); "
            f"run: chmod 600 {path}"
        )
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=passphrase)
    except TypeError as exc:  # raised when the file is not encrypted at all
        raise WrongPassphraseError(f"{path} is not passphrase-protected") from exc
    except ValueError as exc:
        raise WrongPassphraseError(f"wrong passphrase for {path} (or not a key file)") from exc
    if not isinstance(key, Ed25519PrivateKey | X25519PrivateKey):
        raise KeyTypeMismatchError(f"{path} holds a {type(key).__name__}, not an OKP key")
    return key


def create_key_dir(directory: Path, passphrase: bytes) -> Identity:
    """Generate an identity and write its two private keys and its public JWKS."""
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    existing = [
        name for name in (SIGNING_KEY_FILE, ENCRYPTION_KEY_FILE) if (directory / name).exists()
    ]
    if existing:
        raise KeyFileExistsError(f"{directory} already holds {', '.join(existing)}")
    identity = Identity.generate()
    save_private_key(directory / SIGNING_KEY_FILE, identity.signing_key, passphrase)
    save_private_key(directory / ENCRYPTION_KEY_FILE, identity.encryption_key, passphrase)
    jwks_path = directory / PUBLIC_JWKS_FILE
    jwks_path.unlink(missing_ok=True)
    _write_new(jwks_path, json.dumps(identity.public_jwks(), indent=2).encode() + b"\n", 0o644)
    return identity


def load_key_dir(directory: Path, passphrase: bytes) -> Identity:
    return Identity(
        load_signing_key(directory / SIGNING_KEY_FILE, passphrase),
        load_encryption_key(directory / ENCRYPTION_KEY_FILE, passphrase),
    )


def has_keys(directory: Path) -> bool:
    return (directory / SIGNING_KEY_FILE).exists() or (directory / ENCRYPTION_KEY_FILE).exists()
