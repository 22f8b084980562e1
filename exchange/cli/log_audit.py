"""`hotline audit …`: check the transparency log against a pinned key, from a server or a bundle.

Exit codes: 0 verified; 1 the log is tampered or inconsistent, or a key does not open
(wrong passphrase); 2 usage or connection error.

The last checkpoint that fully verified is kept (`--state`, by default one file per log
and profile under the user's config directory; runs without a profile, such as an
offline `--bundle` check, share one of their own) and the next run must extend it. Where no key is
pinned (`--log-key`, or a state from an earlier run), the key the source advertises is
trusted for this first run, with a warning, and pinned from then on. When the log's key is
rotated, `verify` follows the handover a trusted key signed (`exchange.protocol.handover`) and
the state remembers the new key, which later runs of every command trust too.
"""

import json
import os
import re
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC, datetime
from functools import wraps
from pathlib import Path
from typing import ParamSpec, TypeVar

import click
import httpx

from exchange.auditor import (
    AuditError,
    AuditReport,
    AuditState,
    MissingEntriesError,
    RollbackError,
    StateError,
    verify_log,
)
from exchange.auditor.bundle import Bundle, BundleFormatError, read_bundle, write_bundle
from exchange.auditor.heads import check_consistency, verified
from exchange.auditor.http import HttpSource, TokenProvider
from exchange.auditor.source import (
    BundleSource,
    LogSource,
    ProofUnavailableError,
    SourceError,
    checkpoint_size,
    iter_entries,
)
from exchange.cli.common import Refused, UsageProblem, passphrase
from exchange.cli.contract import HotlineGroup, echo_json, json_option, progress
from exchange.cli.session import profile_name
from exchange.client import profile as profiles
from exchange.client.authoring import client_assertion
from exchange.client.errors import ProfileError
from exchange.protocol import note
from exchange.protocol.verification import VerificationError
from exchange.protocol.witness_policy import (
    PolicyError,
    QuorumError,
    WitnessPolicy,
    describe_quorum,
    parse_policy,
    verify_witnessed,
)
from keys import KeyStoreError, load_key_dir
from keys.b64 import b64_encode

P = ParamSpec("P")
R = TypeVar("R")

# Below this many entries a run takes well under a second: no progress bar.
_PROGRESS_FROM = 2000
_ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


def _reports(command: Callable[P, R]) -> Callable[P, R]:
    """A verdict is exit 1, anything that prevents one is exit 2."""

    @wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return command(*args, **kwargs)
        except AuditError as exc:
            raise Refused(f"the log does not verify: {exc}") from exc
        except ProofUnavailableError as exc:
            raise Refused(
                f"the log cannot prove it extends the checkpoint you verified before: {exc}"
            ) from exc
        except KeyStoreError as exc:
            raise Refused(str(exc)) from exc
        except (SourceError, BundleFormatError, StateError) as exc:
            raise UsageProblem(str(exc)) from exc

    return wrapper


# --- where the log comes from ------------------------------------------------------------


def key_dir_token(
    server: str, key_dir: Path, official: str, audience: str | None = None
) -> TokenProvider:
    """Access tokens for `official`: an RFC 7523 client assertion, POSTed to /v1/token."""
    identity = load_key_dir(key_dir, passphrase())
    endpoint = f"{server.rstrip('/')}/v1/token"
    audience = audience or endpoint

    def token() -> str:
        assertion = client_assertion(identity, official, audience, datetime.now(UTC))
        form = {
            "grant_type": "client_credentials",
            "client_assertion_type": _ASSERTION_TYPE,
            "client_assertion": assertion,
        }
        try:
            response = httpx.post(endpoint, data=form, timeout=30)
        except httpx.HTTPError as exc:
            raise SourceError(f"cannot reach {endpoint}: {exc}") from exc
        try:
            body = response.json()
        except ValueError:
            body = None
        if response.status_code != 200 or not isinstance(body, dict):
            detail = body.get("detail") if isinstance(body, dict) else None
            raise SourceError(
                f"{endpoint} refused a token: HTTP {response.status_code}"
                + (f": {detail}" if detail else "")
            )
        value = body.get("access_token")
        if not isinstance(value, str):
            raise SourceError(f"{endpoint} answered no access_token")
        return value

    return token


@contextmanager
def _opened(
    server: str | None,
    bundle: Path | None,
    key_dir: Path | None,
    official: str | None,
    log_keys: tuple[str, ...],
) -> Iterator[tuple[LogSource, tuple[str, ...]]]:
    """The log source and the keys to pin: from the options, else from your profile."""
    if server is not None and bundle is not None:
        raise UsageProblem("give one of --server URL and --bundle FILE, not both")
    if bundle is not None:
        yield BundleSource(read_bundle(bundle)), log_keys
        return
    audience = None
    if server is None:
        # No source named: the profile's server, keys and pinned log key (hotline enroll).
        try:
            profile = profiles.load(profile_name())
        except ProfileError as exc:
            raise UsageProblem(f"{exc}; or give --server URL or --bundle FILE") from exc
        server, audience = profile.server, profile.token_endpoint
        key_dir, official = Path(profile.key_dir), profile.official
        log_keys = log_keys or profile.log_verifier_keys
    if (key_dir is None) != (official is None):
        raise UsageProblem("--key-dir and --official go together")
    token = key_dir_token(server, key_dir, official, audience) if key_dir and official else None
    source = HttpSource(server, token)
    try:
        yield source, log_keys
    finally:
        source.close()


# --- what is trusted -----------------------------------------------------------------------


def default_state_path(origin: str, profile: str | None = None) -> Path:
    """One state per log and profile: each auditor identity keeps its own history."""
    name = re.sub(r"[^A-Za-z0-9._-]", "_", origin)
    if profile:
        name = f"{name}@{profile}"
    return Path(click.get_app_dir("hotline")) / "audit" / f"{name}.json"


def _read_state(path: Path) -> AuditState | None:
    if not path.exists():
        return None
    try:
        return AuditState.from_json(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError) as exc:
        raise StateError(f"{path}: {exc}") from exc


def _write_state(path: Path, state: AuditState) -> None:
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    partial.write_text(json.dumps(state.to_json(), indent=2) + "\n", encoding="utf-8")
    os.replace(partial, path)


class Trust:
    """The pinned keys and origin, and the state of this log (possibly none yet)."""

    def __init__(
        self,
        source: LogSource,
        log_keys: tuple[str, ...],
        state_file: Path | None,
        profile_of_source: str | None = None,
    ) -> None:
        self.warning: str | None = None
        advertised = None if log_keys else source.log_key()
        self.origin = _origin_of(log_keys) if advertised is None else advertised.origin
        self.state_path = state_file or default_state_path(self.origin, profile_of_source)
        self.state = _read_state(self.state_path)
        if self.state is not None and self.state.origin != self.origin:
            raise UsageProblem(f"{self.state_path} is the state of log {self.state.origin}")
        if advertised is None:
            # With the keys this auditor learned from the log's key handovers before.
            learned = self.state.verifier_keys if self.state is not None else ()
            self.keys = tuple(dict.fromkeys((*log_keys, *learned)))
        elif self.state is not None:
            self.keys = self.state.verifier_keys
        else:
            self.keys = advertised.verifier_keys
            self.warning = (
                "warning: no log key pinned; trusting the key the source gives"
                f" ({', '.join(self.keys)}) and pinning it from now on. Compare it with"
                " the key from your enrollment, or pass --log-key."
            )


def _origin_of(log_keys: tuple[str, ...]) -> str:
    try:
        names = {note.parse_verifier_key(key)[0] for key in log_keys}
    except note.NoteError as exc:
        raise UsageProblem(f"--log-key: {exc}") from exc
    if len(names) != 1:
        raise UsageProblem("every --log-key must be a key of the same log (one name)")
    return names.pop()


@contextmanager
def _trusted(
    server: str | None,
    bundle: Path | None,
    key_dir: Path | None,
    official: str | None,
    log_keys: tuple[str, ...],
    state_file: Path | None,
) -> Iterator[tuple[LogSource, "Trust"]]:
    """The source, and what is trusted about it; any trust-on-first-use is said aloud."""
    with _opened(server, bundle, key_dir, official, log_keys) as (source, pinned):
        owner = None if bundle is not None or server is not None else _profile_in_use()
        trust = Trust(source, pinned, state_file, owner)
        if trust.warning:
            click.echo(trust.warning, err=True)
        try:
            yield source, trust
        except RollbackError as exc:
            raise Refused(
                f"the log does not verify: {exc}; the checkpoint verified before is kept in"
                f" {trust.state_path}: to check an older copy of the log (an earlier bundle),"
                " give it a state of its own with --state FILE"
            ) from exc


def _profile_in_use() -> str | None:
    """The profile whose server and keys this run uses (the default one when not named)."""
    return profile_name() or profiles.default_name()


# --- options ----------------------------------------------------------------------------------


def _source_options(command: Callable[P, R]) -> Callable[P, R]:
    options = [
        click.option(
            "--server",
            metavar="URL",
            help="Read the log from this exchange (default: your profile's, with its keys).",
        ),
        click.option(
            "--bundle",
            type=click.Path(dir_okay=False, path_type=Path),
            help="Read the log from a bundle file (offline).",
        ),
        click.option(
            "--key-dir",
            type=click.Path(exists=True, file_okay=False, path_type=Path),
            help="Your key directory, to log in to --server (passphrase: HOTLINE_PASSPHRASE).",
        ),
        click.option("--official", help="Your official id, to log in to --server."),
        click.option(
            "--log-key",
            "log_keys",
            multiple=True,
            metavar="KEY",
            help=(
                "The log's verifier key (name+id+key) to pin; repeatable. `verify` learns"
                " keys the log was handed over to since."
            ),
        ),
        click.option(
            "--state",
            "state_file",
            type=click.Path(dir_okay=False, path_type=Path),
            help="Where the last verified checkpoint is kept (default: per log, in your"
            " config directory).",
        ),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def _progress(total: int, label: str) -> AbstractContextManager[Callable[[int], None]]:
    return progress(total, label, at_least=_PROGRESS_FROM)


# --- commands ------------------------------------------------------------------------------


@click.group(cls=HotlineGroup)
def audit() -> None:
    """Verify the transparency log: entries, signatures, keys and cases, against a pinned key."""


def load_witness_policy(path: Path | None) -> WitnessPolicy | None:
    if path is None:
        return None
    try:
        return parse_policy(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageProblem(f"cannot read the witness policy {path}: {exc}") from exc
    except PolicyError as exc:
        raise UsageProblem(f"witness policy {path}: {exc}") from exc


def _witnessed(source: LogSource, trust: "Trust", policy: WitnessPolicy) -> tuple[str, list[str]]:
    """The source's cosigned checkpoint, if a quorum of the policy's witnesses cosigned it."""
    signed = source.witnessed_checkpoint()
    try:
        witnessed = verify_witnessed(signed, trust.keys, trust.origin, policy)
    except QuorumError as exc:
        raise Refused(f"the checkpoint is not witnessed: {exc}") from exc
    except VerificationError as exc:
        raise Refused(f"the witnessed checkpoint does not verify: {exc}") from exc
    return signed, witnessed.witnesses


witness_policy_option = click.option(
    "--witness-policy",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Accept only a checkpoint that a quorum of these witnesses cosigned"
    " (a Sigsum-style policy file; its log lines pin the log's key too).",
)


@audit.command()
@_source_options
@witness_policy_option
@json_option
@_reports
def verify(
    server: str | None,
    bundle: Path | None,
    key_dir: Path | None,
    official: str | None,
    log_keys: tuple[str, ...],
    state_file: Path | None,
    witness_policy: Path | None,
    as_json: bool,
) -> None:
    """Verify the whole log and that it extends the last one verified; then remember it."""
    policy = load_witness_policy(witness_policy)
    if policy is not None and not log_keys:
        log_keys = policy.log_keys
    cosigners: list[str] = []
    with _trusted(server, bundle, key_dir, official, log_keys, state_file) as (source, trust):
        if policy is None:
            checkpoint_note = source.checkpoint()
        else:
            checkpoint_note, cosigners = _witnessed(source, trust, policy)
        size = checkpoint_size(checkpoint_note)
        with _progress(size, f"Verifying {size} entries") as progress:
            report = verify_log(
                iter_entries(source, size),
                checkpoint_note,
                trust.keys,
                trust.origin,
                previous=trust.state,
                witnesses=source.witnesses(),
                progress=progress,
            )
    _write_state(trust.state_path, report.state(trust.origin))
    if as_json:
        echo_json(
            {
                "verified": True,
                "origin": trust.origin,
                "size": report.entries,
                "root": _b64(report.checkpoint.root),
                "signatures": report.signatures,
                "previous_size": report.previous_size,
                "learned_keys": list(report.learned_keys),
                "state_file": str(trust.state_path),
                **({"witnesses": cosigners} if policy is not None else {}),
            }
        )
        return
    _print_verified(report, trust)
    if policy is not None:
        click.echo(
            f"  witnessed by {', '.join(cosigners)} (the policy needs {describe_quorum(policy)})"
        )


def _b64(digest: bytes) -> str:
    return b64_encode(digest)


def _print_verified(report: AuditReport, trust: Trust) -> None:
    root = _b64(report.checkpoint.root)
    click.echo(f"Verified log {trust.origin}: {report.entries} entries, size {report.entries}")
    click.echo(f"  root {root}")
    click.echo(f"  {report.signatures} handoff statement signatures, every key event and case")
    if report.previous_size is None:
        click.echo("  first verification of this log here: nothing earlier to compare with")
    else:
        click.echo(f"  extends the checkpoint of size {report.previous_size} verified before")
    for key in report.learned_keys:
        click.echo(f"  the log key was handed over to {key}, a key you trusted signing it")
    click.echo(f"  state saved to {trust.state_path}")


@audit.command()
@_source_options
@witness_policy_option
@json_option
@_reports
def checkpoint(
    server: str | None,
    bundle: Path | None,
    key_dir: Path | None,
    official: str | None,
    log_keys: tuple[str, ...],
    state_file: Path | None,
    witness_policy: Path | None,
    as_json: bool,
) -> None:
    """Verify the latest checkpoint and that it extends the last one verified (no entries)."""
    policy = load_witness_policy(witness_policy)
    if policy is not None and not log_keys:
        log_keys = policy.log_keys
    with _trusted(server, bundle, key_dir, official, log_keys, state_file) as (source, trust):
        cosigners: list[str] = []
        if policy is None:
            latest = verified(source.checkpoint(), trust.keys, trust.origin, "the log's checkpoint")
        else:
            signed, cosigners = _witnessed(source, trust, policy)
            latest = verified(signed, trust.keys, trust.origin, "the log's checkpoint")
        shown: dict[str, object] = {
            "origin": trust.origin,
            "size": latest.size,
            "root": _b64(latest.root),
        }
        if policy is not None:
            shown["witnesses"] = cosigners
        if not as_json:
            click.echo(f"Checkpoint of log {trust.origin}: size {latest.size}")
            click.echo(f"  root {_b64(latest.root)}")
            if policy is not None:
                click.echo(
                    f"  witnessed by {', '.join(cosigners)}"
                    f" (the policy needs {describe_quorum(policy)})"
                )
        if trust.state is None:
            if as_json:
                echo_json({**shown, "previous_size": None})
            else:
                click.echo("  no earlier checkpoint verified here to compare with")
            return
        saved = verified(trust.state.checkpoint, trust.keys, trust.origin, "your saved checkpoint")
        proof = (
            source.consistency_proof(saved.size, latest.size)
            if 0 < saved.size < latest.size
            else []
        )
        check_consistency(saved, latest, proof)
        if as_json:
            echo_json({**shown, "previous_size": saved.size})
        else:
            click.echo(f"  extends the checkpoint of size {saved.size} verified before")


@audit.command()
@_source_options
@click.option(
    "--out",
    required=True,
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="The bundle file to write.",
)
@json_option
@_reports
def export(
    server: str | None,
    bundle: Path | None,
    key_dir: Path | None,
    official: str | None,
    log_keys: tuple[str, ...],
    state_file: Path | None,
    out: Path,
    as_json: bool,
) -> None:
    """Save the log as a self-contained bundle that `audit verify --bundle` checks offline."""
    with _trusted(server, bundle, key_dir, official, log_keys, state_file) as (source, trust):
        checkpoint_note = source.checkpoint()
        latest = verified(checkpoint_note, trust.keys, trust.origin, "the log's checkpoint")
        entries: list[str] = []
        with _progress(latest.size, f"Exporting {latest.size} entries") as progress:
            for entry in iter_entries(source, latest.size):
                entries.append(entry)
                if len(entries) % 1000 == 0:
                    progress(len(entries))
        if len(entries) < latest.size:
            raise MissingEntriesError(
                f"the checkpoint covers {latest.size} entries but the source served {len(entries)}",
                len(entries),
            )
        exported = Bundle(
            trust.origin, tuple(trust.keys), checkpoint_note, entries, tuple(source.witnesses())
        )
    write_bundle(exported, out)
    if as_json:
        echo_json({"origin": trust.origin, "size": len(entries), "out": str(out)})
        return
    click.echo(f"Exported {len(entries)} entries of log {trust.origin} to {out}")


__all__ = ["audit", "default_state_path", "key_dir_token"]
