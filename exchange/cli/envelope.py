"""`hotline envelope …`: the format, offline, so anyone can test an implementation."""

from pathlib import Path
from typing import Any

import click
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PublicKey

from exchange.cli.common import Refused, UsageProblem, echo_json, passphrase, read_json
from exchange.cli.contract import HotlineGroup, json_option
from exchange.protocol import envelope as env
from exchange.protocol.envelope.templates import template as example
from keys import Identity, InvalidJWKError, KeyStoreError, load_jwks, load_key_dir
from keys.jwk import PublicKey
from schemas.enums import SIGNED_ONLY_KINDS, Kind

_KEY_DIR = click.option(
    "--key-dir",
    required=True,
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="Your key directory (from `hotline keygen`).",
)


def _identity(key_dir: Path) -> Identity:
    try:
        return load_key_dir(key_dir, passphrase())
    except KeyStoreError as exc:
        raise Refused(str(exc)) from exc


def _jwks_file(path: str) -> dict[str, PublicKey]:
    try:
        return load_jwks(read_json(path))
    except InvalidJWKError as exc:
        raise UsageProblem(f"{path}: {exc}") from exc


@click.group(cls=HotlineGroup)
def envelope() -> None:
    """Build and open envelopes offline, with no server (their output is always JSON)."""


@envelope.command()
@click.option(
    "--kind",
    type=click.Choice([str(kind) for kind in Kind]),
    default=str(Kind.CASE),
    show_default=True,
)
@json_option
def template(kind: str, as_json: bool) -> None:
    """Print a valid example record of KIND, to edit and seal."""
    echo_json(example(Kind(kind)))


@envelope.command()
@_KEY_DIR
@click.option(
    "--to",
    "recipient_files",
    multiple=True,
    metavar="JWKS",
    help="A JWKS file of recipients; every encryption key in it can open. Repeatable.",
)
@click.argument("record_file", metavar="RECORD.json")
@json_option
def seal(key_dir: Path, recipient_files: tuple[str, ...], record_file: str, as_json: bool) -> None:
    """Sign RECORD.json and encrypt it to every encryption key in the --to files.

    Receipts and assignments carry no record: they are signed, not encrypted.
    """
    document: Any = read_json(record_file)
    if not isinstance(document, dict):
        raise UsageProblem(f"{record_file} must hold a JSON object")
    signed_only = document.get("kind") in SIGNED_ONLY_KINDS
    if signed_only and recipient_files:
        raise UsageProblem(f"a {document['kind']} is signed, not encrypted: drop --to")
    recipients = [
        key
        for path in recipient_files
        for key in _jwks_file(path).values()
        if isinstance(key, X25519PublicKey)
    ]
    if not signed_only and not recipients:
        raise UsageProblem("name the recipients' JWKS files with --to")
    identity = _identity(key_dir)
    sender = document.get("sender")
    if isinstance(sender, dict) and (
        sender.setdefault("kid", identity.signing_kid) != identity.signing_kid
    ):
        raise Refused(f"sender.kid is not the key in {key_dir} ({identity.signing_kid})")
    try:
        sealed = (
            env.sign_statement(document, identity.signing_key)
            if signed_only
            else env.seal(document, identity.signing_key, recipients)
        )
    except env.SealError as exc:
        raise Refused(str(exc)) from exc
    echo_json(sealed.to_json())


@envelope.command(name="open")
@_KEY_DIR
@click.option("--sender", "sender_file", required=True, metavar="JWKS", help="The sender's JWKS.")
@click.option("--org", help="Your organisation: the record must be addressed to it.")
@click.argument("envelope_file", metavar="ENVELOPE.json")
@json_option
def open_envelope(
    key_dir: Path, sender_file: str, org: str | None, envelope_file: str, as_json: bool
) -> None:
    """Verify ENVELOPE.json from the sender; print its record (or, unsealed, its statement)."""
    signing_keys = {
        kid: key
        for kid, key in _jwks_file(sender_file).items()
        if isinstance(key, Ed25519PublicKey)
    }
    try:
        sealed = env.Envelope.from_json(read_json(envelope_file))
        if sealed.jwe is None:
            echo_json(env.verify_statement(sealed, signing_keys).payload)
            return
        opened = env.open(sealed, _identity(key_dir).encryption_key, signing_keys, org)
    except env.EnvelopeError as exc:
        raise Refused(f"{exc.code}: {exc}") from exc
    if org is None:
        click.echo("note: addressing not checked; pass --org to check it", err=True)
    echo_json(opened.record)
