"""C2SP tlog-cosignature/v1 (https://c2sp.org/tlog-cosignature), the Ed25519 type only.

A cosignature is a signed-note signature line by a witness on a checkpoint:

    — <witness name> base64(key id || u64 big-endian timestamp || Ed25519 signature)

with key id SHA-256(name || "\\n" || 0x04 || public key)[:4], over the message

    "cosignature/v1\\n" "time <timestamp>\\n" <the checkpoint's whole note text>

A witness's verifier key is a signed-note vkey of type 0x04. The message does not commit
to the witness's name, so one key must never serve two witness names (the spec's MUST).
"""

import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from exchange.protocol import note
from exchange.protocol.verification import VerificationError
from keys.b64 import b64_decode, b64_encode

SIGNATURE_TYPE_COSIGNATURE_V1 = 0x04
MAX_TIMESTAMP = 2**63 - 1
_TIMESTAMPED_SIZE = 8 + 64
_KEY_ID = re.compile(r"[0-9a-f]{8}")


class CosignatureError(VerificationError):
    """A cosignature, or a witness's verifier key, was refused."""


class MalformedWitnessKeyError(CosignatureError):
    """A witness verifier key breaks the vkey syntax or is not of type 0x04."""


class CosignatureSignatureError(CosignatureError):
    """A line by a known witness key does not verify: a forgery or a corrupted line."""


@dataclass(frozen=True)
class WitnessKey:
    """A witness as a verifier knows it: its name and Ed25519 public key."""

    name: str
    public_key: Ed25519PublicKey

    @property
    def key_id(self) -> bytes:
        return key_id(self.name, self.public_key)

    @property
    def vkey(self) -> str:
        return witness_vkey(self.name, self.public_key)


@dataclass(frozen=True)
class Cosignature:
    """A verified cosignature: who, and when the witness says it signed."""

    witness: str
    timestamp: int
    line: str


def key_id(name: str, public_key: Ed25519PublicKey) -> bytes:
    raw = public_key.public_bytes_raw()
    message = name.encode("utf-8") + b"\n" + bytes([SIGNATURE_TYPE_COSIGNATURE_V1]) + raw
    return hashlib.sha256(message).digest()[:4]


def witness_vkey(name: str, public_key: Ed25519PublicKey) -> str:
    """The "<name>+<key id>+<base64(0x04 || key)>" string verifiers pin."""
    if not name or "+" in name or any(c.isspace() for c in name):
        raise MalformedWitnessKeyError(f"witness name {name[:64]!r} is empty or has '+' or space")
    raw = public_key.public_bytes_raw()
    encoded = b64_encode(bytes([SIGNATURE_TYPE_COSIGNATURE_V1]) + raw)
    return f"{name}+{key_id(name, public_key).hex()}+{encoded}"


def parse_witness_vkey(vkey: str) -> WitnessKey:
    parts = vkey.split("+", 2)
    if len(parts) != 3:
        raise MalformedWitnessKeyError("witness key is not <name>+<key id>+<key>")
    name, key_id_hex, key_b64 = parts
    if not name or any(c.isspace() for c in name):
        raise MalformedWitnessKeyError(f"witness name {name[:64]!r} is empty or has a space")
    if not _KEY_ID.fullmatch(key_id_hex):
        raise MalformedWitnessKeyError(f"key id {key_id_hex[:16]!r} is not 8 lowercase hex digits")
    try:
        raw = b64_decode(key_b64)
    except ValueError as exc:
        raise MalformedWitnessKeyError(f"witness key for {name}: {exc}") from None
    if len(raw) != 33 or raw[0] != SIGNATURE_TYPE_COSIGNATURE_V1:
        raise MalformedWitnessKeyError(
            f"witness key for {name} is not type 0x04 (Ed25519 cosignature/v1) with 32 bytes"
        )
    public_key = Ed25519PublicKey.from_public_bytes(raw[1:])
    if key_id(name, public_key).hex() != key_id_hex:
        raise MalformedWitnessKeyError(
            f"key id {key_id_hex} does not match the key and name {name}"
        )
    return WitnessKey(name, public_key)


def signed_message(checkpoint_text: str, timestamp: int) -> bytes:
    if not 0 <= timestamp <= MAX_TIMESTAMP:
        raise CosignatureError(f"timestamp {timestamp} is outside 0..2**63-1")
    return f"cosignature/v1\ntime {timestamp}\n{checkpoint_text}".encode()


def cosign(checkpoint_text: str, name: str, private_key: Ed25519PrivateKey, timestamp: int) -> str:
    """The cosignature line (ending in a newline) on the checkpoint's note text."""
    signature = private_key.sign(signed_message(checkpoint_text, timestamp))
    payload = key_id(name, private_key.public_key()) + timestamp.to_bytes(8, "big") + signature
    return f"\u2014 {name} {b64_encode(payload)}\n"


def verify_cosignatures(
    signed_note: str, witnesses: Sequence[WitnessKey]
) -> dict[str, Cosignature]:
    """The cosignatures in signed_note by `witnesses`, by witness name, each verified.

    Lines by other keys are ignored (the note's own signature among them). A line by a
    known witness key that does not verify is refused outright, never skipped: a note
    that carries a forged cosignature is not one to trust at all.
    """
    known: Mapping[tuple[str, bytes], WitnessKey] = {(w.name, w.key_id): w for w in witnesses}
    text, lines = note.split(signed_note)
    found: dict[str, Cosignature] = {}
    for name, line_key_id, payload in lines:
        witness = known.get((name, line_key_id))
        if witness is None:
            continue
        if len(payload) != _TIMESTAMPED_SIZE:
            raise CosignatureSignatureError(f"cosignature by {name} is not 72 bytes")
        timestamp = int.from_bytes(payload[:8], "big")
        try:
            witness.public_key.verify(payload[8:], signed_message(text, timestamp))
        except (InvalidSignature, CosignatureError):
            raise CosignatureSignatureError(f"cosignature by {name} does not verify") from None
        line = f"\u2014 {name} {b64_encode(line_key_id + payload)}\n"
        found.setdefault(name, Cosignature(name, timestamp, line))
    return found


def attach(signed_note: str, cosignature_lines: Sequence[str]) -> str:
    """The note with cosignature lines appended after its own signatures."""
    return signed_note + "".join(cosignature_lines)
