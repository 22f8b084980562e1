"""Compliance reports: deadlines kept, per platform and period, from the verified log only.

* `compliance.compute`: the figures, a pure function of verified entries (definitions in
  its module docstring); `ComplianceReport.to_json()` is the JSON report.
* `verified.verify_entries`: the auditor core's verification, then the parsed entries;
  nothing else feeds `compute` in the server or the client. `verified.VerifiedReports`:
  the same kept up to date as the log grows (each entry verified and folded once, into
  `incremental.Histories`), for the server's report API.
* `html.render`: one self-contained HTML page (inline CSS and SVG, no script, no network).
* `i18n`: the languages of the page and of the CLI's text (English, Korean): Babel
  catalogs in `locales/`, numbers, durations and times as each language writes them.
* `fetch.compliance_report`: the client's path (SDK → verify with the pinned key → compute).

No Flask and no database in this package: the server's route reads its log and hands the
entries in; the client fetches them over HTTP with the SDK (`fetch.py`, the only module
that talks to anything).
"""

from exchange.reports.compliance import (
    ComplianceReport,
    LogCheckpoint,
    UnknownPlatformError,
    compute,
)
from exchange.reports.period import Period, PeriodError
from exchange.reports.verified import (
    TimeLimitError,
    VerifiedLog,
    VerifiedReports,
    verify_entries,
)

__all__ = [
    "ComplianceReport",
    "LogCheckpoint",
    "Period",
    "PeriodError",
    "TimeLimitError",
    "UnknownPlatformError",
    "VerifiedLog",
    "VerifiedReports",
    "compute",
    "verify_entries",
]
