"""The `hotline` command: one group, one module per concern.

Exit codes: 0 ok; 1 refused by the server or a failed check; 2 usage or connection error.
The contract every command keeps is `exchange.cli.contract` (docs/cli.md).
"""

import click

from exchange.cli import account, casework
from exchange.cli.contract import HotlineGroup
from exchange.cli.dsa_export import export_dsa
from exchange.cli.envelope import envelope
from exchange.cli.keygen import keygen
from exchange.cli.log_audit import audit
from exchange.cli.membership import key, org
from exchange.cli.monitor import monitor
from exchange.cli.notifying import notify
from exchange.cli.reporting import report


@click.group(cls=HotlineGroup)
@click.option("--profile", envvar="HOTLINE_PROFILE", help="Use this profile, not the default.")
@click.version_option(package_name="hotline-exchange")
def main(profile: str | None) -> None:
    """Hotline Exchange client: send, receive and verify takedown cases."""


for command in (
    keygen,
    envelope,
    account.enroll,
    account.init_profile,
    account.whoami,
    account.directory,
    casework.submit,
    casework.inbox,
    casework.show,
    casework.ack,
    casework.respond,
    casework.ask,
    casework.supplement,
    casework.withdraw,
    casework.close_case,
    casework.assign,
    casework.cases,
    export_dsa,
):
    main.add_command(command)
main.add_command(audit)
main.add_command(report)
main.add_command(notify)
main.add_command(org)
main.add_command(key)
main.add_command(monitor)
main.add_command(account.profile)
