"""The logged-in client behind every command that talks to a server."""

from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

import click

from exchange.cli.common import Refused, UsageProblem, passphrase
from exchange.client import profile as profiles
from exchange.client.client import Client
from exchange.client.errors import (
    ClientError,
    ProfileError,
    ServerRefusedError,
    ServerUnreachableError,
)
from exchange.protocol.verification import VerificationError
from exchange.protocol.witness_policy import WitnessPolicy
from keys import KeyStoreError, load_key_dir

P = ParamSpec("P")
R = TypeVar("R")


def profile_name() -> str | None:
    context = click.get_current_context()
    root: Any = context.find_root().params
    name = root.get("profile")
    return str(name) if name else None


def client(witness_policy: WitnessPolicy | None = None) -> Client:
    """The client of the selected profile, with the keys unlocked by the passphrase.

    The profile is read first: with none, the user is told to enroll, not asked for a
    passphrase that unlocks nothing. With a witness policy, the client trusts only
    checkpoints that a quorum of its witnesses cosigned.
    """
    try:
        chosen = profiles.load(profile_name())
    except ProfileError as exc:
        raise UsageProblem(str(exc)) from exc
    try:
        return Client(
            chosen, load_key_dir(Path(chosen.key_dir), passphrase()), witness_policy=witness_policy
        )
    except KeyStoreError as exc:
        raise Refused(str(exc)) from exc


def reports_errors(command: Callable[P, R]) -> Callable[P, R]:
    """Turn client failures into one line and the documented exit code."""

    @wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return command(*args, **kwargs)
        except (ServerUnreachableError, ProfileError) as exc:
            raise UsageProblem(str(exc)) from exc
        except ServerRefusedError as exc:
            raise Refused(str(exc)) from exc
        except (ClientError, VerificationError, KeyStoreError) as exc:
            raise Refused(str(exc)) from exc

    return wrapper
