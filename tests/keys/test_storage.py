import json
import os
import stat

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from keys import (
    ENCRYPTION_KEY_FILE,
    PUBLIC_JWKS_FILE,
    SIGNING_KEY_FILE,
    InsecureKeyFileError,
    KeyFileExistsError,
    KeyFileMissingError,
    KeyStoreError,
    KeyTypeMismatchError,
    WrongPassphraseError,
    create_key_dir,
    load_jwks,
    load_key_dir,
    load_signing_key,
    save_private_key,
)

PASSPHRASE = b"correct horse battery staple"


def test_create_and_load_key_dir(tmp_path):
    created = create_key_dir(tmp_path / "keys", PASSPHRASE)
    files = sorted(p.name for p in (tmp_path / "keys").iterdir())
    assert files == [ENCRYPTION_KEY_FILE, PUBLIC_JWKS_FILE, SIGNING_KEY_FILE]
    for name in (SIGNING_KEY_FILE, ENCRYPTION_KEY_FILE):
        path = tmp_path / "keys" / name
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert path.read_bytes().startswith(b"-----BEGIN ENCRYPTED PRIVATE KEY-----")
    loaded = load_key_dir(tmp_path / "keys", PASSPHRASE)
    assert loaded.signing_kid == created.signing_kid
    assert loaded.encryption_kid == created.encryption_kid
    published = load_jwks(json.loads((tmp_path / "keys" / PUBLIC_JWKS_FILE).read_text()))
    assert list(published) == [created.signing_kid, created.encryption_kid]


def test_create_refuses_to_overwrite(tmp_path):
    create_key_dir(tmp_path, PASSPHRASE)
    before = (tmp_path / SIGNING_KEY_FILE).read_bytes()
    with pytest.raises(KeyFileExistsError, match="already holds"):
        create_key_dir(tmp_path, PASSPHRASE)
    assert (tmp_path / SIGNING_KEY_FILE).read_bytes() == before


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o660, 0o644])
def test_load_refuses_group_or_world_readable(tmp_path, mode):
    path = tmp_path / SIGNING_KEY_FILE
    save_private_key(path, Ed25519PrivateKey.generate(), PASSPHRASE)
    os.chmod(path, mode)
    with pytest.raises(InsecureKeyFileError, match=f"mode {mode:04o}"):
        load_signing_key(path, PASSPHRASE)


def test_load_refuses_wrong_passphrase(tmp_path):
    path = tmp_path / SIGNING_KEY_FILE
    save_private_key(path, Ed25519PrivateKey.generate(), PASSPHRASE)
    with pytest.raises(WrongPassphraseError, match="wrong passphrase"):
        load_signing_key(path, b"not it")


def test_load_refuses_mismatched_key_type(tmp_path):
    path = tmp_path / SIGNING_KEY_FILE
    save_private_key(path, X25519PrivateKey.generate(), PASSPHRASE)
    with pytest.raises(KeyTypeMismatchError, match="holds an X25519 key, expected an Ed25519 key"):
        load_signing_key(path, PASSPHRASE)


def test_load_refuses_missing_file(tmp_path):
    with pytest.raises(KeyFileMissingError, match="does not exist"):
        load_signing_key(tmp_path / "nope.pem", PASSPHRASE)


def test_save_refuses_empty_passphrase(tmp_path):
    with pytest.raises(KeyStoreError, match="empty passphrase"):
        save_private_key(tmp_path / "k.pem", Ed25519PrivateKey.generate(), b"")
    assert not (tmp_path / "k.pem").exists()
