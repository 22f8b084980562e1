"""The README's quick start, run as written against a real server process (issue 16).

Every ```sh block of the quick start, compliance and verification sections is joined
into one bash script (blocks fenced as ```text, meant for another machine, are not
run). The script runs in a folder laid out like a checkout (`.venv`, `wsgi.py`, and the
`instance/dev.env` that `make run` would write, pointing at this test's server), with a
home directory of its own. The one change made to the text: the server's address, since
the test server is not on port 5000.
"""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from exchange.ops.devserver import LiveServer

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
RUN_SECTIONS = (
    "Quick start: a first case, sent and answered",
    "Compliance reports",
    "Verifying the log",
)
BLOCK = re.compile(r"^```(\w*)\n(.*?)^```$", re.MULTILINE | re.DOTALL)
DEV_URL = "http://127.0.0.1:5000"


def sections(text: str) -> dict[str, str]:
    parts = re.split(r"^## (.+)$", text, flags=re.MULTILINE)
    return dict(zip(parts[1::2], parts[2::2], strict=True))


def runnable_blocks(text: str) -> list[str]:
    found = sections(text)
    return [
        body
        for title in RUN_SECTIONS
        for language, body in BLOCK.findall(found[title])
        if language == "sh"
    ]


def test_the_quick_start_names_what_a_first_day_needs():
    blocks = "\n".join(runnable_blocks(README.read_text()))
    for needed in (
        "--kind auditor",  # finding 2: the auditor the reports and audits use is created
        "--role auditor",
        "hotline --profile reviewer-1 cases",  # finding 12
        ". instance/dev.env",  # finding 3
        ".venv/bin/flask",
    ):
        assert needed in blocks, needed
    assert "inbox --from-start" in README.read_text()
    assert "--from 2026-01-01 --to 2026-06-30" not in README.read_text()  # finding 1


@pytest.mark.slow
def test_the_quick_start_runs_as_written(tmp_path):
    script = "\n".join(runnable_blocks(README.read_text()))
    assert DEV_URL in script
    work, home = tmp_path / "checkout", tmp_path / "home"
    work.mkdir()
    home.mkdir()
    (work / ".venv").symlink_to(Path(sys.prefix))
    (work / "wsgi.py").symlink_to(ROOT / "wsgi.py")
    with LiveServer(tmp_path / "server" / "instance") as server:
        (work / "instance").mkdir()
        settings = {
            name: server.env[name]
            for name in (
                "EXCHANGE_INSTANCE_PATH",
                "EXCHANGE_DATABASE_URL",
                "EXCHANGE_KEY_PASSPHRASE",
                "EXCHANGE_PUBLIC_URL",
            )
        }
        (work / "instance" / "dev.env").write_text(
            "".join(f"export {name}='{value}'\n" for name, value in settings.items())
        )
        environment = {
            name: value
            for name, value in os.environ.items()
            if not name.startswith(("EXCHANGE_", "HOTLINE_", "XDG_", "VIRTUAL_ENV"))
        }
        environment.update(HOME=str(home), HOTLINE_PASSPHRASE="a long passphrase for the readme")
        result = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", script.replace(DEV_URL, server.url)],
            cwd=work,
            env=environment,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
    assert result.returncode == 0, (result.stdout[-3000:], result.stderr[-3000:])
    assert "Traceback" not in result.stdout + result.stderr
    out = result.stdout
    assert re.search(r"^Sent case [0-9a-f-]{36}", out, re.MULTILINE) is None  # --quiet
    assert re.search(r"^Acknowledged case [0-9a-f-]{36}: now acknowledged", out, re.MULTILINE)
    assert re.search(r"^Answered case [0-9a-f-]{36}: now actioned", out, re.MULTILINE)
    assert re.search(r"^Closed case [0-9a-f-]{36}: now closed", out, re.MULTILINE)
    assert "Verified log " in out
    assert "PLATFORM" in out  # the compliance table
    assert (work / "compliance.html").stat().st_size > 1000
    assert (work / "log-bundle.json").exists()
    assert sorted(p.name for p in (home / ".hotline").iterdir()) == [
        "auditor-1",
        "officer-1",
        "reviewer-1",
    ]
