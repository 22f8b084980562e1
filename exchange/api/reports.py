"""Compliance reports for auditors, computed from the server's own log once it verified.

The route reads every entry up to the latest checkpoint and has the auditor core verify
them against that checkpoint with the server's own verifier keys before computing
anything: a database edited behind the application's back yields a 503, never figures.
A client that does not want to trust the server at all runs `hotline report compliance`,
which does the same on its own machine with the key it pinned.
"""

import logging
import time
from typing import Any

from flask import current_app

from exchange import runtime
from exchange.api.auth import authenticated
from exchange.api.blueprint import BEARER, Blueprint
from exchange.auditor import AuditError
from exchange.errors import ExchangeError, UnprocessableError
from exchange.reports import (
    Period,
    TimeLimitError,
    UnknownPlatformError,
    compute,
    verify_entries,
)
from exchange.runtime import now, server_keys
from exchange.services import transparency
from exchange.services.caller import Caller
from schemas.enums import Role
from schemas.reports import ComplianceQuerySchema, ComplianceReportSchema, parse_bound

blp = Blueprint(
    "reports", __name__, url_prefix="/v1/reports", description="Reports from the verified log"
)

_PAGE = 1000
_log = logging.getLogger(__name__)


class LogUnverifiableError(ExchangeError):
    status = 503
    slug = "log-unverifiable"
    title = "The log does not verify against its checkpoint; no figures are published from it"


class ReportTimeLimitError(ExchangeError):
    status = 503
    slug = "report-time-limit"
    title = "The log is too long to verify within this request's time limit"


class UnknownPlatformRequestError(UnprocessableError):
    slug = "unknown-platform"
    title = "No platform of that id in the log"


def _log_texts() -> tuple[str, list[str]]:
    """The latest checkpoint's note and every entry it covers, read in one transaction."""
    with runtime.read() as session:
        latest = transparency.current_checkpoint(session)
        texts: list[str] = []
        while len(texts) < latest.size:
            rows = transparency.entries(session, len(texts), latest.size, _PAGE)
            if not rows:
                break  # entries missing from storage: the verification says where
            texts.extend(row.leaf for row in rows)
        return latest.note, texts


@blp.route("/compliance", methods=["GET"])
@authenticated(Role.AUDITOR)
@blp.arguments(ComplianceQuerySchema, location="query")
@blp.response(200, ComplianceReportSchema)
@blp.problems(401, 403, 404, 422, 503)
@blp.doc(security=BEARER)
def compliance(query: dict[str, Any], caller: Caller) -> dict[str, Any]:
    """Deadlines kept per platform for cases submitted in [from, to), as of now.

    Computed from the log's entries after verifying every one against the latest signed
    checkpoint (503 `log-unverifiable` otherwise; 503 `report-time-limit` when that takes
    longer than the server allows, EXCHANGE_REPORT_TIME_LIMIT_SECONDS). Definitions of
    every figure: exchange/reports/compliance.py. Auditors only.
    """
    period = Period(parse_bound(query["start"], end=False), parse_bound(query["end"], end=True))
    # Checked as the verification goes: past it, a clear 503 rather than a worker killed
    # by the server's request timeout.
    time_limit = (time.monotonic(), current_app.config["REPORT_TIME_LIMIT_SECONDS"])
    note, texts = _log_texts()
    keys = server_keys()
    try:
        verified = verify_entries(
            texts, note, keys.log_verifier_keys, keys.log.name, time_limit=time_limit
        )
    except TimeLimitError as exc:
        raise ReportTimeLimitError(
            f"the time limit of {exc.limit:g} s passed with {exc.read} of the log's"
            f" {len(texts)} entries read: run `hotline report compliance`, which verifies"
            " the log on your machine, or raise EXCHANGE_REPORT_TIME_LIMIT_SECONDS (and the"
            " server's request timeout)"
        ) from exc
    except AuditError as exc:
        _log.error("the log does not verify: %s", exc)
        raise LogUnverifiableError(
            f"the log does not verify at {exc.where}: {exc.reason} [{exc.code}]"
        ) from exc
    try:
        report = compute(
            verified.entries,
            checkpoint=verified.checkpoint,
            period=period,
            now=now(),
            platform=query.get("platform"),
        )
    except UnknownPlatformError as exc:
        raise UnknownPlatformRequestError(str(exc)) from exc
    return report.to_json()
