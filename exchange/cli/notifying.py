"""`hotline notify`: your notification targets (webhooks, e-mail) and their delivery log."""

import click

from exchange.cli.contract import HotlineGroup, UsageProblem, json_option
from exchange.cli.output import echo_json, relative, table
from exchange.cli.session import client, reports_errors
from schemas.enums import Priority
from schemas.subscriptions import SUBSCRIBABLE

_JSON = json_option


@click.group(cls=HotlineGroup)
def notify() -> None:
    """Be told of new cases and deadlines by webhook or e-mail instead of polling."""


@notify.command("add")
@click.option("--webhook", "url", help="An https URL that takes Standard Webhooks.")
@click.option("--email", "address", help="An e-mail address.")
@click.option(
    "--event",
    "events",
    multiple=True,
    type=click.Choice(SUBSCRIBABLE),
    help="What to be told of (repeatable; default: all).",
)
@click.option(
    "--priority",
    "priorities",
    multiple=True,
    type=click.Choice([str(p) for p in Priority]),
    help="Which priorities (repeatable; default: all).",
)
@click.option(
    "--organisation", is_flag=True, help="Every case of your organisation (platform leads)."
)
@_JSON
@reports_errors
def add(
    url: str | None,
    address: str | None,
    events: tuple[str, ...],
    priorities: tuple[str, ...],
    organisation: bool,
    as_json: bool,
) -> None:
    """Register a target. A webhook's signing secret is printed once: store it now."""
    if (url is None) == (address is None):
        raise UsageProblem("give exactly one of --webhook URL or --email ADDRESS")
    channel, target = ("webhook", url) if url is not None else ("email", address)
    assert target is not None
    with client() as session:
        created = session.notifications.add(
            channel,
            target,
            events=events or SUBSCRIBABLE,
            priorities=priorities or [str(p) for p in Priority],
            scope="organisation" if organisation else "own",
        )
    if as_json:
        echo_json(created)
        return
    click.echo(f"subscription {created['id']}: {channel} {target}")
    click.echo(
        f"events {', '.join(created['events'])}; priorities {', '.join(created['priorities'])}"
    )
    click.echo(f"on record at log index {created['log']['index']}")
    if created.get("secret"):
        click.echo(f"signing secret (shown once): {created['secret']}")


@notify.command("list")
@_JSON
@reports_errors
def list_targets(as_json: bool) -> None:
    """Your active targets."""
    with client() as session:
        targets = session.notifications.targets()
    if as_json:
        echo_json(targets)
        return
    table(
        [
            [t["id"], t["channel"], t["target"], ",".join(t["events"]), ",".join(t["priorities"])]
            for t in targets
        ],
        ["ID", "CHANNEL", "TARGET", "EVENTS", "PRIORITIES"],
    )


@notify.command("remove")
@click.argument("subscription_id")
@_JSON
@reports_errors
def remove(subscription_id: str, as_json: bool) -> None:
    """Remove a target (a signed statement in the log)."""
    with client() as session:
        removed = session.notifications.remove(subscription_id)
    if as_json:
        echo_json(removed)
        return
    click.echo(f"removed {removed['id']} at log index {removed['log_index']}")


@notify.command("test")
@click.argument("subscription_id")
@_JSON
@reports_errors
def test(subscription_id: str, as_json: bool) -> None:
    """Send a test message to a target; see it arrive with `hotline notify log`."""
    with client() as session:
        queued = session.notifications.test(subscription_id)
    if as_json:
        echo_json(queued)
        return
    click.echo(f"queued {queued['id']}")


@notify.command("log")
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1, 100))
@_JSON
@reports_errors
def log(limit: int, as_json: bool) -> None:
    """Your latest notifications and what became of each delivery attempt."""
    with client() as session:
        entries = session.notifications.log(limit)
    if as_json:
        echo_json(entries)
        return
    table(
        [
            [
                n["id"],
                n["event"],
                n["case_id"] or "-",
                n["status"],
                str(len(n["attempts"])),
                relative(n["created_at"]),
                n["last_error"] or "",
            ]
            for n in entries
        ],
        ["ID", "EVENT", "CASE", "STATUS", "TRIES", "QUEUED", "LAST ERROR"],
    )
