"""How figures read to a person in English (the JSON keeps the exact numbers); other
languages: `exchange.reports.i18n.Language`."""

from exchange.reports.i18n import ENGLISH


def duration(seconds: float) -> str:
    """'250 ms', '4.5 s', '12 min 5 s', '3 h 20 min', '2 d 4 h': two units at most."""
    return ENGLISH.duration(seconds)


def share(fraction: float) -> str:
    """'33.3%'."""
    return ENGLISH.share(fraction)
