"""Time checks shared by the services."""

from datetime import datetime, timedelta

from exchange.errors import ClockSkewError
from schemas.common import parse_utc


def check_issued_at(issued_at: str, now: datetime, skew: timedelta) -> datetime:
    """A signed statement's issued_at must be within `skew` of the server's clock."""
    moment = parse_utc(issued_at)
    if abs(moment - now) > skew:
        raise ClockSkewError(
            f"issued_at {issued_at} is more than {int(skew.total_seconds())} s from server time",
            server_time=now.isoformat(),
        )
    return moment
