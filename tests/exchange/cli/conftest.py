"""A live exchange with enrolled officials, driven through the `hotline` CLI."""

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from exchange.cli import main
from exchange.ops.devserver import LiveServer
from schemas.common import format_utc
from tests.schemas import examples

PASSPHRASE = "cli test passphrase"


def live_response_body() -> dict[str, Any]:
    """The example response, its actions dated now: `hotline respond` refuses an action
    dated before its case was submitted, and a live server's clock is the real one."""
    body = examples.response_body()
    for action in body["actions_taken"]:
        action["at"] = format_utc(datetime.now(UTC))
    return body


@dataclass
class Hotline:
    server: LiveServer
    config: Path
    keys: Path

    def __call__(
        self,
        profile: str | None,
        *args: str,
        input: str | None = None,
        env: dict[str, str | None] | None = None,
    ) -> Result:
        environment: dict[str, str | None] = {
            "HOTLINE_CONFIG": str(self.config),
            "HOTLINE_PASSPHRASE": PASSPHRASE,
            # Reports in English whatever the machine's locale, unless a test says otherwise.
            **dict.fromkeys(("HOTLINE_LOCALE", "LC_ALL", "LC_MESSAGES", "LANG")),
            **(env or {}),
        }
        options = ["--profile", profile] if profile else []
        return CliRunner().invoke(main, [*options, *map(str, args)], input=input, env=environment)

    def json(self, profile: str | None, *args: str, input: str | None = None) -> object:
        result = self(profile, *args, "--json", input=input)
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout)

    def enroll(self, org: str, official: str, role: str, *options: str) -> None:
        code = self.server.invite(org, official, role, *options)
        result = self(
            official,
            "enroll",
            "--server",
            self.server.url,
            "--code",
            code,
            "--key-dir",
            str(self.keys / official),
            "--yes",
        )
        assert result.exit_code == 0, result.output


@pytest.fixture(scope="module")
def hotline(tmp_path_factory) -> Iterator[Hotline]:
    root = tmp_path_factory.mktemp("cli")
    settings = {
        "EXCHANGE_DEADLINES": json.dumps(
            {"urgent": [3600, 86400], "high": [14400, 259200], "normal": [86400, 604800]}
        )
    }
    with LiveServer(root / "instance", settings=settings) as server:
        for org, kind in (
            ("police", "agency"),
            ("clipshare", "platform"),
            ("chatter", "platform"),
            ("regulator", "auditor"),
        ):
            server.admin("org", "create", org, "--kind", kind, "--name", org.title())
        cli = Hotline(server, root / "config", root / "keys")
        # Each organisation's first official is its lead, bootstrapped by the operator
        # (LiveServer.invite); the lead approves everyone after and signs the routing.
        cli.enroll("police", "officer", "agency_officer")
        cli.enroll("clipshare", "lead", "platform_lead")
        cli.enroll("clipshare", "reviewer", "platform_official", "--categories", "sexual_deepfake")
        cli.json(
            "lead",
            "org",
            "approve",
            "reviewer",
            "--role",
            "platform_official",
            "--categories",
            "sexual_deepfake",
        )
        cli.enroll("chatter", "ch-lead", "platform_lead")
        cli.enroll("regulator", "auditor", "auditor")
        cli.json("lead", "org", "route", "sexual_deepfake", "reviewer")
        yield cli
