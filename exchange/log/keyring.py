"""The exchange's own keys, on disk: the log's checkpoint key and the access-token key.

Both are Ed25519, stored as passphrase-encrypted PKCS#8 files in the key directory
(by default `<instance>/keys`), created on first start. Neither can decrypt a case: the
server holds no encryption key at all. A rotation (`exchange.log.rotation`) stages the new
key beside the old one, then replaces it; the log's retired verifier keys are listed in
`retired-log-verifier-keys.txt`, so checkpoints they signed stay verifiable.
"""

import os
import uuid
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from exchange.protocol import note
from keys import load_signing_key, save_private_key

LOG_KEY_FILE = "log-signing-key.pem"
TOKEN_KEY_FILE = "token-signing-key.pem"  # noqa: S105 - a file name
RETIRED_LOG_KEYS_FILE = "retired-log-verifier-keys.txt"
# A rotation writes the new key here first and moves it into place once the log agrees.
STAGED_SUFFIX = ".new"


@dataclass(frozen=True)
class LogSigner:
    """Signs checkpoints as the note signer `name` (the log's origin)."""

    name: str
    private_key: Ed25519PrivateKey

    @cached_property
    def note_signer(self) -> note.NoteSigner:
        return note.NoteSigner(self.name, self.private_key)

    @property
    def verifier_key(self) -> str:
        return self.note_signer.verifier_key


@dataclass(frozen=True)
class ServerKeys:
    log: LogSigner
    # Signs the API's access tokens (exchange.api.auth); never leaves this process.
    token_key: Ed25519PrivateKey
    retired_log_verifier_keys: tuple[str, ...]

    @cached_property
    def token_public_key(self) -> Ed25519PublicKey:
        return self.token_key.public_key()

    @property
    def log_verifier_keys(self) -> tuple[str, ...]:
        """Every key that ever signed this log's checkpoints, current first."""
        return (self.log.verifier_key, *self.retired_log_verifier_keys)


def _load_or_create(path: Path, passphrase: bytes) -> Ed25519PrivateKey:
    if not path.exists():
        # Several workers may start at once: each writes a complete key under a name of its
        # own, and a hard link (atomic, refused if the name exists) lets exactly one win.
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        candidate = path.with_name(f".{path.name}.{uuid.uuid4().hex}")
        save_private_key(candidate, Ed25519PrivateKey.generate(), passphrase)
        try:
            os.link(candidate, path)
        except FileExistsError:
            pass
        finally:
            candidate.unlink()
    return load_signing_key(path, passphrase)


def load(directory: Path, passphrase: bytes, origin: str) -> ServerKeys:
    log_key = _load_or_create(directory / LOG_KEY_FILE, passphrase)
    token_key = _load_or_create(directory / TOKEN_KEY_FILE, passphrase)
    retired_path = directory / RETIRED_LOG_KEYS_FILE
    retired = tuple(
        line.strip()
        for line in (retired_path.read_text().splitlines() if retired_path.exists() else [])
        if line.strip()
    )
    return ServerKeys(
        log=LogSigner(origin, log_key),
        token_key=token_key,
        retired_log_verifier_keys=retired,
    )


def staged_path(directory: Path, name: str) -> Path:
    return directory / f"{name}{STAGED_SUFFIX}"


def stage_key(directory: Path, name: str, passphrase: bytes) -> Ed25519PrivateKey:
    """Generate a key and store it encrypted beside the current one, not yet in use."""
    key = Ed25519PrivateKey.generate()
    save_private_key(staged_path(directory, name), key, passphrase)
    return key


def load_staged(directory: Path, name: str, passphrase: bytes) -> Ed25519PrivateKey | None:
    path = staged_path(directory, name)
    return load_signing_key(path, passphrase) if path.exists() else None


def discard_staged(directory: Path, name: str) -> None:
    staged_path(directory, name).unlink(missing_ok=True)


def install_staged(directory: Path, name: str) -> None:
    """Put the staged key in place (an atomic rename): the old key file is gone for good."""
    os.replace(staged_path(directory, name), directory / name)
    _sync_directory(directory)


def retire_log_verifier_key(directory: Path, verifier_key: str) -> None:
    """Append a verifier key to the retired list (once), so old checkpoints still verify."""
    path = directory / RETIRED_LOG_KEYS_FILE
    if path.exists() and verifier_key in path.read_text().split():
        return
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    with os.fdopen(fd, "a") as handle:
        handle.write(verifier_key + "\n")
        handle.flush()
        os.fsync(handle.fileno())


def _sync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
