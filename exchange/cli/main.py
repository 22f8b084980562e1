"""The `hotline` command: one group, one module per concern."""

import click

from exchange.cli.envelope import envelope
from exchange.cli.keygen import keygen


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="hotline-exchange")
def main() -> None:
    """Hotline Exchange client: send, receive and verify takedown cases."""


main.add_command(keygen)
main.add_command(envelope)
