"""The operator's first day (issue 16, findings 2 to 5 and 16): what `flask admin` and
`make run` say to someone following the README literally."""

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from exchange import runtime
from tests.exchange.api.test_admin_cli import CODE, admin, ok, refusal

ROOT = Path(__file__).resolve().parents[3]
FLASK = Path(sys.executable).parent / "flask"


def official_row(runner: Any, official: str) -> dict[str, Any]:
    rows = json.loads(ok(admin(runner, "official", "list", "--json")))
    return next(row for row in rows if row["id"] == official)


# --- finding 2: the auditor, and a wrong role in plain words -----------------------------------


def test_2_a_wrong_role_names_the_kind_with_the_right_article(world, runner):
    line = refusal(admin(runner, "official", "invite", "metro-police", "x-1", "--role", "auditor"))
    assert line == (
        "Error: an agency official's role must be one of: agency_officer"
        " (organisation metro-police is an agency)"
    )
    platform = refusal(admin(runner, "official", "invite", "clipshare", "x-2", "--role", "auditor"))
    assert platform.startswith("Error: a platform official's role must be one of: ")


# --- finding 4: re-inviting an enrolled official ----------------------------------------------


def test_4_reinviting_an_enrolled_official_is_refused_and_changes_nothing(world, runner):
    before = official_row(runner, "cs-reviewer")
    size = world.log_size()
    line = refusal(
        admin(
            runner, "official", "invite", "clipshare", "cs-reviewer", "--role", "platform_official"
        )
    )
    assert line == (
        "Error: official cs-reviewer is already enrolled: to give them a new enrollment code"
        " (lost keys, a new device), invite again with --reissue"
    )
    assert official_row(runner, "cs-reviewer") == before
    assert world.log_size() == size


def test_4_reissue_keeps_the_details_not_given(world, runner):
    ok(
        admin(
            runner,
            "official",
            "invite",
            "clipshare",
            "cs-night",
            "--role",
            "platform_official",
            "--title",
            "Night shift",
            "--categories",
            "ncii,sextortion",
            "--contact",
            "email=night@clipshare.example",
        )
    )
    with world.app.app_context(), runtime.write() as session:
        from exchange.storage.models.directory import Official

        session.get(Official, "cs-night").enrolled = True  # as if they had enrolled
    output = ok(
        admin(
            runner,
            "official",
            "invite",
            "clipshare",
            "cs-night",
            "--role",
            "platform_official",
            "--reissue",
        )
    )
    assert CODE.search(output)
    row = official_row(runner, "cs-night")
    assert (row["title"], row["categories"]) == ("Night shift", "ncii,sextortion")
    with world.app.app_context(), runtime.read() as session:
        from exchange.storage.models.directory import Official

        assert session.get(Official, "cs-night").contact == {"email": "night@clipshare.example"}
    [entry] = world.log_entries(world.log_size() - 1)
    assert entry["event"] == "official_invited"
    assert entry["details"]["title"] == "Night shift"


# --- finding 3: a missing setting is one line, and the hints work as printed -------------------


def _bare_env(**extra: str) -> dict[str, str]:
    keep = {name: os.environ[name] for name in ("PATH", "HOME", "LANG") if name in os.environ}
    return {**keep, **extra}


def test_3_admin_without_settings_explains_in_one_line(tmp_path):
    for args in (["admin", "--help"], ["admin", "org", "list"]):
        result = subprocess.run(
            [str(FLASK), "--app", "wsgi", *args],
            cwd=ROOT,
            env=_bare_env(EXCHANGE_INSTANCE_PATH=str(tmp_path / "instance")),
            capture_output=True,
            text=True,
            check=False,
            timeout=60,
        )
        assert result.returncode == 2, result.stderr
        assert result.stdout == ""
        assert result.stderr == (
            "error: the exchange cannot start: set EXCHANGE_KEY_PASSPHRASE or"
            " EXCHANGE_KEY_PASSPHRASE_FILE: the server's signing keys are stored encrypted;"
            " for the development server, run `. instance/dev.env` first (`make run` writes it)\n"
        )


def test_3_admin_init_names_the_env_file_and_the_venvs_flask(tmp_path, database_url):
    instance = tmp_path / "instance"
    instance.mkdir()
    (instance / "dev.env").write_text("export EXCHANGE_KEY_PASSPHRASE=x\n")
    result = subprocess.run(
        [str(FLASK), "--app", "wsgi", "admin", "init"],
        cwd=ROOT,
        env=_bare_env(
            EXCHANGE_INSTANCE_PATH=str(instance),
            EXCHANGE_DATABASE_URL=database_url,
            EXCHANGE_KEY_PASSPHRASE="first day passphrase",
        ),
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    flask = os.path.relpath(FLASK, ROOT) if FLASK.is_relative_to(ROOT) else str(FLASK)
    assert f"  . {instance / 'dev.env'}\n" in result.stdout
    assert (
        f"  {flask} --app wsgi admin official invite metro-police officer-1"
        " --role agency_officer --bootstrap-lead\n" in result.stdout
    )


# --- finding 5: the port, and the URL an invitation prints -------------------------------------


def _make_dry_run(*args: str) -> str:
    result = subprocess.run(
        ["make", "-n", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return result.stdout


def test_5_make_run_takes_a_port_and_invitations_name_it():
    run = _make_dry_run("run", "PORT=5055")
    assert "--port 5055" in run
    assert "EXCHANGE_PUBLIC_URL=http://127.0.0.1:5055" in run.split("dev.env")[0]
    default = _make_dry_run("run")
    assert "--port 5000" in default
    assert "EXCHANGE_PUBLIC_URL=http://127.0.0.1:5000" in default
    serve = _make_dry_run("serve")
    assert "GUNICORN_BIND=127.0.0.1:8000" in serve
    assert "EXCHANGE_PUBLIC_URL=http://127.0.0.1:8000" in serve


def test_5_an_invitation_prints_the_servers_public_url(world, app, runner):
    app.config["PUBLIC_URL"] = "http://127.0.0.1:8000"
    output = ok(
        admin(runner, "official", "invite", "metro-police", "officer-7", "--role", "agency_officer")
    )
    assert "They run: hotline enroll --server http://127.0.0.1:8000 --code " in output


def test_3_gunicorn_without_settings_stops_with_the_same_line(tmp_path):
    """Under gunicorn the worker exits with its 'cannot load' code: the master stops
    instead of restarting workers that would fail the same way."""
    result = subprocess.run(
        [str(FLASK.parent / "gunicorn"), "-c", "gunicorn.conf.py", "wsgi:app"],
        cwd=ROOT,
        env=_bare_env(
            EXCHANGE_INSTANCE_PATH=str(tmp_path / "instance"),
            GUNICORN_BIND="127.0.0.1:0",
            GUNICORN_WORKERS="1",
        ),
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert result.returncode != 0
    assert "error: the exchange cannot start: set EXCHANGE_KEY_PASSPHRASE" in result.stderr
    assert "App failed to load" in result.stderr
    assert "Traceback" not in result.stderr
