"""Many clients on the production server at once: nothing lost, doubled or out of order.

Four gunicorn workers of four threads each (gunicorn.conf.py), so that handoffs arriving
together in one worker share a group commit, on this run's database (PostgreSQL in the
PostgreSQL run, one SQLite file in the SQLite run), three agency officers and two platform
leads, each an SDK client in a thread of its own, all at once: cases submitted, inboxes
pulled, receipts, questions, supplements and responses. Afterwards every answer a client
got is on record exactly once, every inbox is gap-free, every case's state is what its
handoffs make it, and the full audit passes over HTTP.
"""

from collections import Counter

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.helpers.traffic import (
    GENEROUS_RATE_LIMITS,
    Operator,
    assert_on_record,
    cast,
    pull,
    traffic,
)

WORKERS = 4
THREADS = "4"
CASES_EACH = 8  # per agency officer


@pytest.mark.slow
def test_concurrent_clients_leave_one_consistent_exchange(gunicorn, tmp_path):
    server = gunicorn(workers=WORKERS, GUNICORN_THREADS=THREADS, **GENEROUS_RATE_LIMITS)
    assert len(server.worker_pids()) == WORKERS
    operator = Operator(server)
    agencies, platforms, auditor = cast(operator, tmp_path / "clients")
    clients = [*agencies, *platforms, auditor]
    try:
        with traffic(agencies, platforms, CASES_EACH) as ledger:
            pass
        for client in [*agencies, *platforms]:
            pull(client, ledger)

        counts = assert_on_record(ledger, operator, auditor)

        cases = len(agencies) * CASES_EACH
        assert len(counts.cases) == cases
        # Every case was acknowledged and answered, whatever else happened around it.
        assert set(counts.cases.values()) == {"actioned"}
        kinds = Counter(answer.kind for _, answer in ledger.sent)
        assert kinds["case"] == kinds["receipt"] == kinds["response"] == cases
        assert kinds["question"] > 0
        # Each question reached every officer of the issuing agency, and each answered it.
        issuers = {answer.case_id: who for who, answer in ledger.sent if answer.kind == "case"}
        officers = Counter(client.profile.org for client in agencies)
        org_of = {client.profile.official: client.profile.org for client in agencies}
        asked = [answer.case_id for _, answer in ledger.sent if answer.kind == "question"]
        assert kinds["supplement"] == sum(officers[org_of[issuers[case]]] for case in asked)
        # Every handoff answered was answered by a committed batch; retries re-answered
        # from the log count again, so the batches hold at least the handoffs sent.
        batches = _samples(server.url, "hotline_commit_batch_size")
        assert batches["_sum"] >= len(ledger.sent)
        assert 0 < batches["_count"] <= batches["_sum"]
        assert server.stop() == 0
        errors = [line for line in server.log_lines() if line["level"] in ("ERROR", "CRITICAL")]
        assert errors == []
    finally:
        for client in clients:
            client.close()
        operator.close()


def _samples(url: str, histogram: str) -> dict[str, float]:
    """The histogram's _sum and _count over every worker (gunicorn's shared metrics)."""
    text = httpx.get(f"{url}/metrics", timeout=10).text
    return {
        sample.name.removeprefix(histogram): sample.value
        for family in text_string_to_metric_families(text)
        if family.name == histogram
        for sample in family.samples
        if sample.name in (f"{histogram}_sum", f"{histogram}_count")
    }
