"""Issue 16, finding 16: clean logs under `make run`, and an install without warnings."""

import configparser
import io
import json
import logging
from pathlib import Path

import setuptools

from exchange.observability import json_lines

ROOT = Path(__file__).resolve().parents[3]


def test_16_dev_server_lines_carry_no_ansi_and_requests_are_logged_once():
    stream = io.StringIO()
    handler = json_lines.configure("INFO", stream)
    werkzeug = logging.getLogger("werkzeug")
    try:
        werkzeug.info(
            '%s - - [%s] "%s" %s %s',
            "127.0.0.1",
            "06/Dec/2026 18:00:00",
            "\x1b[32mGET /healthz HTTP/1.1\x1b[0m",
            "200",
            "-",
        )
        werkzeug.info("\x1b[33mPress CTRL+C to quit\x1b[0m")
    finally:
        logging.getLogger().removeHandler(handler)
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert [line["message"] for line in lines] == ["Press CTRL+C to quit"]
    assert "\\u001b" not in stream.getvalue()


def test_16_every_package_with_files_is_installed_so_setuptools_does_not_warn():
    config = configparser.ConfigParser()
    config.read(ROOT / "setup.cfg")
    assert config["options"]["packages"] == "find_namespace:"
    found = config["options.packages.find"]
    packages = set(
        setuptools.find_namespace_packages(
            where=str(ROOT), include=found["include"].split(), exclude=found["exclude"].split()
        )
    )
    assert "exchange.reports.templates" in packages
    assert not any("__pycache__" in package for package in packages)
    folders = [
        folder
        for folder in (ROOT / "exchange").rglob("*")
        if folder.is_dir() and "__pycache__" not in folder.parts
    ]
    for folder in folders:
        if any(child.is_file() for child in folder.iterdir()):
            dotted = ".".join(folder.relative_to(ROOT).parts)
            assert dotted in packages, dotted
