"""The production setup for real: gunicorn with gunicorn.conf.py, several worker processes."""

import httpx
from prometheus_client.parser import text_string_to_metric_families

REQUESTS = 24


def get(server, path):
    # A connection per request, so that the kernel spreads them over the workers.
    response = httpx.get(f"{server.url}{path}", timeout=10)
    assert response.status_code == 200, response.text
    return response


def counted(server, path):
    for family in text_string_to_metric_families(get(server, "/metrics").text):
        for sample in family.samples:
            if sample.name == "hotline_http_requests_total" and sample.labels == {
                "endpoint": path,
                "method": "GET",
                "status": "200",
            }:
                return sample.value
    return 0.0


def test_the_workers_serve_one_exchange_and_report_one_set_of_metrics(gunicorn):
    server = gunicorn(workers=3)
    assert len(server.worker_pids()) == 3
    for _ in range(REQUESTS):
        get(server, "/v1/log/key")
    keys = {get(server, "/v1/log/key").json()["verifier_key"] for _ in range(6)}
    assert len(keys) == 1  # every worker holds the same server keys
    assert get(server, "/readyz").json()["log_key"] in keys
    # Whichever worker answers the scrape reports the sum over all of them.
    assert {counted(server, "/v1/log/key") for _ in range(6)} == {REQUESTS + 6.0}

    assert server.stop() == 0  # SIGTERM: a graceful stop
    lines = server.log_lines()  # every line is one JSON object
    requests = [line for line in lines if line.get("message") == "request"]
    assert len(requests) >= REQUESTS + 6
    assert {line["logger"] for line in lines} >= {"exchange.requests", "gunicorn.error"}
    assert all(len(line["request_id"]) == 32 for line in requests)
    assert [line for line in lines if line["level"] in ("ERROR", "CRITICAL")] == []
    # Each worker froze the app it loaded, so a full collection scans only what requests make.
    frozen = [
        int(line["message"].split()[0])
        for line in lines
        if line["message"].endswith(" objects of the loaded app frozen for the collector")
    ]
    assert len(frozen) == 3
    assert min(frozen) > 50_000


def test_a_killed_worker_is_replaced_and_its_counts_are_kept(gunicorn):
    server = gunicorn(workers=2)
    for _ in range(REQUESTS):
        get(server, "/v1/log/key")
    victim = server.worker_pids()[0]

    server.kill_worker(victim)

    survivors = server.wait_for_workers(2, exclude=frozenset({victim}))
    assert victim not in survivors
    for _ in range(REQUESTS):
        get(server, "/v1/log/key")
    assert get(server, "/readyz").json()["status"] == "ready"
    # The dead worker's requests still count: counters are summed over every worker ever.
    assert counted(server, "/v1/log/key") == 2 * REQUESTS
    assert server.stop() == 0
