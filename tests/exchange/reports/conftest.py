"""The scripted history of `scripted.py`, and the verified log it produced."""

import pytest

from exchange import runtime
from exchange.reports import VerifiedLog, verify_entries
from exchange.runtime import server_keys
from exchange.services import transparency
from tests.exchange.reports.scripted import Scripted, scripted_history


@pytest.fixture
def scripted(app, client, clock) -> Scripted:
    return scripted_history(app, client, clock)


def verified_from_database(app) -> VerifiedLog:
    """The log's entries and latest checkpoint as stored, verified by the auditor core."""
    with app.app_context():
        with runtime.read() as session:
            note = transparency.current_checkpoint(session).note
            texts = [row.leaf for row in transparency.entries(session, 0, 10**6, 10**6)]
        keys = server_keys()
        return verify_entries(texts, note, keys.log_verifier_keys, keys.log.name)
