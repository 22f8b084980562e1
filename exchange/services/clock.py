"""Time checks shared by the services."""

from datetime import datetime, timedelta

from exchange.errors import ClockSkewError
from schemas.common import format_utc


def check_issued_at(issued_at: datetime, now: datetime, skew: timedelta) -> datetime:
    """A signed statement's issued_at must be within `skew` of the server's clock."""
    if abs(issued_at - now) > skew:
        raise ClockSkewError(
            f"issued_at {format_utc(issued_at)} is more than {int(skew.total_seconds())} s "
            "from server time",
            server_time=now.isoformat(),
        )
    return issued_at
