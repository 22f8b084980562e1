"""`hotline org …` and `hotline key …`: leads sign their organisation's membership; every
official rotates and revokes their own keys.

Each change is a statement signed on this machine with your key and checked in the log's
answer: the entry holds exactly what you signed.
"""

import dataclasses
from pathlib import Path
from typing import Any

import click

from exchange.cli.common import UsageProblem, passphrase
from exchange.cli.contract import HotlineGroup, json_option
from exchange.cli.output import echo_json, table
from exchange.cli.session import client, profile_name, reports_errors
from exchange.client import profile as profiles
from keys import create_key_dir, has_keys
from schemas.enums import Category, Role

_JSON = json_option
_ROLE = click.option("--role", type=click.Choice([str(r) for r in Role]), required=True)
_CATEGORIES = click.option(
    "--categories", default="", help=f"Comma-separated: {', '.join(Category)}."
)
_LEAD = click.option("--lead", is_flag=True, help="A lead too: signs membership statements.")


def _categories(value: str) -> list[str]:
    chosen = sorted({part.strip() for part in value.split(",") if part.strip()})
    unknown = [c for c in chosen if c not in set(Category)]
    if unknown:
        raise UsageProblem(f"unknown categories: {', '.join(unknown)}")
    return chosen


def _changed(answer: dict[str, Any], as_json: bool, said: str) -> None:
    if as_json:
        echo_json(answer)
        return
    click.echo(f"{said} (log entry {answer['log']['index']}, signed by you).")
    if answer.get("code"):
        click.echo(f"Enrollment code: {answer['code']}  (single use; hand it over securely)")


@click.group(name="org", cls=HotlineGroup)
def org() -> None:
    """Your organisation's membership, signed by its leads."""


@org.command(name="members")
@_JSON
@reports_errors
def members(as_json: bool) -> None:
    """Every official of your organisation, with invitations awaiting a lead's approval."""
    with client() as session:
        people = session.members()
    if as_json:
        echo_json(people)
        return
    table(
        [
            [
                p["id"],
                p["role"],
                ",".join(p["categories"]),
                "yes" if p["lead"] else "",
                "approved" if p["approved"] else ("PENDING" if p["active"] else "removed"),
            ]
            for p in people
        ],
        ["OFFICIAL", "ROLE", "CATEGORIES", "LEAD", "STATUS"],
    )


@org.command(name="invite")
@click.argument("official")
@_ROLE
@_CATEGORIES
@_LEAD
@click.option("--title", default="", help="e.g. 'Trust & Safety, night shift'.")
@_JSON
@reports_errors
def invite(
    official: str, role: str, categories: str, lead: bool, title: str, as_json: bool
) -> None:
    """Invite an official, approved by you: prints their one-time enrollment code."""
    with client() as session:
        answer = session.membership(
            "invite",
            official=official,
            role=role,
            categories=_categories(categories),
            lead=lead,
            title=title,
        )
    _changed(answer, as_json, f"Invited {official} ({role})")


@org.command(name="approve")
@click.argument("official")
@_ROLE
@_CATEGORIES
@_LEAD
@_JSON
@reports_errors
def approve(official: str, role: str, categories: str, lead: bool, as_json: bool) -> None:
    """Approve an official (the operator's invitation), or change their role or categories."""
    with client() as session:
        answer = session.membership(
            "approve", official=official, role=role, categories=_categories(categories), lead=lead
        )
    _changed(answer, as_json, f"Approved {official} as {role}")


@org.command(name="remove")
@click.argument("official")
@_JSON
@reports_errors
def remove(official: str, as_json: bool) -> None:
    """Remove an official: they receive, sign and read nothing from now on."""
    with client() as session:
        answer = session.membership("remove", official=official)
    _changed(answer, as_json, f"Removed {official}")


@org.command(name="route")
@click.argument("category", type=click.Choice([str(c) for c in Category]))
@click.argument("official")
@_JSON
@reports_errors
def route(category: str, official: str, as_json: bool) -> None:
    """New cases of CATEGORY go to OFFICIAL (an approved official of your platform)."""
    with client() as session:
        answer = session.membership("route", category=category, official=official)
    _changed(answer, as_json, f"New {category} cases go to {official}")


@org.command(name="object")
@click.argument("replacement")
@_JSON
@reports_errors
def object_to(replacement: str, as_json: bool) -> None:
    """Cancel the operator's pending replacement of your organisation's leads."""
    with client() as session:
        answer = session.membership("object", replacement=replacement)
    _changed(answer, as_json, f"Objected to replacement {replacement}")


@click.group(name="key", cls=HotlineGroup)
def key() -> None:
    """Your own keys: rotate them, or revoke a lost or compromised one."""


@key.command(name="rotate")
@click.option(
    "--new-key-dir",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Where to create the new keys; the old ones stay where they are.",
)
@_JSON
@reports_errors
def rotate(new_key_dir: Path, as_json: bool) -> None:
    """Create new keys, register them (signed by your current key), and use them from now on.

    Keep the old key folder: it still opens the cases sealed to your old encryption key.
    """
    if has_keys(new_key_dir):
        raise UsageProblem(f"{new_key_dir} already holds keys; name an empty folder")
    with client() as session:
        new = create_key_dir(new_key_dir, passphrase())
        answer = session.rotate_keys(new)
        profile = session.profile
    updated = dataclasses.replace(profile, key_dir=str(new_key_dir.resolve()))
    profiles.save(updated, make_default=False)
    if as_json:
        echo_json({**answer, "profile": profile_name() or profile.name})
        return
    click.echo(f"Rotated: new signing key {new.signing_kid} (log entry {answer['log']['index']}).")
    click.echo(f"Profile {updated.name!r} now uses {updated.key_dir}; keep {profile.key_dir}.")


# A kid is base64url and begins with "-" one time in 64: never read it as an option.
@key.command(name="revoke", context_settings={"ignore_unknown_options": True})
@click.argument("kid")
@click.option(
    "--reason",
    type=click.Choice(["compromised", "lost", "superseded", "other"]),
    required=True,
)
@_JSON
@reports_errors
def revoke(kid: str, reason: str, as_json: bool) -> None:
    """Revoke one of your keys, with a statement signed by your current key."""
    with client() as session:
        answer = session.revoke_key(kid, reason)
    if as_json:
        echo_json(answer)
        return
    click.echo(f"Revoked {kid} ({reason}) at log entry {answer['log']['index']}.")
