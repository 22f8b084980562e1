"""`flask --app wsgi admin …`: the operator's commands. Admin operations exist only here.

Every command that changes something runs in one write transaction with its log entry.
"""

import json
import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import click
from flask import Flask, current_app
from flask.cli import AppGroup
from sqlalchemy.orm import Session

from exchange import runtime
from exchange.errors import ExchangeError
from exchange.log import rotation
from exchange.ops import backup
from exchange.protocol.deadline_policy import Periods, PolicyError, Scope, parse_period
from exchange.runtime import now, server_keys
from exchange.services import deadlines, enrollment, operator, policies
from exchange.storage import migrate
from schemas.enums import Category, OrgKind, Priority, Role

admin = AppGroup("admin", help="Operate the exchange: organisations, officials, routing.")
_operations_log = logging.getLogger(__name__)


class AdminRefused(click.ClickException):
    exit_code = 1


@contextmanager
def _operation() -> Iterator[Session]:
    try:
        with runtime.write() as session:
            yield session
    except ExchangeError as exc:
        raise AdminRefused(exc.detail) from exc


def _echo_rows(rows: list[dict[str, Any]], as_json: bool, columns: list[str]) -> None:
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    if not rows:
        click.echo("(none)")
        return
    widths = {c: max(len(c), *(len(str(r.get(c, ""))) for r in rows)) for c in columns}
    click.echo("  ".join(c.upper().ljust(widths[c]) for c in columns))
    for row in rows:
        click.echo("  ".join(str(row.get(c, "")).ljust(widths[c]) for c in columns))


_JSON = click.option("--json", "as_json", is_flag=True, help="Print JSON.")


@admin.command("init")
def init_command() -> None:
    """Create or upgrade the database schema; the server keys exist once the app starts."""
    engine = runtime.get_database().engine
    migrate.upgrade(engine)
    keys_now = server_keys()
    click.echo(f"Database at revision {migrate.current_revision(engine)}")
    click.echo(f"Log origin      {keys_now.log.name}")
    click.echo(f"Log verifier key {keys_now.log.verifier_key}")
    flask = _flask_command()
    env_file = Path(current_app.instance_path) / "dev.env"
    settings = f"  . {_shown(env_file)}\n" if env_file.exists() else ""
    click.echo(
        "Next: in another terminal, create organisations and invite their officials:\n"
        f"{settings}"
        f"  {flask} admin org create metro-police --kind agency --name 'Metro Police'\n"
        f"  {flask} admin official invite metro-police officer-1 --role agency_officer"
        " --bootstrap-lead\n"
        "then each official runs the `hotline enroll` command that the invite prints; each"
        " organisation's first lead invites and approves the others (`hotline org`)."
    )


def _shown(path: Path) -> str:
    """A path as the user types it: relative to the working directory where it can be."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def _flask_command() -> str:
    """`flask --app wsgi` with the path of this environment's flask, which works unactivated."""
    return f"{_shown(Path(sys.executable).parent / 'flask')} --app wsgi"


@admin.command("sweep")
def sweep_command() -> None:
    """Log each newly missed acknowledgement or action deadline (run from cron)."""
    with _operation() as session:
        breached = deadlines.sweep(session, now())
    for case_id, deadline in breached:
        click.echo(f"deadline_breached {case_id} {deadline}")
    click.echo(f"{len(breached)} new breach(es) logged")


org = AppGroup("org", help="Organisations.")
admin.add_command(org)


@org.command("create")
@click.argument("org_id")
@click.option("--kind", type=click.Choice([str(v) for v in OrgKind]), required=True)
@click.option("--name", required=True)
def org_create(org_id: str, kind: str, name: str) -> None:
    """Create an agency, platform or auditor organisation."""
    with _operation() as session:
        operator.create_organisation(session, now(), org_id, kind, name)
    click.echo(f"Created {kind} {org_id}")


@org.command("replace-leads")
@click.argument("org_id")
@click.argument("official_id")
def org_replace_leads(org_id: str, official_id: str) -> None:
    """Start replacing all of ORG_ID's leads with OFFICIAL_ID (invite them first).

    Logged now; it takes effect only with `complete-replacement` after
    LEAD_REPLACEMENT_WAIT_SECONDS, unless a current lead objects (`hotline org object`).
    """
    wait = timedelta(seconds=current_app.config["LEAD_REPLACEMENT_WAIT_SECONDS"])
    with _operation() as session:
        replacement = operator.start_lead_replacement(session, now(), wait, org_id, official_id)
        effective = replacement.effective_at.isoformat()
        ident = replacement.id
    click.echo(
        f"Replacement {ident} of {org_id}'s leads by {official_id} pending until {effective}"
    )
    click.echo(f"Its leads may object: hotline org object {ident}")


@org.command("complete-replacement")
@click.argument("org_id")
def org_complete_replacement(org_id: str) -> None:
    """After the waiting period, with no objection: the new lead replaces all others."""
    with _operation() as session:
        replacement = operator.complete_lead_replacement(session, now(), org_id)
        official_id = replacement.official_id
    click.echo(f"{official_id} is now the only lead of {org_id}")


@org.command("list")
@_JSON
def org_list(as_json: bool) -> None:
    from exchange.api.views import organisation
    from exchange.services import directory

    with runtime.read() as session:
        rows = [organisation(o) for o in directory.organisations(session)]
    _echo_rows(rows, as_json, ["id", "kind", "name", "active"])


official = AppGroup("official", help="Designated officials.")
admin.add_command(official)


def _split(values: tuple[str, ...]) -> list[str]:
    return [part.strip() for value in values for part in value.split(",") if part.strip()]


def _contact(pairs: tuple[str, ...]) -> dict[str, str]:
    contact = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or name not in ("email", "phone", "hours", "url"):
            raise click.BadParameter(
                "use email=…, phone=…, hours=… or url=…", param_hint="--contact"
            )
        contact[name] = value
    return contact


@official.command("invite")
@click.argument("org_id")
@click.argument("official_id")
@click.option("--role", type=click.Choice([str(v) for v in Role]), required=True)
@click.option("--title", default=None, help="e.g. 'Trust & Safety lead, EU'.")
@click.option("--categories", multiple=True, help=f"Comma-separated: {', '.join(Category)}.")
@click.option("--languages", multiple=True, help="Comma-separated BCP 47 tags.")
@click.option("--contact", multiple=True, help="email=…, phone=…, hours=… or url=… (repeat).")
@click.option("--code-ttl-hours", type=click.IntRange(1, 24 * 30), default=None)
@click.option(
    "--bootstrap-lead",
    is_flag=True,
    help="The organisation's first lead (logged as such); refused once it has had one.",
)
@click.option(
    "--reissue",
    is_flag=True,
    help="Give an enrolled official a new code (lost keys, a new device); details not"
    " given here are kept.",
)
@click.option(
    "--quiet", "-q", is_flag=True, help="Print only the enrollment code (for scripts: code=$(…))."
)
def official_invite(
    org_id: str,
    official_id: str,
    role: str,
    title: str | None,
    categories: tuple[str, ...],
    languages: tuple[str, ...],
    contact: tuple[str, ...],
    code_ttl_hours: int | None,
    bootstrap_lead: bool,
    reissue: bool,
    quiet: bool,
) -> None:
    """Invite an official; print the one-time enrollment code to hand over securely.

    The invitation is pending until a lead of the organisation approves it (`hotline org
    approve`): until then the official receives no case. Only an organisation's first lead
    is the operator's to make, with --bootstrap-lead. Inviting an official who already
    enrolled is refused unless --reissue.
    """
    ttl = (
        timedelta(hours=code_ttl_hours)
        if code_ttl_hours
        else timedelta(seconds=current_app.config["ENROLLMENT_CODE_TTL_SECONDS"])
    )
    with _operation() as session:
        _, code = operator.invite_official(
            session,
            now(),
            ttl,
            org_id=org_id,
            official_id=official_id,
            role=role,
            title=title,
            categories=_split(categories) if categories else None,
            languages=_split(languages) if languages else None,
            contact=_contact(contact) if contact else None,
            bootstrap_lead=bootstrap_lead,
            reissue=reissue,
        )
    if quiet:
        click.echo(code)
        return
    if bootstrap_lead:
        click.echo(f"Invited {official_id} ({role}) as the first lead of {org_id}.")
    else:
        click.echo(f"Invited {official_id} ({role}) of {org_id}; a lead of {org_id} approves.")
    hours = int(ttl.total_seconds() // 3600)
    click.echo(f"Enrollment code: {code}  (single use; expires in {hours} h)")
    click.echo(
        f"They run: hotline enroll --server {current_app.config['PUBLIC_URL']} "
        f"--code {code} --key-dir ~/.hotline/{official_id}"
    )


@official.command("deactivate")
@click.argument("official_id")
def official_deactivate(official_id: str) -> None:
    """Deactivate an official: refused from their next request on."""
    with _operation() as session:
        operator.deactivate_official(session, now(), official_id)
    click.echo(f"Deactivated {official_id}")


@official.command("list")
@click.option("--org", "org_id")
@_JSON
def official_list(org_id: str | None, as_json: bool) -> None:
    from exchange.api.views import official as view

    with runtime.read() as session:
        rows = [
            {**view(o), "active": o.active, "categories": ",".join(o.categories)}
            for o in operator.all_officials(session, org_id)
        ]
    _echo_rows(rows, as_json, ["id", "org", "role", "active", "enrolled", "title", "categories"])


# Routing is signed by a platform's lead (`hotline org route`); the operator only reads it.
routing = AppGroup("routing", help="Which official receives new cases of a category.")
admin.add_command(routing)


@routing.command("list")
@click.option("--platform", "platform_org")
@_JSON
def routing_list(platform_org: str | None, as_json: bool) -> None:
    with runtime.read() as session:
        rows = [
            {"platform": r.platform_id, "category": r.category, "official": r.official_id}
            for r in operator.routes(session, platform_org)
        ]
    _echo_rows(rows, as_json, ["platform", "category", "official"])


key = AppGroup("key", help="Officials' enrollment.")
admin.add_command(key)


# A kid is base64url and may begin with "-": never read it as an option.
@key.command("revoke", context_settings={"ignore_unknown_options": True})
@click.argument("kid")
@click.option(
    "--reason", type=click.Choice(["compromised", "lost", "superseded", "other"]), required=True
)
def key_revoke(kid: str, reason: str) -> None:
    """Revoke an official's key as the operator (for example when a laptop is stolen)."""
    with _operation() as session:
        enrollment.revoke_by_operator(session, now(), kid, reason)
    click.echo(f"Revoked {kid}")


@key.command("list")
@click.argument("official_id")
@_JSON
def key_list(official_id: str, as_json: bool) -> None:
    with runtime.read() as session:
        rows = [
            {"kid": k.kid, "use": k.use, "status": k.status, "log_index": k.registered_log_index}
            for k in operator.official_keys(session, official_id)
        ]
    _echo_rows(rows, as_json, ["kid", "use", "status", "log_index"])


# --- deadline policies ------------------------------------------------------------------------

deadline_policy = AppGroup(
    "deadline-policy", help="Deadlines per legal basis, category and priority, for new cases."
)
admin.add_command(deadline_policy)


def _period(_ctx: click.Context, _param: click.Parameter, value: str) -> timedelta:
    try:
        return parse_period(value)
    except PolicyError as exc:
        raise click.BadParameter(str(exc)) from exc


@deadline_policy.command("set")
@click.argument("name")
@click.option("--jurisdiction", help="ISO 3166-1 alpha-2 code or EU; any if omitted.")
@click.option("--instrument", help="The law, as agencies cite it (needs --jurisdiction).")
@click.option("--article", help="The article of --instrument.")
@click.option("--category", type=click.Choice([str(v) for v in Category]))
@click.option("--priority", type=click.Choice([str(v) for v in Priority]))
@click.option("--ack", required=True, callback=_period, help="Acknowledge within, e.g. 1h.")
@click.option("--action", required=True, callback=_period, help="Act within, e.g. 24h.")
@click.option("--answer", required=True, callback=_period, help="Answer a question within.")
def deadline_policy_set(
    name: str,
    jurisdiction: str | None,
    instrument: str | None,
    article: str | None,
    category: str | None,
    priority: str | None,
    ack: timedelta,
    action: timedelta,
    answer: timedelta,
) -> None:
    """Put the next version of policy NAME in force for cases opened from now on."""
    scope = Scope(jurisdiction, instrument, article, category, priority)
    with _operation() as session:
        policy = policies.set_policy(session, now(), name, scope, Periods(ack, action, answer))
    click.echo(f"Deadline policy {policy.name} v{policy.version} applies to new cases")


@deadline_policy.command("retire")
@click.argument("name")
def deadline_policy_retire(name: str) -> None:
    """Stop applying policy NAME to new cases (cases already open keep it)."""
    with _operation() as session:
        policy = policies.retire_policy(session, now(), name)
    click.echo(f"Deadline policy {policy.name} retired (v{policy.version})")


@deadline_policy.command("list")
@click.option("--all", "every_version", is_flag=True, help="Every version, retired ones too.")
@_JSON
def deadline_policy_list(every_version: bool, as_json: bool) -> None:
    with runtime.read() as session:
        rows = [
            {
                "name": v.name,
                "version": v.version,
                "retired": v.retired,
                "jurisdiction": v.jurisdiction,
                "instrument": v.instrument,
                "article": v.article,
                "category": v.category,
                "priority": v.priority,
                "ack_within": v.ack_seconds,
                "action_within": v.action_seconds,
                "answer_within": v.answer_seconds,
                "log_index": v.log_index,
            }
            for v in policies.history(session)
        ]
    if not every_version:
        newest = {row["name"]: row for row in rows}
        rows = [row for row in newest.values() if not row["retired"]]
    columns = ["name", "version", "jurisdiction", "instrument", "article", "category"]
    columns += ["priority", "ack_within", "action_within", "answer_within"]
    _echo_rows(rows, as_json, columns + (["retired", "log_index"] if every_version else []))


# --- the server's keys and backups ----------------------------------------------------------


@admin.command("rotate-log-key")
def rotate_log_key_command() -> None:
    """Replace the log's checkpoint key; the rotation is itself a log entry (see docs)."""
    app = runtime.current()
    done = rotation.rotate_log_key(app.database, app.key_directory, app.keys, now())
    runtime.reload_keys()
    verb = "Finished the interrupted rotation" if done.resumed else "Rotated the log key"
    click.echo(f"{verb} at log entry {done.log_index}.")
    click.echo(f"Old verifier key (retired) {done.old_verifier_key}")
    click.echo(f"New verifier key           {done.new_verifier_key}")
    click.echo(
        "Copy the key directory to every instance and restart them: until then their "
        "/readyz answers 503."
    )


@admin.command("rotate-token-key")
def rotate_token_key_command() -> None:
    """Replace the access-token key: every token issued so far stops working."""
    rotation.rotate_token_key(runtime.current().key_directory)
    runtime.reload_keys()
    _operations_log.warning(
        "the access-token key was rotated", extra={"event": "token_key_rotated"}
    )
    click.echo("Rotated the access-token key: clients sign in again on their next request.")
    click.echo("Copy the key directory to every instance and restart them.")


def _log_keys() -> backup.LogKeys:
    keys_now = server_keys()
    return backup.LogKeys(keys_now.log.name, keys_now.log_verifier_keys)


@admin.command("backup")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
def backup_command(path: Path) -> None:
    """Write a consistent backup of the live database to PATH (a new file), verified."""
    try:
        check = backup.backup(runtime.get_database().engine, path, _log_keys())
    except backup.BackupError as exc:
        raise AdminRefused(str(exc)) from exc
    click.echo(f"Backed up to {path}: {check.describe()}.")


@admin.command("restore")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def restore_command(path: Path) -> None:
    """Restore PATH into the configured, empty database, if the log in it verifies."""
    engine = runtime.get_database().engine
    try:
        check = backup.restore(engine, path, _log_keys())
    except backup.BackupError as exc:
        raise AdminRefused(f"restore refused: {exc}") from exc
    finally:
        engine.dispose()
    click.echo(f"Restored {path}: {check.describe()}.")
    click.echo("Run `flask --app wsgi admin init` to bring its schema up to date.")


@admin.command("cosign")
@click.option("--every", type=click.FloatRange(min=0), default=0, help="Repeat every N seconds.")
def cosign_command(every: float) -> None:
    """Ask the witnesses of WITNESS_POLICY_FILE to cosign the newest checkpoint."""
    import time

    from exchange.ops import cosigner

    policy_file = current_app.config.get("WITNESS_POLICY_FILE")
    if not policy_file:
        raise AdminRefused("EXCHANGE_WITNESS_POLICY_FILE is not set")
    witnesses = cosigner.witnesses_from_policy(Path(policy_file))
    with cosigner.http_client() as client:
        while True:
            for outcome in cosigner.cosign_round(runtime.get_database(), witnesses, client, now):
                click.echo(f"{outcome.witness} size {outcome.size}: {outcome.result}")
            if not every:
                return
            time.sleep(every)


def init_app(app: Flask) -> None:
    app.cli.add_command(admin)


__all__ = ["admin", "init_app"]
