"""The contract of docs/cli.md, checked for every command of `hotline` (issue 16)."""

import re
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from exchange.cli import main
from exchange.cli.contract import EXIT_REFUSED, EXIT_USAGE, HotlineGroup, Refused, UsageProblem

CLI_DOC = Path(__file__).resolve().parents[3] / "docs" / "cli.md"


def leaves(command: click.Command, path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    if isinstance(command, click.Group):
        return [
            leaf
            for name, sub in sorted(command.commands.items())
            for leaf in leaves(sub, (*path, name))
        ]
    return [path]


def groups(command: click.Command) -> list[click.Group]:
    if not isinstance(command, click.Group):
        return []
    return [command, *(g for sub in command.commands.values() for g in groups(sub))]


COMMANDS = leaves(main)


def test_there_are_commands_to_check():
    assert len(COMMANDS) >= 25


@pytest.mark.parametrize("path", COMMANDS, ids=" ".join)
def test_every_command_is_documented_and_helps(path, tmp_path):
    assert f"`hotline {' '.join(path)}" in CLI_DOC.read_text(), path
    result = CliRunner().invoke(main, [*path, "--help"], env={"HOTLINE_CONFIG": str(tmp_path)})
    assert result.exit_code == 0, result.output
    assert "--json" in result.stdout
    assert "-h, --help" in result.stdout


def test_every_group_shares_the_help_options():
    assert all(isinstance(group, HotlineGroup) for group in groups(main))


def test_the_documented_exit_codes_are_the_errors_codes():
    assert (Refused("x").exit_code, UsageProblem("x").exit_code) == (EXIT_REFUSED, EXIT_USAGE)
    text = CLI_DOC.read_text()
    assert re.search(r"^\| 1 \| refused by the server, or a check failed \|", text, re.M)
    assert re.search(r"^\| 2 \| a usage problem: nothing was sent \|", text, re.M)


@pytest.mark.parametrize(
    "path",
    [
        p
        for p in COMMANDS
        if p[0] not in ("envelope", "keygen", "enroll", "init", "audit")
        and p != ("profile", "list")  # no profiles is an empty list, not an error
    ],
    ids=" ".join,
)
def test_without_a_profile_every_command_says_enroll_in_one_line(path, tmp_path):
    arguments = {
        "ack": ["abcd1234"],
        "ask": ["abcd1234", "--question", "why?"],
        "assign": ["abcd1234", "someone"],
        "close": ["abcd1234", "--reason", "completed"],
        "export-dsa": ["--out", str(tmp_path / "statements.json")],
        "respond": ["abcd1234", "-"],
        "show": ["abcd1234"],
        "submit": ["-", "--to", "clipshare"],
        "supplement": ["abcd1234", "--text", "more"],
        "withdraw": ["abcd1234", "--reason", "issued_in_error"],
        "profile": ["someone"] if path[-1] == "use" else [],
        "org": {
            "invite": ["someone", "--role", "platform_official"],
            "approve": ["someone", "--role", "platform_official"],
            "remove": ["someone"],
            "route": ["sexual_deepfake", "someone"],
            "object": ["abcd1234"],
        }.get(path[-1], []),
        "notify": {
            "add": ["--webhook", "https://tickets.example.org/hooks"],
            "remove": ["abcd1234"],
            "test": ["abcd1234"],
        }.get(path[-1], []),
        "key": {
            "rotate": ["--new-key-dir", str(tmp_path / "new-keys")],
            "revoke": ["somekid", "--reason", "lost"],
        }.get(path[-1], []),
        "report": {
            "evidence": ["--platform", "clipshare", "--out", str(tmp_path / "pack")],
            # Offline, but the log key to pin is the profile's unless given.
            "evidence-check": [str(tmp_path)],
        }.get(path[-1], []),
    }.get(path[0], [])
    stdin = {
        "respond": '{"outcome": "actioned", "actions_taken": [], "automated_detection": false}',
        "submit": "{}",
    }.get(path[0])
    result = CliRunner().invoke(
        main,
        [*path, *arguments, "--json"],
        input=stdin,
        env={"HOTLINE_CONFIG": str(tmp_path / "none"), "HOTLINE_PASSPHRASE": "x"},
    )
    assert result.exit_code == EXIT_USAGE, (path, result.output)
    assert result.stdout == ""
    assert result.stderr.startswith("error: "), result.stderr
    assert result.stderr.count("\n") == 1, result.stderr
