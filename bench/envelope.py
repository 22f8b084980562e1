"""Seal and open (3 recipients, a 4 KiB record) against the same work done with pyca alone."""

import os
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.concatkdf import ConcatKDFHash
from cryptography.hazmat.primitives.keywrap import aes_key_unwrap, aes_key_wrap

from bench.timing import fmt_seconds, in_turn
from exchange.protocol import envelope as env
from exchange.protocol.envelope import jose
from exchange.protocol.envelope.canonical import canonical
from exchange.protocol.envelope.templates import template
from keys import Identity
from schemas.enums import Kind
from schemas.record import RecordSchema

RECIPIENTS = 3
RECORD_BYTES = 4096
TARGET_RATIO = 3.0


def four_kib_record(sender: Identity) -> dict[str, Any]:
    record = template(Kind.CASE)
    record["sender"]["kid"] = sender.signing_kid
    body = record["body"]
    body["statement_of_reasons"] = ""
    padding = RECORD_BYTES - len(canonical({"typ": "hotline.record/v1", **record}))
    body["statement_of_reasons"] = "x" * padding
    assert len(canonical({"typ": "hotline.record/v1", **record})) == RECORD_BYTES
    return record


def _kdf(shared: bytes) -> bytes:
    # RFC 7518 §4.6.2 Concat KDF for ECDH-ES+A256KW, as the JOSE path computes it.
    other = b"\x00\x00\x00\x0eECDH-ES+A256KW" + b"\x00" * 8 + b"\x00\x00\x01\x00"
    return ConcatKDFHash(hashes.SHA256(), 32, other).derive(shared)


def floor_round_trip(
    payload: bytes,
    sender: Ed25519PrivateKey,
    recipients: list[X25519PrivateKey],
) -> None:
    """The cryptography of seal + open, with nothing around it."""
    inner_sig = sender.sign(payload)
    cek = os.urandom(32)
    nonce = os.urandom(12)
    ciphertext = AESGCM(cek).encrypt(nonce, payload + inner_sig, b"aad")
    wrapped = []
    for recipient in recipients:
        ephemeral = X25519PrivateKey.generate()
        kek = _kdf(ephemeral.exchange(recipient.public_key()))
        wrapped.append((ephemeral.public_key(), aes_key_wrap(kek, cek)))
    outer = b"statement" * 40
    outer_sig = sender.sign(outer)
    # open, as the first recipient
    epk, wrapped_key = wrapped[0]
    kek = _kdf(recipients[0].exchange(epk))
    plaintext = AESGCM(aes_key_unwrap(kek, wrapped_key)).decrypt(nonce, ciphertext, b"aad")
    public = sender.public_key()
    public.verify(outer_sig, outer)
    public.verify(inner_sig, plaintext[: len(payload)])


def run() -> list[str]:
    sender = Identity.generate()
    recipients = [Identity.generate() for _ in range(RECIPIENTS)]
    record = four_kib_record(sender)
    sender_keys = {sender.signing_kid: sender.signing_public_key}
    public_keys = [r.encryption_public_key for r in recipients]

    def ours() -> None:
        sealed = env.seal(record, sender.signing_key, public_keys)
        env.open(sealed, recipients[0].encryption_key, sender_keys, "example-platform")

    payload = canonical(record)
    private_keys = [r.encryption_key for r in recipients]
    sealed = env.seal(record, sender.signing_key, public_keys)
    inner = jose.sign_compact(payload, sender.signing_key, jose.RECORD_TYP).encode("ascii")
    parts = jose.parse_jwe(jose.encrypt(inner, public_keys), len(public_keys))
    typed = {"typ": "hotline.record/v1", **record}
    schema = RecordSchema()
    times = in_turn(
        {
            "floor": lambda: floor_round_trip(payload, sender.signing_key, private_keys),
            "both": ours,
            "seal": lambda: env.seal(record, sender.signing_key, public_keys),
            "open": lambda: env.open(
                sealed, recipients[0].encryption_key, sender_keys, "example-platform"
            ),
            "encrypt": lambda: jose.encrypt(inner, public_keys),
            "decrypt": lambda: jose.decrypt(parts, recipients[0].encryption_key),
            "validate": lambda: schema.load(typed),
            "canonical": lambda: canonical(typed),
        }
    )
    floor, both, seal_time, open_time = (times[k] for k in ("floor", "both", "seal", "open"))
    ratio = both / floor
    joserfc_jwe = times["encrypt"] + times["decrypt"]
    validation = 2 * times["validate"]  # the sender's and the recipient's
    canonical_json = 2 * times["canonical"]  # signed once, re-checked once
    verdict = "ok" if ratio <= TARGET_RATIO else "MISSED"
    return [
        f"envelope ({RECIPIENTS} recipients, {RECORD_BYTES} B record)",
        f"  seal {fmt_seconds(seal_time)}, open {fmt_seconds(open_time)}, "
        f"seal+open {fmt_seconds(both)}",
        f"  pyca floor (same primitives, nothing else) {fmt_seconds(floor)}"
        " (each timed in turn with the others, medians of 9 rounds)",
        f"  ratio {ratio:.2f}x (target <= {TARGET_RATIO}x): {verdict}",
        f"  of which joserfc's JWE encrypt + decrypt alone: {fmt_seconds(joserfc_jwe)} "
        f"({joserfc_jwe / floor:.2f}x the whole floor)",
        f"  of which validating the record (its load plan, on seal and on open): "
        f"{fmt_seconds(validation)} ({validation / floor:.2f}x)",
        f"  of which RFC 8785 canonical JSON of the record (on seal and on open): "
        f"{fmt_seconds(canonical_json)} ({canonical_json / floor:.2f}x)",
    ]
