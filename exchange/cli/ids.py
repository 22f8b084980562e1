"""Case ids as people type them: the full UUID, or any unique prefix of it (like git)."""

import re

from exchange.cli.contract import UsageProblem
from exchange.client.client import Client

_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_PREFIX = re.compile(r"[0-9a-f-]{1,36}")
# Shorter prefixes match too many cases to be useful, and read like typos.
MIN_PREFIX = 4


def case_id(session: Client, given: str) -> str:
    """The case id that `given` names among the cases this profile may see."""
    text = given.strip().lower()
    if _UUID.fullmatch(text):
        return text
    if not _PREFIX.fullmatch(text) or len(text.replace("-", "")) < MIN_PREFIX:
        raise UsageProblem(
            f"{given!r} is not a case id: give the UUID or at least its first"
            f" {MIN_PREFIX} characters"
        )
    found = sorted({c["case_id"] for c in session.cases() if c["case_id"].startswith(text)})
    if not found:
        raise UsageProblem(f"no case you may see starts with {given} (see `hotline cases`)")
    if len(found) > 1:
        shown = ", ".join(found[:5]) + (" …" if len(found) > 5 else "")
        raise UsageProblem(f"{given} names {len(found)} cases ({shown}): give more characters")
    return str(found[0])
