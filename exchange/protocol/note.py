"""C2SP signed notes (https://c2sp.org/signed-note), Ed25519 (signature type 0x01) only.

A signed note is

    text (ending in "\\n") || "\\n" || one or more "— <name> <base64(key id || signature)>\\n"

where the em dash is U+2014, the Ed25519 signature is over the UTF-8 text bytes, and the
key id is the first four bytes of SHA-256(name || "\\n" || 0x01 || 32-byte public key).
A verifier key is "<name>+<key id as 8 lowercase hex digits>+<base64(0x01 || public key)>".
This is byte-for-byte what golang.org/x/mod/sumdb/note reads and writes.

Where the spec leaves a choice, this module takes the strict one, so that each note has
one spelling and an attacker gains nothing from leniency:
* base64 must be canonical (padded, no stray bits) and key ids lowercase hex;
* every signature by a known key must verify, not just one (the spec's SHOULD);
* at most MAX_SIGNATURES signature lines and MAX_NOTE_SIZE bytes.
"""

import hashlib
import re
from collections.abc import Sequence

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from exchange.protocol.verification import VerificationError
from keys.b64 import b64_decode, b64_encode

SIGNATURE_TYPE_ED25519 = 0x01
ED25519_SIGNATURE_SIZE = 64

# The spec requires accepting at least 16 signatures; 100 is the Go implementation's limit,
# so no note that Go accepts is refused for its count.
MAX_SIGNATURES = 100
# Room for 16 post-quantum signatures (about 6.5 kB each in base64, per the spec's warning)
# and a text far larger than any checkpoint, while bounding the work one note can cause.
MAX_NOTE_SIZE = 256 * 1024

_SIGNATURE_PREFIX = "\u2014 "
_CONTROL = re.compile("[\x00-\x09\x0b-\x1f]")
# The Unicode White_Space property, spelled out so that every implementation refuses the
# same names (it is what Go's unicode.IsSpace tests).
_SPACES = frozenset(
    "\t\n\v\f\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008"
    "\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)
_KEY_ID = re.compile(r"[0-9a-f]{8}")


class NoteError(VerificationError):
    """A signed note or a note key was refused."""


class MalformedNoteError(NoteError):
    """The note breaks the signed-note syntax or a limit, or a text cannot be signed."""


class MalformedKeyError(NoteError):
    """A verifier key or key name breaks the signed-note key syntax."""


class AmbiguousKeyError(NoteError):
    """Two different verifier keys share a name and key id, so a signature names neither."""


class UnknownKeyError(NoteError):
    """No signature in the note is by one of the verifier keys."""


class NoteSignatureError(NoteError):
    """A signature by one of the verifier keys does not verify."""


def _quote(untrusted: str) -> str:
    """A short one-line rendering of attacker-supplied text for an error message."""
    return repr(untrusted if len(untrusted) <= 64 else untrusted[:64] + "...")


def _name_problem(name: str) -> str | None:
    if not name:
        return "key name is empty"
    if "+" in name:
        return f"key name {_quote(name)} contains '+'"
    if any(c in _SPACES for c in name):
        return f"key name {_quote(name)} contains a space"
    if _CONTROL.search(name) or not _is_utf8(name):
        return f"key name {_quote(name)} contains a control character or is not UTF-8"
    return None


def _is_utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _check_name(name: str) -> None:
    problem = _name_problem(name)
    if problem is not None:
        raise MalformedKeyError(problem)


def _key_id(name: str, public_key: bytes) -> bytes:
    return hashlib.sha256(
        name.encode("utf-8") + b"\n" + bytes([SIGNATURE_TYPE_ED25519]) + public_key
    ).digest()[:4]


def verifier_key(name: str, public_key: Ed25519PublicKey) -> str:
    """The "<name>+<key id>+<base64 key>" string a verifier is configured with."""
    _check_name(name)
    raw = public_key.public_bytes_raw()
    encoded = b64_encode(bytes([SIGNATURE_TYPE_ED25519]) + raw)
    return f"{name}+{_key_id(name, raw).hex()}+{encoded}"


def parse_verifier_key(vkey: str) -> tuple[str, bytes, Ed25519PublicKey]:
    """Return (name, 4-byte key id, public key) or raise MalformedKeyError."""
    # The name cannot contain "+" but the base64 key can: split on the first two only.
    parts = vkey.split("+", 2)
    if len(parts) != 3:
        raise MalformedKeyError("verifier key is not <name>+<key id>+<key>")
    name, key_id_hex, key_b64 = parts
    _check_name(name)
    if not _KEY_ID.fullmatch(key_id_hex):
        raise MalformedKeyError(f"key id {_quote(key_id_hex)} is not 8 lowercase hex digits")
    try:
        key = b64_decode(key_b64)
    except ValueError as exc:
        raise MalformedKeyError(f"verifier key for {name}: {exc}") from None
    if not key or key[0] != SIGNATURE_TYPE_ED25519:
        raise MalformedKeyError(f"verifier key for {name} is not of type 0x01 (Ed25519)")
    if len(key) != 1 + 32:
        raise MalformedKeyError(f"Ed25519 key for {name} is {len(key) - 1} bytes, expected 32")
    key_id = bytes.fromhex(key_id_hex)
    if _key_id(name, key[1:]) != key_id:
        raise MalformedKeyError(f"key id {key_id_hex} does not match the key and name {name}")
    return name, key_id, Ed25519PublicKey.from_public_bytes(key[1:])


def _check_text(text: str) -> None:
    """The rules a note's text obeys; sign() enforces them so it never emits a bad note."""
    if not text.endswith("\n"):
        raise MalformedNoteError("note text does not end with a newline")
    if not _is_utf8(text):
        raise MalformedNoteError("note text is not valid UTF-8 (lone surrogate)")
    control = _CONTROL.search(text)
    if control:
        raise MalformedNoteError(
            f"note text has control character U+{ord(control.group()):04X}"
            f" at offset {control.start()}"
        )


def sign(text: str, name: str, private_key: Ed25519PrivateKey) -> str:
    """Return text signed by private_key under name, as a one-signature note."""
    return NoteSigner(name, private_key).sign(text)


class NoteSigner:
    """One signer's name and key, with its key id worked out once: deriving the public key
    is a scalar multiplication, and a log signs a checkpoint in every write transaction."""

    def __init__(self, name: str, private_key: Ed25519PrivateKey) -> None:
        public_key = private_key.public_key()
        self.name = name
        self.verifier_key = verifier_key(name, public_key)  # checks the name
        self._key_id = _key_id(name, public_key.public_bytes_raw())
        self._private_key = private_key

    def sign(self, text: str) -> str:
        """Return text signed under this signer's name, as a one-signature note."""
        _check_text(text)
        signature = b64_encode(self._key_id + self._private_key.sign(text.encode("utf-8")))
        note = f"{text}\n{_SIGNATURE_PREFIX}{self.name} {signature}\n"
        if len(note.encode("utf-8")) > MAX_NOTE_SIZE:
            raise MalformedNoteError(f"signed note would exceed {MAX_NOTE_SIZE} bytes")
        return note


def _parse(note: str) -> tuple[str, list[tuple[str, bytes, bytes]]]:
    """Split a note into its text and (name, key id, signature) triples, checking syntax."""
    # Cheap bound first (UTF-8 never has fewer bytes than characters), then the exact one.
    if len(note) > MAX_NOTE_SIZE:
        raise MalformedNoteError(f"note is more than {MAX_NOTE_SIZE} bytes")
    try:
        size = len(note.encode("utf-8"))
    except UnicodeEncodeError:
        raise MalformedNoteError("note is not valid UTF-8 (lone surrogate)") from None
    if size > MAX_NOTE_SIZE:
        raise MalformedNoteError(f"note is {size} bytes, more than {MAX_NOTE_SIZE}")
    control = _CONTROL.search(note)
    if control:
        raise MalformedNoteError(
            f"note has control character U+{ord(control.group()):04X} at offset {control.start()}"
        )
    # Signature lines cannot contain a blank line, so the last one ends the text.
    split = note.rfind("\n\n")
    if split < 0:
        raise MalformedNoteError("note has no blank line before its signatures")
    text, block = note[: split + 1], note[split + 2 :]
    if not block.endswith("\n"):
        raise MalformedNoteError("note has no signature lines, or the last lacks its newline")
    if block.count("\n") > MAX_SIGNATURES:
        raise MalformedNoteError(f"note has more than {MAX_SIGNATURES} signatures")

    signatures = []
    for number, line in enumerate(block[:-1].split("\n"), 1):
        if not line.startswith(_SIGNATURE_PREFIX):
            raise MalformedNoteError(f"signature line {number} does not start with '— '")
        name, _, encoded = line[len(_SIGNATURE_PREFIX) :].partition(" ")
        problem = _name_problem(name)
        if problem is not None:
            raise MalformedNoteError(f"signature line {number}: {problem}")
        try:
            raw = b64_decode(encoded)
        except ValueError as exc:
            raise MalformedNoteError(f"signature line {number}: {exc}") from None
        if len(raw) < 5:
            raise MalformedNoteError(f"signature line {number} is shorter than a key id")
        signatures.append((name, raw[:4], raw[4:]))
    return text, signatures


def split(note: str) -> tuple[str, list[tuple[str, bytes, bytes]]]:
    """The note's text and its (name, key id, signature) lines, syntax checked, none verified.

    For signature types other than 0x01 (cosignatures), whose verification is their own.
    """
    return _parse(note)


def _known_keys(verifier_keys: Sequence[str]) -> dict[tuple[str, bytes], Ed25519PublicKey]:
    if isinstance(verifier_keys, str):
        # A lone string is a Sequence[str] of characters: refuse the easy mistake.
        raise TypeError("verifier_keys must be a sequence of verifier keys, not one string")
    known: dict[tuple[str, bytes], Ed25519PublicKey] = {}
    for vkey in verifier_keys:
        name, key_id, key = parse_verifier_key(vkey)
        other = known.setdefault((name, key_id), key)
        if other.public_bytes_raw() != key.public_bytes_raw():
            raise AmbiguousKeyError(f"two different verifier keys are named {name}+{key_id.hex()}")
    return known


def _ed25519_verifies(key: Ed25519PublicKey, signature: bytes, message: bytes) -> bool:
    if len(signature) != ED25519_SIGNATURE_SIZE:
        return False
    try:
        key.verify(signature, message)
    except InvalidSignature:
        return False
    return True


def verify(note: str, verifier_keys: Sequence[str]) -> str:
    """Return the note's text if a verifier key signed it and no verifier key's signature fails.

    Signatures by other keys are ignored, as the spec requires, even when they share a
    name or a key id (but not both) with a verifier key: a note may carry cosignatures.
    """
    known = _known_keys(verifier_keys)
    text, signatures = _parse(note)
    message = text.encode("utf-8")
    verified: set[tuple[str, bytes, bytes]] = set()
    for name, key_id, signature in signatures:
        key = known.get((name, key_id))
        if key is None or (name, key_id, signature) in verified:
            continue
        if not _ed25519_verifies(key, signature, message):
            raise NoteSignatureError(
                f"signature by known key {name}+{key_id.hex()} does not verify"
            )
        verified.add((name, key_id, signature))
    if not verified:
        # Names in a parsed note hold no spaces or control characters: safe on one line.
        signers = ", ".join(f"{name[:64]}+{key_id.hex()}" for name, key_id, _ in signatures[:5])
        raise UnknownKeyError(f"no signature by a verifier key (signed by {signers})")
    return text
