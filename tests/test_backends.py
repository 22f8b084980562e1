"""Which tests the PostgreSQL run keeps (tests/conftest.py): those that can reach it.

A test that reaches PostgreSQL must never be left out of the PostgreSQL run; a test that
cannot reach it is left out, because it runs exactly alike in the SQLite run. Checked by
collecting real tests the way `make test-postgresql` does, in a pytest of its own.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

REACH_POSTGRESQL = [
    # The app, on the database under test.
    "tests/exchange/api/test_listing.py::test_updated_since",
    # The live server behind the lying proxy, on the database under test.
    "tests/adversary/test_lying_server.py::"
    "test_the_honest_answer_seals_to_exactly_the_handlers_in_the_log",
    # Run on each backend in turn, by fixture parameter and by test parameter.
    "tests/exchange/log/test_group_commit.py::"
    "test_queued_units_commit_as_one_batch_under_one_checkpoint[postgresql]",
    "tests/exchange/log/test_concurrency.py::"
    "test_concurrent_writers_make_one_consistent_log[postgresql]",
    # PostgreSQL by name.
    "tests/exchange/log/test_appendonly.py::test_postgresql_refuses_truncate",
]
CANNOT_REACH_POSTGRESQL = [
    # Pure protocol: no database at all.
    "tests/exchange/protocol/test_merkle.py::test_hashes_are_domain_separated_sha256",
    # A live server on an SQLite file of its own, whatever the backend.
    "tests/exchange/cli/test_contract.py::test_there_are_commands_to_check",
    # The SQLite half of the tests run on each backend in turn.
    "tests/exchange/log/test_group_commit.py::"
    "test_queued_units_commit_as_one_batch_under_one_checkpoint[sqlite]",
    "tests/exchange/log/test_concurrency.py::"
    "test_concurrent_writers_make_one_consistent_log[sqlite]",
]


@pytest.fixture(scope="module")
def postgresql_run() -> tuple[set[str], str]:
    """The tests among those above that the PostgreSQL run collects, and its summary."""
    collected = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "--collect-only",
            "-q",
            "-p",
            "no:cacheprovider",
            "-p",
            "no:xdist",
            *REACH_POSTGRESQL,
            *CANNOT_REACH_POSTGRESQL,
        ],
        cwd=ROOT,
        env={**os.environ, "HOTLINE_TEST_DB": "postgresql"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert collected.returncode == 0, collected.stdout + collected.stderr
    lines = collected.stdout.splitlines()
    return {line for line in lines if "::" in line}, lines[-1]


def test_the_postgresql_run_keeps_exactly_the_tests_that_reach_it(postgresql_run):
    kept, summary = postgresql_run
    assert kept == set(REACH_POSTGRESQL)
    assert summary.startswith(
        f"{len(REACH_POSTGRESQL)}/{len(REACH_POSTGRESQL) + len(CANNOT_REACH_POSTGRESQL)} "
        f"tests collected ({len(CANNOT_REACH_POSTGRESQL)} deselected)"
    )
