"""A platform's evidence pack: what a regulator fines on, each claim checkable offline.

The pack is a directory of five files, ids and metadata only (never case content):

* `log.bundle`: the log up to the checkpoint the report was computed at, in the format
  of `hotline audit export` (`exchange.auditor.bundle`), so `hotline audit verify
  --bundle` checks it with no server;
* `figures.json`: the platform's compliance report, the document `hotline report
  compliance --platform ORG --json` prints for the same period and `as_of`;
* `breaches.json`: every `deadline_breached` entry the report counts (the platform's
  cases submitted in the period, logged by `as_of`), each with its log index, leaf hash
  and RFC 9162 inclusion proof against the checkpoint;
* `checkpoint.txt`: that checkpoint, the signed (with a witness policy, cosigned) note;
* `VERIFY.md`: the commands that re-check all of it offline, with the log key to pin.

`pack_files` writes the files' text; `check_pack` verifies a pack against pinned keys:
raises `PackFormatError` for what is not a pack at all (a usage problem) and
`PackCheckError` for a pack that does not hold (evidence of tampering or of a wrong pack).
"""

import json
import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from exchange.auditor import AuditError
from exchange.auditor.bundle import Bundle, BundleFormatError
from exchange.protocol import merkle
from exchange.protocol.events import Event
from exchange.protocol.note import NoteError, parse_verifier_key
from exchange.protocol.verification import VerificationError
from exchange.protocol.witness_policy import QuorumError, WitnessPolicy, verify_witnessed
from exchange.reports.compliance import ComplianceReport, UnknownPlatformError, compute
from exchange.reports.history import fold
from exchange.reports.period import Period, PeriodError
from exchange.reports.verified import VerifiedLog, verify_entries
from keys.b64 import b64_decode, b64_encode
from schemas.common import format_utc, parse_utc

BUNDLE, FIGURES, BREACHES, CHECKPOINT, VERIFY = (
    "log.bundle",
    "figures.json",
    "breaches.json",
    "checkpoint.txt",
    "VERIFY.md",
)
PACK_FILES = (BUNDLE, FIGURES, BREACHES, CHECKPOINT, VERIFY)
BREACHES_FORMAT = "hotline-evidence-breaches/v1"


class PackFormatError(ValueError):
    """The directory is not an evidence pack (a file missing, not JSON, not the format)."""


class PackCheckError(VerificationError):
    """The pack does not hold: a proof, an entry, a figure or the checkpoint is wrong."""


@dataclass(frozen=True)
class BreachEvidence:
    """One `deadline_breached` entry and the proof that the checkpoint includes it."""

    index: int
    leaf_hash: bytes
    case_id: str
    deadline: str
    due_at: str
    logged_at: str
    inclusion_proof: tuple[bytes, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "leaf_hash": b64_encode(self.leaf_hash),
            "case_id": self.case_id,
            "deadline": self.deadline,
            "due_at": self.due_at,
            "logged_at": self.logged_at,
            "inclusion_proof": [b64_encode(node) for node in self.inclusion_proof],
        }

    @classmethod
    def from_json(cls, document: object, position: int) -> "BreachEvidence":
        where = f"{BREACHES} breach {position}"
        if not isinstance(document, dict):
            raise PackFormatError(f"{where} is not an object")
        index = document.get("index")
        texts = [document.get(n) for n in ("case_id", "deadline", "due_at", "logged_at")]
        leaf, proof = document.get("leaf_hash"), document.get("inclusion_proof")
        if type(index) is not int or not all(isinstance(t, str) for t in (*texts, leaf)):
            raise PackFormatError(
                f"{where} needs an integer index and string leaf_hash, case_id, deadline,"
                " due_at and logged_at"
            )
        if not isinstance(proof, list) or not all(isinstance(node, str) for node in proof):
            raise PackFormatError(f"{where}: inclusion_proof is not a list of base64 hashes")
        try:
            leaf_hash = b64_decode(str(leaf))
            nodes = tuple(b64_decode(node) for node in proof)
        except ValueError as exc:
            raise PackFormatError(f"{where}: {exc}") from None
        case_id, deadline, due_at, logged_at = (str(t) for t in texts)
        return cls(index, leaf_hash, case_id, deadline, due_at, logged_at, nodes)


def _leaf(text: str) -> bytes:
    return merkle.leaf_hash(text.encode("utf-8", "surrogatepass"))


def breach_indexes(entries: Sequence[Mapping[str, Any]], report: ComplianceReport) -> list[int]:
    """The log indexes of the `deadline_breached` entries the platform's figures count."""
    if report.platform is None:
        raise ValueError("an evidence pack is of one platform")
    history = fold(entries, report.as_of)
    cohort = {
        case.case_id
        for case in history.cases.values()
        if case.platform == report.platform and case.submitted_at in report.period
    }
    return [
        index
        for index, entry in enumerate(entries)
        if entry["event"] == Event.DEADLINE_BREACHED
        and entry.get("case_id") in cohort
        and parse_utc(entry["logged_at"]) <= report.as_of
    ]


def breach_evidence(
    texts: Sequence[str], log: VerifiedLog, report: ComplianceReport
) -> tuple[BreachEvidence, ...]:
    """Each breach the figures count, with its inclusion proof against `log.checkpoint`."""
    tree = merkle.MemoryTree()
    for text in texts:
        tree.append(_leaf(text))
    size = log.checkpoint.size
    evidence = []
    for index in breach_indexes(log.entries, report):
        entry = log.entries[index]
        evidence.append(
            BreachEvidence(
                index=index,
                leaf_hash=_leaf(texts[index]),
                case_id=str(entry["case_id"]),
                deadline=str(entry["details"]["deadline"]),
                due_at=str(entry["details"]["due_at"]),
                logged_at=str(entry["logged_at"]),
                inclusion_proof=tuple(tree.inclusion_proof(index, size)),
            )
        )
    return tuple(evidence)


def _breaches_document(
    report: ComplianceReport, breaches: Sequence[BreachEvidence]
) -> dict[str, Any]:
    checkpoint = report.checkpoint
    return {
        "format": BREACHES_FORMAT,
        "platform": report.platform,
        "period": report.period.to_json(),
        "as_of": format_utc(report.as_of),
        "hash_encoding": "base64",
        "checkpoint": {
            "origin": checkpoint.origin,
            "size": checkpoint.size,
            "root": checkpoint.root,
            "note": checkpoint.note,
        },
        "breaches": [breach.to_json() for breach in breaches],
    }


def _json_text(document: Any) -> str:
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def pack_files(
    texts: Sequence[str],
    log: VerifiedLog,
    report: ComplianceReport,
    *,
    witness_policy: WitnessPolicy | None = None,
    witnesses: Sequence[str] = (),
) -> dict[str, str]:
    """The pack's files (name → text) for `report`, computed from `log` (whose entries'
    exact text is `texts`). `witnesses` names who cosigned the checkpoint, if a policy
    required it."""
    if report.checkpoint != log.checkpoint or len(texts) != log.checkpoint.size:
        raise ValueError("the report must be computed from this verified log")
    checkpoint = log.checkpoint
    bundle = Bundle(checkpoint.origin, checkpoint.verifier_keys, checkpoint.note, list(texts))
    breaches = breach_evidence(texts, log, report)
    return {
        BUNDLE: json.dumps(bundle.to_json(), ensure_ascii=False),
        FIGURES: _json_text(report.to_json()),
        BREACHES: _json_text(_breaches_document(report, breaches)),
        CHECKPOINT: checkpoint.note,
        VERIFY: verify_instructions(report, len(breaches), witness_policy, witnesses),
    }


def verify_instructions(
    report: ComplianceReport,
    breaches: int,
    witness_policy: WitnessPolicy | None = None,
    witnesses: Sequence[str] = (),
) -> str:
    checkpoint = report.checkpoint
    bounds = report.period.to_json()
    pins = " ".join(f"--log-key {shlex.quote(key)}" for key in checkpoint.verifier_keys)
    policy = " --witness-policy POLICY_FILE" if witness_policy is not None else ""
    keys = "\n".join(f"    {key}" for key in checkpoint.verifier_keys)
    witnessed = (
        f"\nThe checkpoint was accepted only once cosigned by a quorum of a witness policy:"
        f" cosigned by {', '.join(witnesses)}. Give the policy you trust as POLICY_FILE.\n"
        if witness_policy is not None
        else ""
    )
    return f"""# Evidence pack: {report.platform}

Platform `{report.platform}`: the cases submitted from {bounds["from"]} to {bounds["to"]}
(end excluded), as of {format_utc(report.as_of)}; {breaches} `deadline_breached` entries.
Computed from the {checkpoint.size} entries of log `{checkpoint.origin}`, checkpoint root
`{checkpoint.root}`.
{witnessed}
The log's verifier key. Pin the key you got at enrollment or from the exchange's
operator, not this file's word: if they differ, the checks below fail.

{keys}

Re-check everything offline, in this directory (no server, no account needed):

1. The log: every entry, statement signature, key event and case, up to the checkpoint
   (a state file of its own, so that a newer copy of the log checked before is no
   obstacle):

       hotline audit verify --bundle {BUNDLE} {pins}{policy} --state "$(mktemp -u)"

2. The pack: each breach's inclusion proof against that checkpoint, each breach is the
   `deadline_breached` entry of its case, none of the platform's breaches is left out,
   `{CHECKPOINT}` is the bundle's checkpoint, and `{FIGURES}` equals the figures
   recomputed from the log:

       hotline report evidence-check . {pins}{policy}

Files: `{BUNDLE}` (the log, as `hotline audit export` writes it), `{FIGURES}` (the
compliance report, as `hotline report compliance --platform {report.platform} --json`
prints it), `{BREACHES}` (the breaches, RFC 9162 inclusion proofs in base64),
`{CHECKPOINT}` (the signed checkpoint note), and this file.
"""


# --- checking a pack --------------------------------------------------------------------


@dataclass(frozen=True)
class CheckedPack:
    platform: str
    origin: str
    size: int
    root: str
    breaches: int
    witnesses: tuple[str, ...]


def _json(files: Mapping[str, str], name: str) -> Any:
    try:
        return json.loads(files[name])
    except json.JSONDecodeError as exc:
        raise PackFormatError(f"{name} is not JSON: {exc.msg} at line {exc.lineno}") from None


def log_origin(log_keys: Sequence[str]) -> str:
    """The one log the pinned keys are of; PackFormatError if they are not keys of one log."""
    try:
        names = {parse_verifier_key(key)[0] for key in log_keys}
    except NoteError as exc:
        raise PackFormatError(f"--log-key: {exc}") from exc
    if len(names) != 1:
        raise PackFormatError("every --log-key must be a key of the same log (one name)")
    return names.pop()


def _report_bounds(figures: Any) -> tuple[str, Period, datetime]:
    if not isinstance(figures, dict) or not isinstance(figures.get("platform"), str):
        raise PackFormatError(f"{FIGURES} is not the compliance report of one platform")
    period = figures.get("period")
    try:
        if not isinstance(period, dict):
            raise PeriodError("no period")
        return (
            figures["platform"],
            Period.parse(str(period.get("from")), str(period.get("to"))),
            parse_utc(str(figures.get("as_of"))),
        )
    except (PeriodError, ValueError) as exc:
        raise PackFormatError(f"{FIGURES}: {exc}") from exc


@dataclass(frozen=True)
class Difference:
    path: str  # `a.b[2].c`
    claimed: str  # the value in the file, as JSON (or a list's length)
    actual: str


def _shown(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def first_difference(claimed: Any, actual: Any, path: str = "") -> Difference | None:
    """Where two JSON documents first differ, or None if they are equal."""
    if isinstance(claimed, dict) and isinstance(actual, dict):
        for key in sorted(set(claimed) | set(actual)):
            where = f"{path}.{key}" if path else str(key)
            if key not in claimed or key not in actual:
                return Difference(
                    where,
                    _shown(claimed[key]) if key in claimed else "nothing",
                    _shown(actual[key]) if key in actual else "nothing",
                )
            found = first_difference(claimed[key], actual[key], where)
            if found is not None:
                return found
        return None
    if isinstance(claimed, list) and isinstance(actual, list):
        for position, (a, b) in enumerate(zip(claimed, actual, strict=False)):
            found = first_difference(a, b, f"{path}[{position}]")
            if found is not None:
                return found
        if len(claimed) == len(actual):
            return None
        return Difference(path, f"{len(claimed)} items", f"{len(actual)} items")
    if claimed == actual and type(claimed) is type(actual):
        return None
    return Difference(path, _shown(claimed), _shown(actual))


def _check_breach(breach: BreachEvidence, position: int, log: VerifiedLog, root: bytes) -> None:
    where = f"{BREACHES} breach {position} (log index {breach.index})"
    try:
        merkle.verify_inclusion(
            breach.leaf_hash, breach.index, log.checkpoint.size, breach.inclusion_proof, root
        )
    except merkle.ProofError as exc:
        raise PackCheckError(
            f"{where}: the inclusion proof does not verify against the checkpoint: {exc}"
        ) from exc
    entry = log.entries[breach.index]
    details = entry.get("details") or {}
    claimed = (Event.DEADLINE_BREACHED.value, breach.case_id, breach.deadline, breach.due_at)
    logged = (
        entry.get("event"),
        entry.get("case_id"),
        details.get("deadline"),
        details.get("due_at"),
    )
    if logged != claimed or entry.get("logged_at") != breach.logged_at:
        raise PackCheckError(
            f"{where}: the log entry is not the deadline_breached entry of case"
            f" {breach.case_id} ({breach.deadline}, due {breach.due_at}, logged"
            f" {breach.logged_at})"
        )


def _breaches(document: Any, figures: Any) -> tuple[BreachEvidence, ...]:
    if not isinstance(document, dict) or document.get("format") != BREACHES_FORMAT:
        raise PackFormatError(f"{BREACHES} is not a {BREACHES_FORMAT} document")
    listed = document.get("breaches")
    if not isinstance(listed, list):
        raise PackFormatError(f"{BREACHES}: breaches is not a list")
    for name in ("platform", "period", "as_of"):
        if document.get(name) != figures.get(name):
            raise PackCheckError(f"{BREACHES} is not of the {FIGURES} report: its {name} differs")
    return tuple(BreachEvidence.from_json(item, i) for i, item in enumerate(listed))


def check_pack(
    files: Mapping[str, str],
    log_keys: Sequence[str],
    witness_policy: WitnessPolicy | None = None,
) -> CheckedPack:
    """Verify the pack (the contents of its files, by name) against pinned keys: see the
    module docstring. Raises PackFormatError or PackCheckError naming the first problem."""
    missing = [name for name in PACK_FILES if name not in files]
    if missing:
        raise PackFormatError(f"not an evidence pack: {', '.join(missing)} missing")
    origin = log_origin(log_keys)
    try:
        bundle = Bundle.from_json(_json(files, BUNDLE))
    except BundleFormatError as exc:
        raise PackFormatError(f"{BUNDLE}: {exc}") from exc
    figures = _json(files, FIGURES)
    platform, period, as_of = _report_bounds(figures)
    breaches_document = _json(files, BREACHES)
    breaches = _breaches(breaches_document, figures)

    witnesses: tuple[str, ...] = ()
    try:
        if witness_policy is not None:
            cosigned = verify_witnessed(bundle.checkpoint, log_keys, origin, witness_policy)
            witnesses = tuple(cosigned.witnesses)
        log = verify_entries(bundle.entries, bundle.checkpoint, log_keys, origin)
    except QuorumError as exc:
        raise PackCheckError(f"the checkpoint of {BUNDLE} is not witnessed: {exc}") from exc
    except AuditError as exc:
        raise PackCheckError(f"{BUNDLE} does not verify: {exc}") from exc
    except VerificationError as exc:
        raise PackCheckError(f"the checkpoint of {BUNDLE} does not verify: {exc}") from exc

    if files[CHECKPOINT] != bundle.checkpoint:
        raise PackCheckError(f"{CHECKPOINT} is not the checkpoint {BUNDLE} verified against")
    named = breaches_document.get("checkpoint")
    if not isinstance(named, dict) or named.get("note") != bundle.checkpoint:
        raise PackCheckError(f"{BREACHES} names another checkpoint than {BUNDLE}'s")
    root = b64_decode(log.checkpoint.root)
    for position, breach in enumerate(breaches):
        _check_breach(breach, position, log, root)

    try:
        report = compute(
            log.entries, checkpoint=log.checkpoint, period=period, now=as_of, platform=platform
        )
    except UnknownPlatformError as exc:
        raise PackCheckError(f"{FIGURES}: {exc}") from exc
    expected = breach_indexes(log.entries, report)
    listed = [breach.index for breach in breaches]
    if listed != expected:
        raise PackCheckError(
            f"{BREACHES} lists the entries at log indexes {listed}, but the log has the"
            f" breaches of these cases at {expected}"
        )
    recomputed = json.loads(_json_text(report.to_json()))
    difference = first_difference(figures, recomputed)
    if difference is not None:
        raise PackCheckError(
            f"{FIGURES} differs from the figures recomputed from {BUNDLE} at"
            f" {difference.path}: {difference.claimed} in the file, {difference.actual}"
            " recomputed"
        )
    return CheckedPack(
        platform, origin, log.checkpoint.size, log.checkpoint.root, len(breaches), witnesses
    )
