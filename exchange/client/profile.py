"""Profiles: which server, which keys, who you are, and the log key you pinned.

They live in `~/.config/hotline/` (or the directory in `HOTLINE_CONFIG`): `config.json`
names the profiles and the default; each profile has a state folder for its inbox cursor
and the last log checkpoint it verified. Files are written owner-only.
"""

import json
import os
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import click

from exchange.client.errors import ProfileError

CONFIG_ENV = "HOTLINE_CONFIG"
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


@dataclass(frozen=True)
class Profile:
    name: str
    server: str
    key_dir: str
    org: str
    official: str
    log_origin: str
    log_verifier_keys: tuple[str, ...] = field(default_factory=tuple)
    # The token endpoint as the server names it: the audience of client assertions, which
    # stays the same whatever proxy or load balancer address the client connects through.
    audience: str | None = None

    @property
    def token_endpoint(self) -> str:
        return self.audience or f"{self.server.rstrip('/')}/v1/token"


def config_dir() -> Path:
    return Path(os.environ.get(CONFIG_ENV) or click.get_app_dir("hotline"))


def _config_file() -> Path:
    return config_dir() / "config.json"


def _read_config() -> dict[str, Any]:
    path = _config_file()
    if not path.exists():
        return {"default": None, "profiles": {}}
    try:
        config: dict[str, Any] = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise ProfileError(f"cannot read {path}: {exc}") from exc
    return config


def write_private(path: Path, text: str) -> None:
    """Write a file readable by its owner only, replacing it atomically."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
    os.replace(temporary, path)


def save(profile: Profile, make_default: bool = True) -> Path:
    if not _NAME.fullmatch(profile.name):
        raise ProfileError("a profile name is 1-64 letters, digits, '.', '_' or '-'")
    config = _read_config()
    config["profiles"][profile.name] = {
        **asdict(profile),
        "log_verifier_keys": list(profile.log_verifier_keys),
    }
    if make_default or not config.get("default"):
        config["default"] = profile.name
    write_private(_config_file(), json.dumps(config, indent=2) + "\n")
    return _config_file()


def load(name: str | None = None) -> Profile:
    config = _read_config()
    chosen = name or config.get("default")
    if not chosen:
        raise ProfileError("no profile yet: run `hotline enroll` (or `hotline init`) first")
    data = config["profiles"].get(chosen)
    if data is None:
        known = ", ".join(sorted(config["profiles"])) or "none yet"
        raise ProfileError(f"no profile {chosen!r} (profiles: {known}; see `hotline profile list`)")
    return Profile(**{**data, "log_verifier_keys": tuple(data.get("log_verifier_keys", ()))})


def names() -> list[str]:
    return sorted(_read_config()["profiles"])


def default_name() -> str | None:
    chosen = _read_config().get("default")
    return str(chosen) if chosen else None


def use(name: str) -> Path:
    """Make `name` the profile that commands use without --profile."""
    config = _read_config()
    if name not in config["profiles"]:
        known = ", ".join(sorted(config["profiles"])) or "none yet"
        raise ProfileError(f"no profile {name!r} (profiles: {known})")
    config["default"] = name
    write_private(_config_file(), json.dumps(config, indent=2) + "\n")
    return _config_file()


def state_dir(profile: Profile) -> Path:
    path = config_dir() / "state" / profile.name
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    return path
