"""What the client raises. Every server refusal carries the server's problem details."""

from typing import Any


class ClientError(Exception):
    """Anything the client could not do; `str()` is one line for a person."""


class ServerUnreachableError(ClientError):
    """The server could not be reached, or answered with something that is not the API."""


class ProfileError(ClientError):
    """No usable profile: missing, malformed, or naming keys that are not there."""


class ServerRefusedError(ClientError):
    """The server answered with an RFC 9457 problem."""

    def __init__(self, status: int, problem: dict[str, Any]) -> None:
        self.status = status
        self.problem = problem
        self.type: str = str(problem.get("type", ""))
        self.title: str = str(problem.get("title", f"HTTP {status}"))
        self.detail: str | None = problem.get("detail")
        repeats = self.detail is None or self.detail.lower() == self.title.lower()
        message = self.title if repeats else f"{self.title}: {self.detail}"
        super().__init__(message)

    @property
    def slug(self) -> str:
        return self.type.rsplit(":", 1)[-1]


class TrustError(ClientError):
    """Something the server said failed verification; the cause is chained."""


class DirectoryMismatchError(TrustError):
    """The server's directory answer disagrees with the client's replica of the log.

    `str()` names the discrepancy in one line; nothing was encrypted or accepted.
    """
