"""The one error tree of the keys package: every refusal names its cause."""


class KeyStoreError(Exception):
    """A key could not be created, read or accepted."""


class KeyFileMissingError(KeyStoreError):
    """An expected key file does not exist."""


class KeyFileExistsError(KeyStoreError):
    """Refusing to overwrite an existing key file."""


class InsecureKeyFileError(KeyStoreError):
    """A private key file is readable by its group or by others."""


class WrongPassphraseError(KeyStoreError):
    """The passphrase does not decrypt the private key file."""


class KeyTypeMismatchError(KeyStoreError):
    """The file holds a key of another type than the one asked for."""


class InvalidJWKError(KeyStoreError):
    """A JWK or JWKS is malformed, of an unsupported type, or carries a wrong kid."""
