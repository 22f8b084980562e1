"""`hotline-witness`: make a witness key, print its verifier key, and serve the witness.

    hotline-witness keygen --key witness.pem --name witness.example.org/w1
    hotline-witness serve --key witness.pem --name witness.example.org/w1 \\
        --state witness.db --log "<log origin>+<key id>+<key>" --port 7380

Every option can also come from the environment: HOTLINE_WITNESS_KEY, _NAME, _STATE,
_LOG (space-separated), _HOST, _PORT.
"""

import contextlib
import os
import sys
from pathlib import Path

import click
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from werkzeug.serving import make_server

from exchange.protocol.verification import VerificationError
from exchange.witness.app import create_witness_app
from exchange.witness.cosigning import WitnessIdentity, logs_by_origin
from exchange.witness.state import WitnessState


def _load_key(path: Path) -> Ed25519PrivateKey:
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (OSError, ValueError) as exc:
        raise click.ClickException(f"cannot read the witness key {path}: {exc}") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise click.ClickException(f"{path} is not an Ed25519 private key")
    return key


def _identity(key: Path, name: str) -> WitnessIdentity:
    identity = WitnessIdentity(name, _load_key(key))
    try:
        identity.vkey  # noqa: B018 - checks the name
    except VerificationError as exc:
        raise click.ClickException(str(exc)) from None
    return identity


@click.group(context_settings={"auto_envvar_prefix": "HOTLINE_WITNESS"})
def main() -> None:
    """A C2SP tlog-witness for Hotline Exchange logs."""


_KEY = click.option("--key", type=click.Path(path_type=Path), required=True)
_NAME = click.option("--name", required=True, help="The witness's name, e.g. court.example/w1.")


@main.command()
@_KEY
@_NAME
def keygen(key: Path, name: str) -> None:
    """Write a new Ed25519 key (owner-only) and print the witness's verifier key."""
    if key.exists():
        raise click.ClickException(f"{key} exists; a witness keeps its key for life")
    private = Ed25519PrivateKey.generate()
    pem = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    descriptor = os.open(key, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(pem)
    click.echo(_identity(key, name).vkey)


@main.command()
@_KEY
@_NAME
def vkey(key: Path, name: str) -> None:
    """Print the witness's verifier key (what verifiers pin in their witness policy)."""
    click.echo(_identity(key, name).vkey)


@main.command()
@_KEY
@_NAME
@click.option("--state", type=click.Path(path_type=Path), required=True, help="SQLite file.")
@click.option("--log", "log_vkeys", multiple=True, required=True, help="A log's verifier key.")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=click.IntRange(0, 65535), default=7380, show_default=True)
def serve(
    key: Path, name: str, state: Path, log_vkeys: tuple[str, ...], host: str, port: int
) -> None:
    """Serve POST /add-checkpoint until interrupted."""
    vkeys = [v for value in log_vkeys for v in value.split()]
    try:
        logs = logs_by_origin(vkeys)
    except VerificationError as exc:
        raise click.ClickException(f"--log: {exc}") from None
    identity = _identity(key, name)
    app = create_witness_app(identity, logs, WitnessState(state))
    server = make_server(host, port, app, threaded=True)
    click.echo(f"witness {identity.vkey} on http://{host}:{server.server_port}", err=True)
    sys.stderr.flush()
    with contextlib.suppress(KeyboardInterrupt):
        server.serve_forever()
