"""Who you are: enroll, init, whoami, and the directory."""

import sys
from pathlib import Path
from typing import Any

import click

from exchange.cli.common import Refused, UsageProblem, passphrase
from exchange.cli.output import echo_json, table
from exchange.cli.session import client, profile_name, reports_errors
from exchange.client import authoring
from exchange.client import profile as profiles
from exchange.client.profile import Profile
from exchange.client.transport import Transport
from exchange.protocol.checkpoint import verify_checkpoint
from exchange.protocol.key_management import code_sha256
from exchange.protocol.verification import VerificationError
from keys import create_key_dir, has_keys, load_key_dir

_JSON = click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")


def _pin_log_key(transport: Transport, expected: str | None, assume_yes: bool) -> tuple[str, str]:
    """Show the log's verifier key and pin it: checkpoints will be checked against it."""
    log = transport.request("GET", "/v1/log/key", auth=False)
    key, origin = log["verifier_key"], log["origin"]
    if expected is not None:
        if expected != key:
            raise Refused(f"the server's log key is {key}, not the expected {expected}")
        return key, origin
    click.echo(f"The exchange's log is signed with:\n  {key}\n", err=True)
    click.echo("Compare it with the one your operator published.", err=True)
    if not assume_yes and sys.stdin.isatty():
        click.confirm("Pin this key?", abort=True, err=True)
    return key, origin


@click.command()
@click.option("--server", required=True, help="The exchange's URL.")
@click.option("--code", required=True, help="Your one-time enrollment code.")
@click.option("--key-dir", required=True, type=click.Path(file_okay=False, path_type=Path))
@click.option("--log-key", help="The log verifier key your operator published (else shown).")
@click.option("--yes", "assume_yes", is_flag=True, help="Pin the shown log key without asking.")
@_JSON
@reports_errors
def enroll(
    server: str, code: str, key_dir: Path, log_key: str | None, assume_yes: bool, as_json: bool
) -> None:
    """Enroll with a one-time code: generate keys if needed, register them, save a profile."""
    secret = passphrase(confirm=not has_keys(key_dir))
    identity = (
        load_key_dir(key_dir, secret) if has_keys(key_dir) else create_key_dir(key_dir, secret)
    )
    transport = Transport(server)
    try:
        invited = transport.post_json("/v1/enroll/invitation", {"code": code}, auth=False)
        pinned, origin = _pin_log_key(transport, log_key, assume_yes)
        statement = authoring.enrollment(
            identity, invited["org"], invited["official"], code_sha256(code), transport.clock()
        )
        enrolled = transport.post_json(
            "/v1/enroll", {"code": code, "statement": statement}, auth=False
        )
    finally:
        transport.close()
    if enrolled["log_verifier_key"] != pinned:
        raise Refused("the server enrolled you under another log key than the one shown")
    try:
        verify_checkpoint(enrolled["log"]["checkpoint"], [pinned], origin)
    except VerificationError as exc:
        raise Refused(f"the enrollment's log receipt does not verify: {exc}") from exc
    profile = Profile(
        name=profile_name() or invited["official"],
        server=server.rstrip("/"),
        key_dir=str(key_dir.resolve()),
        org=invited["org"],
        official=invited["official"],
        log_origin=origin,
        log_verifier_keys=(pinned,),
        audience=enrolled["token_endpoint"],
    )
    saved = profiles.save(profile)
    if as_json:
        echo_json(
            {
                "profile": profile.name,
                "official": profile.official,
                "org": profile.org,
                "role": invited["role"],
                "log_index": enrolled["log"]["index"],
            }
        )
        return
    click.echo(f"Enrolled {profile.official} ({invited['role']}) of {profile.org}.")
    click.echo(f"Your enrollment is log entry {enrolled['log']['index']}.")
    click.echo(f"Profile {profile.name!r} saved in {saved}; every command now works without flags.")


@click.command(name="init")
@click.option("--server", required=True)
@click.option(
    "--key-dir", required=True, type=click.Path(exists=True, file_okay=False, path_type=Path)
)
@click.option("--org", required=True)
@click.option("--official", required=True)
@click.option("--log-key", help="The log verifier key (else fetched and shown).")
@click.option("--yes", "assume_yes", is_flag=True)
@reports_errors
def init_profile(
    server: str, key_dir: Path, org: str, official: str, log_key: str | None, assume_yes: bool
) -> None:
    """Write a profile by hand, for keys that are already enrolled."""
    if not has_keys(key_dir):
        raise UsageProblem(f"{key_dir} holds no keys; run `hotline keygen` or `hotline enroll`")
    transport = Transport(server)
    try:
        pinned, origin = _pin_log_key(transport, log_key, assume_yes)
    finally:
        transport.close()
    profile = Profile(
        name=profile_name() or official,
        server=server.rstrip("/"),
        key_dir=str(key_dir.resolve()),
        org=org,
        official=official,
        log_origin=origin,
        log_verifier_keys=(pinned,),
    )
    click.echo(f"Profile {profile.name!r} saved in {profiles.save(profile)}")


@click.command()
@_JSON
@reports_errors
def whoami(as_json: bool) -> None:
    """Who this profile is, as the server sees them."""
    with client() as session:
        me = session.whoami()
        me["profile"] = session.profile.name
    if as_json:
        echo_json(me)
        return
    click.echo(f"{me['id']} ({me['role']}) of {me['org']} on {me['server']}")
    click.echo(f"signing key {me['kid']}; profile {me['profile']}")


@click.command()
@click.argument("org", required=False)
@_JSON
@reports_errors
def directory(org: str | None, as_json: bool) -> None:
    """List organisations, or one organisation's officials and their (log-verified) keys."""
    with client() as session:
        if org is None:
            orgs = session.organisations()
            if as_json:
                echo_json(orgs)
            else:
                table([[o["id"], o["kind"], o["name"]] for o in orgs], ["ORG", "KIND", "NAME"])
            return
        people: list[dict[str, Any]] = session.officials(org)
        keys = session.keys(org)
    if as_json:
        echo_json({"org": org, "officials": people, "keys": keys})
        return
    table(
        [
            [
                p["id"],
                p["role"],
                p["title"],
                ",".join(p["categories"]),
                str(p["contact"].get("email", "")),
            ]
            for p in people
        ],
        ["OFFICIAL", "ROLE", "TITLE", "CATEGORIES", "CONTACT"],
    )
    click.echo(f"{len(keys)} key(s), each proven registered in the log.")
