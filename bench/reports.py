"""The compliance report over HTTP, incremental: what a request costs as the log grows.

Target (issue 15): a request after 10^3 new entries on a 10^5-entry log costs at most
2x one on a 10^3-entry log. The server keeps its verified state of the log between
requests (`exchange.api.reports`), so the first costs the 10^3 new entries, the second
the whole (10^3-entry) log.

Two exchanges (SQLite files, Flask's test client in-process, real keys): one real case
run through the HTTP API (`bench.log.run_cases`: case, receipt, final response, closure,
each fetched: 8 entries), then copies of it appended straight into the log, as
`bench/populate.py` does, but each statement re-signed by its official with the copy's
own case and handoff ids and every time shifted, so that every entry verifies: the
reports are computed from a log the auditor core accepts. A copy's case is ten minutes
after the last, so the 10^5-entry log spans three months.

Each round, timed in turn: the small log's state is dropped (as after a restart) and
one request verifies its ~10^3 entries; 10^3 entries are appended to the large log
(untimed) and one request verifies them. Each request asks for the period of the cases
it verifies (about 125 cases), so both compute the same figures. The large log's first
request, which verifies all of it, runs before the rounds, untimed.
"""

import json
import statistics
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

from bench.log import Exchange, run_cases
from bench.timing import fmt_seconds
from exchange import log, runtime
from exchange.api.reports import REPORT_CACHE
from exchange.protocol.envelope.canonical import canonical
from exchange.protocol.envelope.jose import STATEMENT_TYP, sign_compact
from exchange.protocol.events import Event
from exchange.services import operator
from exchange.storage import database
from exchange.storage.models import LogEntry
from keys.b64 import b64url_decode
from schemas.common import format_utc, parse_utc

SMALL, LARGE, NEW = 10**3, 10**5, 10**3
TARGET = 2.0
ROUNDS = 5
CASE_EVERY = timedelta(minutes=10)
_BULK = 5000  # entries per write transaction while filling
_TIMES = ("ack_due_at", "action_due_at")


class Log:
    """An exchange whose log grows by copies of one real case."""

    def __init__(self, directory: Path) -> None:
        self.exchange = Exchange(directory)
        self.exchange.app.config["REPORT_TIME_LIMIT_SECONDS"] = 3600
        exchange = self.exchange
        people = run_cases(exchange, 1)
        with exchange.operator() as session:
            operator.create_organisation(session, exchange.now(), "regulator", "auditor", "R")
        self.auditor = exchange.enroll("regulator", "auditor-1", "auditor", [])
        self.signers = {person.official: person.identity.signing_key for person in people}
        with exchange.app.app_context(), runtime.read() as session:
            rows = session.query(LogEntry).order_by(LogEntry.index).all()
            entries = [json.loads(row.leaf) for row in rows]
        first = next(i for i, e in enumerate(entries) if e["event"] == Event.CASE)
        self.template = entries[first : first + 8]
        self.size = len(entries)
        self.copies = 0
        self.start = parse_utc(self.template[0]["logged_at"])

    def grow(self, entries: int) -> tuple[str, str]:
        """Append copies of the case, about `entries` entries; the period they span."""
        cases = entries // len(self.template)
        first = self._at(self.copies + 1)
        exchange = self.exchange
        done = 0
        while done < cases:
            with exchange.operator() as session:
                for _ in range(min(_BULK // len(self.template), cases - done)):
                    self.copies += 1
                    self._copy(session, self.copies)
                    done += 1
        last = self._at(self.copies) + timedelta(seconds=len(self.template))
        exchange.moment = max(exchange.moment, last + timedelta(minutes=1))
        return format_utc(first), format_utc(last)

    def _at(self, copy: int) -> Any:
        return self.start + copy * CASE_EVERY

    def _copy(self, session: Any, copy: int) -> None:
        shift = copy * CASE_EVERY
        case_id = str(uuid.uuid4())
        handoffs: dict[str, str] = {}
        for entry in self.template:
            old = entry["handoff_id"]
            handoffs.setdefault(old, str(uuid.uuid4()))
            statement = None
            if entry["statement"] is not None:
                payload = json.loads(b64url_decode(entry["statement"].split(".")[1]))
                payload.update(case_id=case_id, handoff_id=handoffs[old])
                if payload.get("in_reply_to") is not None:
                    payload["in_reply_to"] = handoffs[payload["in_reply_to"]]
                if isinstance(payload.get("meta"), dict) and "handoff_id" in payload["meta"]:
                    payload["meta"]["handoff_id"] = handoffs[payload["meta"]["handoff_id"]]
                key = self.signers[entry["actor"]["official"]]
                statement = sign_compact(canonical(payload), key, STATEMENT_TYP)
            details = dict(entry["details"])
            for name in _TIMES:
                if name in details:
                    details[name] = format_utc(parse_utc(details[name]) + shift)
            actor = entry["actor"]
            log.append(
                session,
                Event(entry["event"]),
                parse_utc(entry["logged_at"]) + shift,
                actor=log.Actor(actor["org"], actor["official"], actor["kid"]),
                case_id=case_id,
                handoff_id=handoffs[old],
                statement=statement,
                jwe_sha256=entry["jwe_sha256"],
                details=details,
            )
            self.size += 1

    def forget(self) -> None:
        """Drop the server's verified state, as a restart would."""
        with self.exchange.app.app_context(), runtime.read() as session:
            database.shared(session).pop(REPORT_CACHE, None)

    def request(self, period: tuple[str, str]) -> float:
        """One GET /v1/reports/compliance; its seconds."""
        exchange = self.exchange
        self.auditor.token = None  # the clock moved on by hours: a fresh token
        headers = self.auditor.headers(exchange.now())
        query = {"from": period[0], "to": period[1]}
        start = time.perf_counter()
        response = exchange.client.get(
            "/v1/reports/compliance", query_string=query, headers=headers
        )
        elapsed = time.perf_counter() - start
        if response.status_code != 200:
            raise RuntimeError(f"HTTP {response.status_code}: {response.get_data(as_text=True)}")
        report = response.get_json()
        if report["checkpoint"]["size"] != self.size or report["totals"]["cases_received"] < 100:
            raise RuntimeError(f"unexpected report: {report['checkpoint']}, {report['totals']}")
        return elapsed


def run() -> list[str]:
    with tempfile.TemporaryDirectory(prefix="bench-reports-") as tmp:
        root = Path(tmp)
        started = time.perf_counter()
        small = Log(root / "small")
        small_period = small.grow(SMALL - small.size)
        large = Log(root / "large")
        large.grow(LARGE - large.size)
        filled = time.perf_counter() - started
        started = time.perf_counter()
        large.request(_recent(large))
        first = time.perf_counter() - started
        small_times, large_times = [], []
        for _ in range(ROUNDS):
            small.forget()
            small_times.append(small.request(small_period))
            period = large.grow(NEW)
            large_times.append(large.request(period))
        small_median = statistics.median(small_times)
        large_median = statistics.median(large_times)
        ratio = large_median / small_median
        verdict = "ok" if ratio <= TARGET else "MISSED"
        return [
            "compliance report over HTTP (Flask test client, SQLite, incremental verification):",
            f"  logs filled in {filled:.0f} s; the first request on {large.size - ROUNDS * NEW:,}"
            f" entries (verifies all of them): {fmt_seconds(first)}",
            f"  request on a {small.size:,}-entry log (verifies it whole):"
            f" {fmt_seconds(small_median)} (median of {ROUNDS})",
            f"  request after {NEW:,} new entries on a ~{LARGE:,}-entry log:"
            f" {fmt_seconds(large_median)} (median of {ROUNDS})",
            f"  ratio: {ratio:.2f}x (target <= {TARGET}x): {verdict}",
        ]


def _recent(log_: Log) -> tuple[str, str]:
    """A period within the longest allowed that holds the log's latest cases."""
    end = log_._at(log_.copies) + timedelta(hours=1)
    return format_utc(end - timedelta(days=30)), format_utc(end)
