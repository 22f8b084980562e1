"""Compliance reports on the wire: the query of `GET /v1/reports/compliance` and its answer.

The answer is `exchange.reports.compliance.ComplianceReport.to_json()`; these schemas
document it in the OpenAPI description (responses are written by the server, not
validated on the way out). Period bounds are dates (`YYYY-MM-DD`, whole UTC days) or RFC
3339 UTC timestamps; the period is [from, to), a date as `to` including that whole day.
"""

import re
from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from marshmallow import ValidationError, fields, validates_schema

from schemas.api import ResponseSchema
from schemas.common import OrgId, StrictSchema, Text, parse_utc

DATE_RE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", re.ASCII)
# A decade of weekly volumes at most; longer spans are several reports.
MAX_PERIOD = timedelta(days=3660)


class BoundError(ValueError):
    """Not a date nor a UTC timestamp."""


def parse_bound(text: str, *, end: bool) -> datetime:
    """The instant a bound names; a date as the end bound includes that whole day."""
    if DATE_RE.fullmatch(text):
        try:
            start = datetime.combine(date.fromisoformat(text), time(0), tzinfo=UTC)
            return start + timedelta(days=1) if end else start
        except (ValueError, OverflowError) as exc:
            raise BoundError(f"{text!r} is not a usable date") from exc
    try:
        return parse_utc(text)
    except ValueError as exc:
        raise BoundError(
            "Not a date (YYYY-MM-DD) nor an RFC 3339 UTC timestamp (YYYY-MM-DDTHH:MM:SSZ)."
        ) from exc


class PeriodBound(Text):
    """A date or a UTC timestamp; loads as the string, checked."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(max_length=32, **kwargs)

    def _check(self, value: str) -> None:
        try:
            parse_bound(value, end=False)
        except BoundError as exc:
            raise ValidationError(str(exc)) from exc


class ComplianceQuerySchema(StrictSchema):
    platform = OrgId(metadata={"description": "One platform; all platforms if absent."})
    start = PeriodBound(
        required=True,
        data_key="from",
        metadata={"description": "First day (YYYY-MM-DD) or instant (RFC 3339 UTC) included."},
    )
    end = PeriodBound(
        required=True,
        data_key="to",
        metadata={"description": "Last day included (YYYY-MM-DD), or instant excluded."},
    )

    @validates_schema
    def _check_period(self, data: Mapping[str, Any], **kwargs: object) -> None:
        start = parse_bound(data["start"], end=False)
        end = parse_bound(data["end"], end=True)
        if end <= start:
            raise ValidationError("Must end after `from`.", field_name="to")
        if end - start > MAX_PERIOD:
            raise ValidationError(
                f"The period is longer than {MAX_PERIOD.days} days.", field_name="to"
            )


# --- The report ------------------------------------------------------------------------------


class _Out(ResponseSchema):
    def get_attribute(self, obj: object, attr: str, default: object) -> object:
        # The report is a JSON document: read members, never a dict's methods.
        if isinstance(obj, Mapping):
            return obj.get(attr, default)
        return super().get_attribute(obj, attr, default)


def _count(description: str | None = None) -> fields.Integer:
    return fields.Integer(
        required=True, metadata={"description": description} if description else None
    )


def _seconds(description: str) -> fields.Float:
    return fields.Float(required=True, allow_none=True, metadata={"description": description})


_COUNTS = fields.Dict(keys=fields.String(), values=fields.Integer(), required=True)


class DurationStatsSchema(_Out):
    count = _count("How many durations were summarised.")
    median_seconds = _seconds("Nearest-rank median; null without data.")
    p90_seconds = _seconds("Nearest-rank 90th percentile; null without data.")
    max_seconds = _seconds("Longest; null without data.")


class SampleSchema(_Out):
    case_id = fields.String(required=True)
    priority = fields.String(required=True)
    seconds = fields.Float(required=True, metadata={"description": "Time to answer, or age."})
    allowed_seconds = fields.Float(required=True)
    verdict = fields.String(required=True, metadata={"description": "met, missed or pending."})
    answered = fields.Boolean(required=True)


class DeadlineFiguresSchema(_Out):
    time = fields.Nested(DurationStatsSchema, required=True)
    met = _count()
    missed = _count()
    released = _count("Withdrawn or closed, unanswered, before it was due.")
    pending = _count("Unanswered and not yet due.")
    share_met = fields.Float(
        required=True, allow_none=True, metadata={"description": "met / (met + missed)."}
    )
    breach_entries = _count("deadline_breached entries for these cases.")
    breach_entries_contradicted = _count("Breach entries the timestamps contradict (0).")
    samples = fields.List(fields.Nested(SampleSchema), required=True)


class WeekVolumeSchema(_Out):
    week_start = fields.String(required=True, metadata={"description": "Monday, YYYY-MM-DD."})
    cases = _count()


class WithdrawalFiguresSchema(_Out):
    count = _count()
    acknowledged = _count()
    unacknowledged = _count()
    ack_time = fields.Nested(DurationStatsSchema, required=True)


class OpenQuestionSchema(_Out):
    case_id = fields.String(required=True)
    question_id = fields.String(required=True)
    asked_by = fields.String(required=True)
    asked_at = fields.String(required=True)
    waiting_seconds = fields.Float(required=True)


class QuestionFiguresSchema(_Out):
    asked = _count()
    answered = _count()
    unanswered = _count()
    moot = _count("Unanswered, but the case was withdrawn or closed.")
    answer_time = fields.Nested(DurationStatsSchema, required=True)
    open = fields.List(fields.Nested(OpenQuestionSchema), required=True)


class MissedDeadlineSchema(_Out):
    deadline = fields.String(required=True, metadata={"description": "ack or action."})
    due_at = fields.String(required=True)
    overdue_seconds = fields.Float(required=True)
    breach_logged = fields.Boolean(required=True)


class OverdueCaseSchema(_Out):
    case_id = fields.String(required=True)
    platform = fields.String(required=True)
    agency = fields.String(required=True)
    category = fields.String(required=True)
    priority = fields.String(required=True)
    request_type = fields.String(required=True)
    submitted_at = fields.String(required=True)
    state = fields.String(required=True)
    deadlines = fields.List(fields.Nested(MissedDeadlineSchema), required=True)


class OverdueFiguresSchema(_Out):
    count = _count()
    cases = fields.List(fields.Nested(OverdueCaseSchema), required=True)


class DeadlineVerdictsSchema(_Out):
    cases = _count()
    action_met = _count()
    action_missed = _count()
    action_pending = _count()
    action_released = _count()


class EvidenceFiguresSchema(_Out):
    """Defined in docs/reports.md and exchange/reports/evidence.py."""

    interim_only = _count("Cases with responses, none of them final.")
    refusals_superseded = _count("A final not_actioned later superseded by acting.")
    removals_claimed = _count("Items the latest final responses report actioned.")
    removals_verified = _count("Items the agency last found no longer reachable.")
    claims_contradicted = _count("Verification results that found an item still reachable.")
    questions_answered_in_time = _count("Agencies' questions answered by their deadline.")
    questions_answered_late = _count("Agencies' questions answered after their deadline.")
    questions_overdue = _count("Agencies' questions unanswered past their deadline.")
    breach_entries = _COUNTS
    by_legal_basis = fields.Dict(
        keys=fields.String(), values=fields.Nested(DeadlineVerdictsSchema), required=True
    )
    by_policy = fields.Dict(
        keys=fields.String(), values=fields.Nested(DeadlineVerdictsSchema), required=True
    )


class FiguresSchema(_Out):
    cases_received = _count("Cases submitted in the period.")
    by_category = _COUNTS
    by_priority = _COUNTS
    weekly_volume = fields.List(fields.Nested(WeekVolumeSchema), required=True)
    acknowledgement = fields.Nested(DeadlineFiguresSchema, required=True)
    action = fields.Nested(DeadlineFiguresSchema, required=True)
    outcomes = _COUNTS
    declined = _count("Responses other than actioned and partially_actioned.")
    reason_codes = _COUNTS
    withdrawals = fields.Nested(WithdrawalFiguresSchema, required=True)
    questions_from_agencies = fields.Nested(QuestionFiguresSchema, required=True)
    overdue = fields.Nested(OverdueFiguresSchema, required=True)
    evidence = fields.Nested(EvidenceFiguresSchema, required=True)


class PlatformFiguresSchema(FiguresSchema):
    platform = fields.String(required=True)
    name = fields.String(required=True)


class AgencyFiguresSchema(_Out):
    agency = fields.String(required=True)
    name = fields.String(required=True)
    cases_sent = _count()
    withdrawals = _count()
    questions_from_platforms = fields.Nested(QuestionFiguresSchema, required=True)


class PeriodSchema(_Out):
    start = fields.String(required=True, attribute="from", data_key="from")
    end = fields.String(
        required=True, attribute="to", data_key="to", metadata={"description": "Excluded."}
    )


class ReportCheckpointSchema(_Out):
    origin = fields.String(required=True)
    size = _count("Entries the figures were computed from.")
    root = fields.String(required=True, metadata={"description": "Standard base64."})
    note = fields.String(required=True, metadata={"description": "The C2SP signed note."})
    verifier_keys = fields.List(fields.String(), required=True)


class ComplianceReportSchema(_Out):
    """Figures per platform and period, from the log entries that verified (definitions:
    exchange/reports/compliance.py)."""

    format = fields.String(required=True, metadata={"example": "hotline-compliance-report/v1"})
    period = fields.Nested(PeriodSchema, required=True)
    as_of = fields.String(required=True)
    platform = fields.String(required=True, allow_none=True)
    percentile_method = fields.String(required=True, metadata={"example": "nearest-rank"})
    checkpoint = fields.Nested(ReportCheckpointSchema, required=True)
    totals = fields.Nested(FiguresSchema, required=True)
    platforms = fields.List(fields.Nested(PlatformFiguresSchema), required=True)
    agencies = fields.List(fields.Nested(AgencyFiguresSchema), required=True)
