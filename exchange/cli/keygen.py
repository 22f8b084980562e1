"""`hotline keygen`: an identity on disk, in the file names other tools expect."""

from pathlib import Path

import click

from exchange.cli.common import Refused, echo_json, passphrase
from keys import KeyStoreError, create_key_dir


@click.command()
@click.option(
    "--key-dir",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Directory for signing-key.pem, encryption-key.pem and public.jwks.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the public JWKS as JSON.")
def keygen(key_dir: Path, as_json: bool) -> None:
    """Generate an Ed25519 signing key and an X25519 encryption key."""
    try:
        identity = create_key_dir(key_dir, passphrase(confirm=True))
    except KeyStoreError as exc:
        raise Refused(str(exc)) from exc
    if as_json:
        echo_json(identity.public_jwks())
        return
    click.echo(f"Wrote {key_dir}/signing-key.pem, encryption-key.pem and public.jwks")
    click.echo(f"  signing key    {identity.signing_kid}")
    click.echo(f"  encryption key {identity.encryption_kid}")
