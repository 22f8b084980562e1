"""`make demo` end to end, then the database file is searched for the demo's plaintext."""

import sqlite3
import subprocess
import sys

from exchange.demo import SECRET_MARKERS


def test_demo_runs_and_the_server_never_stored_plaintext(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "exchange.demo", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Demo complete: every step behaved as described." in result.stdout
    assert "DEMO FAILED" not in result.stderr
    database = tmp_path / "instance" / "exchange.db"
    # Fold the WAL into the main file, then read every byte the server wrote.
    with sqlite3.connect(database) as connection:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    raw = b"".join(
        path.read_bytes() for path in (tmp_path / "instance").glob("exchange.db*") if path.is_file()
    )
    assert len(raw) > 100_000
    for marker in SECRET_MARKERS:
        assert marker.encode() not in raw, marker
    # The markers did travel: a recipient decrypted one (the demo checks it), so their absence
    # here means encryption, not a scenario that never sent them.
    assert "ok  ClipShare decrypts the answer; the server only ever held its ciphertext" in (
        result.stdout
    )
