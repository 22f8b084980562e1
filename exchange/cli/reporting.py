"""`hotline report compliance`: deadlines kept per platform, computed on this machine.

The client fetches the log's entries and latest checkpoint, verifies them with the
auditor core against the log key pinned in the profile, and computes the figures itself:
it does not take the server's word (nor its `/v1/reports` numbers) for anything.

Exit codes: 0 ok; 1 the log does not verify or the server refused; 2 usage or connection.
The HTML file holds identifiers and metadata only, never case content, so it is written
like any other file (0644 under the usual umask), for sharing.

`hotline report evidence` writes one platform's report with its evidence as a directory
(`exchange.reports.pack`), and `hotline report evidence-check` verifies such a pack
offline: exit 1 when it does not hold, 2 when it is not a pack or no key is pinned.

The text and the page are in the language of --locale, else HOTLINE_LOCALE, else the
system's locale (exchange/reports/i18n.py); --json is the same in every language.
"""

import json
import os
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import ParamSpec, TypeVar

import click

from exchange.cli.common import Refused, UsageProblem
from exchange.cli.contract import HotlineGroup, ProgressOf, json_option
from exchange.cli.log_audit import load_witness_policy, witness_policy_option
from exchange.cli.output import echo_json, table
from exchange.cli.session import client, profile_name, reports_errors
from exchange.client import profile as profiles
from exchange.client.errors import ProfileError
from exchange.protocol.witness_policy import WitnessPolicy
from exchange.reports import (
    ComplianceReport,
    Period,
    PeriodError,
    UnknownPlatformError,
    compute,
)
from exchange.reports.fetch import compliance_report, verified_texts
from exchange.reports.html import render
from exchange.reports.i18n import Language, UnknownLocaleError, choose, language
from exchange.reports.pack import (
    PACK_FILES,
    PackCheckError,
    PackFormatError,
    check_pack,
    log_origin,
    pack_files,
)
from schemas.common import parse_utc
from schemas.reports import BoundError, parse_bound

P = ParamSpec("P")
R = TypeVar("R")


@click.group(cls=HotlineGroup)
def report() -> None:
    """Reports computed from the verified transparency log."""


def write_report_file(path: Path, text: str) -> None:
    """Write atomically: a reader never sees half a report."""
    partial = path.with_name(path.name + ".partial")
    try:
        partial.write_text(text, encoding="utf-8")
        os.replace(partial, path)
    except OSError as exc:
        raise UsageProblem(f"cannot write {path}: {exc.strerror}") from exc


def _moment(text: str | None) -> datetime:
    if text is None:
        return datetime.now(UTC)
    try:
        return parse_utc(text)
    except ValueError as exc:
        raise UsageProblem(f"--as-of: {exc}") from exc


# Below this many entries a report takes well under a second: no progress bar.
_PROGRESS_FROM = 2000
# The period of a report without --from: long enough to hold a month of casework.
DEFAULT_DAYS = 30


def _period(start: str | None, end: str | None) -> Period:
    """--from/--to, each defaulting: to today (UTC) included, from DEFAULT_DAYS before."""
    end_text = end or datetime.now(UTC).date().isoformat()
    try:
        if start is not None:
            return Period.parse(start, end_text)
        try:
            until = parse_bound(end_text, end=True)
        except BoundError as exc:
            raise PeriodError(f"to {end_text[:40]!r}: {exc}") from exc
        return Period(until - timedelta(days=DEFAULT_DAYS), until)
    except PeriodError as exc:
        raise UsageProblem(str(exc)) from exc


def _locale(explicit: str | None) -> Language:
    """--locale, else HOTLINE_LOCALE, else the system's locale (exchange/reports/i18n.py)."""
    try:
        return language(choose(explicit, os.environ))
    except UnknownLocaleError as exc:
        raise UsageProblem(f"--locale: {exc}" if explicit else str(exc)) from exc


class ReportText:
    """The report as the command prints it, in one language."""

    def __init__(self, language: Language) -> None:
        self.language = language
        self._ = language.gettext

    def time(self, seconds: float | None) -> str:
        return "-" if seconds is None else self.language.duration(seconds)

    def share(self, fraction: float | None) -> str:
        return "-" if fraction is None else self.language.share(fraction)

    def summary(self, result: ComplianceReport) -> None:
        _, number = self._, self.language.number
        rows = []
        for platform in result.platforms:
            f = platform.figures
            ack, action = f.acknowledgement, f.action
            rows.append(
                [
                    platform.platform,
                    number(f.cases_received),
                    self.time(ack.time.median_seconds),
                    self.time(ack.time.p90_seconds),
                    self.share(ack.share_met),
                    self.time(action.time.median_seconds),
                    self.time(action.time.p90_seconds),
                    self.share(action.share_met),
                    number(f.outcomes["actioned"]),
                    number(f.declined),
                    number(f.overdue.count),
                ]
            )
        moment = self.language.moment
        click.echo(
            _("Cases submitted from %(start)s to %(end)s (end excluded), as of %(as_of)s")
            % {
                "start": moment(result.period.start),
                "end": moment(result.period.end),
                "as_of": moment(result.as_of),
            }
        )
        if not any(platform.figures.cases_received for platform in result.platforms):
            click.echo(_("No case was submitted in this period: widen it with --from and --to."))
        table(
            rows,
            [
                _("PLATFORM"),
                _("CASES"),
                _("ACK MEDIAN"),
                _("ACK P90"),
                _("ACK IN TIME"),
                _("ACTION MEDIAN"),
                _("ACTION P90"),
                _("ACTION IN TIME"),
                _("ACTIONED"),
                _("DECLINED"),
                _("OVERDUE"),
            ],
        )
        for platform in result.platforms:
            for case in platform.figures.overdue.cases:
                missed = ", ".join(
                    _("%(deadline)s overdue by %(time)s")
                    % {
                        "deadline": self.language.deadline(d.deadline),
                        "time": self.language.duration(d.overdue_seconds),
                    }
                    for d in case.deadlines
                )
                click.echo(
                    "  "
                    + _("overdue: %(platform)s case %(case)s (%(missed)s)")
                    % {"platform": platform.platform, "case": case.case_id, "missed": missed}
                )
        self.evidence(result)
        checkpoint = result.checkpoint
        click.echo(
            _(
                "Computed from %(size)s entries of log %(origin)s, verified against its"
                " checkpoint with root %(root)s."
            )
            % {
                "size": number(checkpoint.size),
                "origin": checkpoint.origin,
                "root": checkpoint.root,
            }
        )

    def evidence(self, result: ComplianceReport) -> None:
        """What a regulator fines on (docs/reports.md): claims against verification, interim
        answers that never became final, agencies' questions left past their deadline."""
        _, number = self._, self.language.number
        rows = []
        for platform in result.platforms:
            e = platform.figures.evidence
            rows.append(
                [
                    platform.platform,
                    number(e.removals_claimed),
                    number(e.removals_verified),
                    number(e.claims_contradicted),
                    number(e.interim_only),
                    number(e.questions_overdue),
                    number(sum(e.breach_entries.values())),
                ]
            )
        table(
            rows,
            [
                _("PLATFORM"),
                _("REMOVALS CLAIMED"),
                _("VERIFIED"),
                _("CONTRADICTED"),
                _("INTERIM ONLY"),
                _("QUESTIONS OVERDUE"),
                _("BREACHES LOGGED"),
            ],
        )


def _period_options(command: Callable[P, R]) -> Callable[P, R]:
    """--from, --to and --as-of: the period and the moment, as every report takes them."""
    options = [
        click.option(
            "--from",
            "start",
            metavar="DATE",
            help=f"First day (YYYY-MM-DD) or instant (default: {DEFAULT_DAYS} days before --to).",
        ),
        click.option(
            "--to",
            "end",
            metavar="DATE",
            help="Last day included, or instant excluded (default: today, UTC).",
        ),
        click.option(
            "--as-of",
            metavar="TIMESTAMP",
            help="Count what was logged up to this RFC 3339 UTC time (default: now), to"
            " reproduce a report.",
        ),
    ]
    for option in reversed(options):
        command = option(command)
    return command


@report.command()
@click.option("--platform", metavar="ORG", help="One platform; every platform if absent.")
@_period_options
@click.option(
    "--html",
    "html_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the report as one self-contained HTML page.",
)
@click.option(
    "--locale",
    "locale",
    metavar="LANG",
    help="Language of the text and the HTML page: en or ko (default: $HOTLINE_LOCALE, else"
    " the system's locale if it is one of them, else en). --json is the same in every"
    " language.",
)
@witness_policy_option
@json_option
@reports_errors
def compliance(
    platform: str | None,
    start: str | None,
    end: str | None,
    as_of: str | None,
    html_file: Path | None,
    witness_policy: Path | None,
    locale: str | None,
    as_json: bool,
) -> None:
    """Deadlines kept per platform for the cases submitted from --from to --to.

    Computed here from the log, verified against the log key pinned in your profile (and,
    with --witness-policy, only up to a checkpoint a quorum of those witnesses cosigned).
    Without --from and --to: the last 30 days, today included.
    """
    period = _period(start, end)
    moment = _moment(as_of)
    words = ReportText(_locale(locale))
    with client(load_witness_policy(witness_policy)) as session:
        try:
            with ProgressOf("Fetching the log", at_least=_PROGRESS_FROM) as progress:
                result = compliance_report(session, period, moment, platform, progress)
        except UnknownPlatformError as exc:
            raise UsageProblem(str(exc)) from exc
        server = session.profile.server
    if html_file is not None:
        write_report_file(html_file, render(result, server=server, locale=words.language.code))
    if as_json:
        echo_json(result.to_json())
    else:
        words.summary(result)
    if html_file is not None:
        click.echo(words._("HTML report written to %(path)s") % {"path": html_file}, err=as_json)


# --- the evidence pack ---------------------------------------------------------------------


def _refuse_existing(out: Path) -> None:
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise UsageProblem(
            f"{out} exists and is not an empty directory: an evidence pack is written new,"
            " never over anything"
        )


def write_pack(out: Path, files: dict[str, str]) -> None:
    """All files or none: written in a directory beside `out`, then renamed to it.

    The pack holds ids and metadata, no case content: readable by all (0755, 0644), to be
    handed over as it is."""
    _refuse_existing(out)
    parent = out.parent
    try:
        staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".partial", dir=parent))
    except OSError as exc:
        raise UsageProblem(f"cannot write in {parent}: {exc.strerror}") from exc
    try:
        staging.chmod(0o755)
        for name, text in files.items():
            path = staging / name
            path.write_text(text, encoding="utf-8")
            path.chmod(0o644)
        # rename(2) replaces an empty directory, and fails on one that filled meanwhile.
        os.rename(staging, out)
    except OSError as exc:
        for path in staging.iterdir():
            path.unlink()
        staging.rmdir()
        if out.exists():
            _refuse_existing(out)
        raise UsageProblem(f"cannot write {out}: {exc.strerror}") from exc


@report.command()
@click.option("--platform", metavar="ORG", required=True, help="The platform the pack is of.")
@_period_options
@click.option(
    "--out",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="The pack's directory, created (an existing one must be empty).",
)
@witness_policy_option
@json_option
@reports_errors
def evidence(
    platform: str,
    start: str | None,
    end: str | None,
    as_of: str | None,
    out: Path,
    witness_policy: Path | None,
    as_json: bool,
) -> None:
    """Write a platform's evidence pack: its figures, its deadline breaches with inclusion
    proofs, and the log they come from, each re-checkable offline (see its VERIFY.md).

    The figures are those of `hotline report compliance --platform ORG --json` for the same
    period and --as-of, computed from the same verified checkpoint as the proofs.
    """
    period = _period(start, end)
    moment = _moment(as_of)
    _refuse_existing(out)
    policy = load_witness_policy(witness_policy)
    with client(policy) as session:
        with ProgressOf("Fetching the log", at_least=_PROGRESS_FROM) as progress:
            texts, log = verified_texts(session, progress)
        witnesses = list(session.log.witnesses) if policy is not None else []
    try:
        result = compute(
            log.entries, checkpoint=log.checkpoint, period=period, now=moment, platform=platform
        )
    except UnknownPlatformError as exc:
        raise UsageProblem(str(exc)) from exc
    files = pack_files(texts, log, result, witness_policy=policy, witnesses=witnesses)
    write_pack(out, files)
    breaches = len(json.loads(files["breaches.json"])["breaches"])
    checkpoint = log.checkpoint
    if as_json:
        echo_json(
            {
                "out": str(out),
                "platform": platform,
                "files": sorted(PACK_FILES),
                "breaches": breaches,
                "origin": checkpoint.origin,
                "size": checkpoint.size,
                "root": checkpoint.root,
                **({"witnesses": witnesses} if policy is not None else {}),
            }
        )
        return
    click.echo(
        f"Evidence pack of {platform} written to {out}: {breaches} deadline breaches proven in"
        f" the checkpoint of size {checkpoint.size} of log {checkpoint.origin}"
        f" (root {checkpoint.root})."
    )
    click.echo(f"Re-check it offline as {out / 'VERIFY.md'} says.")


def _pinned_keys(log_keys: tuple[str, ...], policy: WitnessPolicy | None) -> tuple[str, ...]:
    """--log-key, else the witness policy's log keys, else the key your profile pinned."""
    if log_keys:
        return log_keys
    if policy is not None and policy.log_keys:
        return policy.log_keys
    try:
        return profiles.load(profile_name()).log_verifier_keys
    except ProfileError as exc:
        raise UsageProblem(
            "no log key to check the pack against: give --log-key KEY (the pack's VERIFY.md"
            " names it; compare it with the key from your enrollment)"
        ) from exc


def _read_pack(pack: Path) -> dict[str, str]:
    if not pack.is_dir():
        raise UsageProblem(f"{pack} is not a directory")
    files = {}
    for name in PACK_FILES:
        path = pack / name
        try:
            files[name] = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise UsageProblem(f"{pack} is not an evidence pack: {name} is missing") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise UsageProblem(f"cannot read {path}: {exc}") from exc
    return files


@report.command("evidence-check")
@click.argument("pack", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--log-key",
    "log_keys",
    multiple=True,
    metavar="KEY",
    help="The log's verifier key (name+id+key) to pin; repeatable (default: the witness"
    " policy's, else your profile's).",
)
@witness_policy_option
@json_option
def evidence_check(
    pack: Path, log_keys: tuple[str, ...], witness_policy: Path | None, as_json: bool
) -> None:
    """Verify an evidence pack offline: the log against the pinned key, each breach's
    inclusion proof and entry, that no breach is left out, and the figures recomputed."""
    policy = load_witness_policy(witness_policy)
    keys = _pinned_keys(log_keys, policy)
    try:
        log_origin(keys)
    except PackFormatError as exc:
        raise UsageProblem(str(exc)) from exc
    files = _read_pack(pack)
    try:
        checked = check_pack(files, keys, policy)
    except PackFormatError as exc:
        raise UsageProblem(f"{pack}: {exc}") from exc
    except PackCheckError as exc:
        raise Refused(f"the evidence pack does not verify: {exc}") from exc
    if as_json:
        echo_json(
            {
                "verified": True,
                "platform": checked.platform,
                "origin": checked.origin,
                "size": checked.size,
                "root": checked.root,
                "breaches": checked.breaches,
                **({"witnesses": list(checked.witnesses)} if policy is not None else {}),
            }
        )
        return
    click.echo(
        f"Evidence pack {pack} of {checked.platform} verified against log {checked.origin}:"
        f" {checked.size} entries, root {checked.root}"
    )
    click.echo(
        f"  {checked.breaches} deadline breaches, each proven in the checkpoint, none left out"
    )
    click.echo("  the figures recomputed from the log are those of figures.json")
    if policy is not None:
        click.echo(f"  witnessed by {', '.join(checked.witnesses)}")
