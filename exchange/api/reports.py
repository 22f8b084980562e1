"""Compliance reports for auditors, computed from the server's own log once it verified.

The route has the auditor core verify the log's entries against the latest checkpoint
with the server's own verifier keys before computing anything: a database edited behind
the application's back yields a 503, never figures. Incrementally: each process keeps the
verified state of the log and the case histories folded from it (`VerifiedReports`), and
a request reads and verifies only the entries after those (in one read transaction), then
computes from the histories of the cases its period needs. A request costs the new
entries, not the log; the first one after a start, or after a failure (which drops the
state), verifies the whole log, and only that one can run into the time limit.

An entry verified before is not read again: an edit of it afterwards does not change the
figures (they come from what was verified), and the next checkpoint's root must still
cover it. A client that does not want to trust the server at all runs
`hotline report compliance`, which verifies on its own machine with the key it pinned.
"""

import logging
import threading
import time
from typing import Any

from flask import current_app
from sqlalchemy.orm import Session

from exchange import runtime
from exchange.api.auth import authenticated
from exchange.api.blueprint import BEARER, Blueprint
from exchange.auditor import AuditError
from exchange.errors import ExchangeError, UnprocessableError
from exchange.reports import (
    ComplianceReport,
    Period,
    UnknownPlatformError,
    VerifiedReports,
)
from exchange.runtime import now, server_keys
from exchange.services import transparency
from exchange.services.caller import Caller
from exchange.storage import database
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
    # The next request goes on from where this one stopped: asking again makes progress.
    retry_after = 1
    slug = "report-time-limit"
    title = "The log is too long to verify within this request's time limit"


class UnknownPlatformRequestError(UnprocessableError):
    slug = "unknown-platform"
    title = "No platform of that id in the log"


# Where each database keeps its verified state (`database.shared`).
REPORT_CACHE = "exchange.api.reports"


class _Verified:
    """The process's verified state of one database's log, shared by its threads.

    Requests take turns (`lock`): each extends the state with the entries after those it
    holds, so a report costs the new entries, not the log. A state whose extension failed
    is dropped: the next request verifies the log from its first entry.
    """

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.state: VerifiedReports | None = None


def _step(session: Session, start: int, most: int, end: int) -> tuple[str, list[str]]:
    """The checkpoint note that ends the next step from `start`, and the entries up to it."""
    checkpoint = transparency.next_step(session, start, most, end)
    if checkpoint is None:
        raise LookupError(f"no checkpoint of the log beyond its first {start} entries")
    texts: list[str] = []
    while start + len(texts) < checkpoint.size:
        rows = transparency.entries(session, start + len(texts), checkpoint.size, _PAGE)
        if not rows:
            break  # entries missing from storage: the verification says where
        texts.extend(row.leaf for row in rows)
    return checkpoint.note, texts


def _report(
    time_limit: tuple[float, float], period: Period, platform: str | None
) -> ComplianceReport:
    """The report from the state, once extended up to the latest checkpoint.

    The state is extended in steps (REPORT_STEP_ENTRIES entries at most, each ending at a
    signed checkpoint, each read in a short transaction of its own). Past the time limit
    no new step starts: the request answers 503 and the state keeps what it verified, so
    that a long log is verified over a few requests rather than never. A step that does
    not verify drops the state. The lock is held throughout: another request's extension
    must not change the histories while this one computes from them.
    """
    began, seconds = time_limit
    keys = server_keys()
    step = current_app.config["REPORT_STEP_ENTRIES"]
    with runtime.read() as session:
        cached: _Verified = database.shared(session).setdefault(REPORT_CACHE, _Verified())
        end = transparency.current_checkpoint(session).size
    with cached.lock:
        state = cached.state or VerifiedReports(keys.log_verifier_keys, keys.log.name)
        cached.state = None
        steps = 0
        while state.size < end:
            # At least one step per request, so that every request makes progress.
            if steps and time.monotonic() - began > seconds:
                cached.state = state  # what this request verified is kept for the next
                raise ReportTimeLimitError(
                    f"the time limit of {seconds:g} s passed with {state.size} of the log's"
                    f" {end} entries verified; they are kept, and the next request goes on"
                    " from there (or run `hotline report compliance`, which verifies the log"
                    " on your machine)"
                )
            with runtime.read() as session:
                note, texts = _step(session, state.size, step, end)
            steps += 1
            try:
                state.extend(texts, note)
            except AuditError as exc:
                _log.error("the log does not verify: %s", exc)
                raise LogUnverifiableError(
                    f"the log does not verify at {exc.where}: {exc.reason} [{exc.code}]"
                ) from exc
        cached.state = state
        try:
            return state.report(period=period, now=now(), platform=platform)
        except UnknownPlatformError as exc:
            raise UnknownPlatformRequestError(str(exc)) from exc


@blp.route("/compliance", methods=["GET"])
@authenticated(Role.AUDITOR)
@blp.arguments(ComplianceQuerySchema, location="query")
@blp.response(200, ComplianceReportSchema)
@blp.problems(401, 403, 404, 422, 503)
@blp.doc(security=BEARER)
def compliance(query: dict[str, Any], caller: Caller) -> dict[str, Any]:
    """Deadlines kept per platform for cases submitted in [from, to), as of now.

    Computed from the log's entries after verifying every one against the latest signed
    checkpoint (503 `log-unverifiable` otherwise), each once: a request verifies the
    entries logged since the previous one. 503 `report-time-limit` when that takes longer
    than the server allows (EXCHANGE_REPORT_TIME_LIMIT_SECONDS): only a first request on
    a very long log can. Definitions of every figure: exchange/reports/compliance.py.
    Auditors only.
    """
    period = Period(parse_bound(query["start"], end=False), parse_bound(query["end"], end=True))
    # Checked as the verification goes: past it, a clear 503 rather than a worker killed
    # by the server's request timeout.
    time_limit = (time.monotonic(), current_app.config["REPORT_TIME_LIMIT_SECONDS"])
    return _report(time_limit, period, query.get("platform")).to_json()
