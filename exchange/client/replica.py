"""The client's own copy of the log's directory, complete up to a checkpoint it verified.

Every checkpoint commits to the directory's tree (`exchange.protocol.directory_commitment`):
the entries about no case, in log order. The client keeps those entries in its state
folder, fetches the ones it lacks from `GET /v1/log/directory`, hashes them all and requires
the root the checkpoint signed. So it knows it holds every directory entry up to that
checkpoint, not only that the ones it was shown are in the log: a hidden revocation, a
dropped key registration or an altered entry changes the root. It then replays them with
the auditor's `Directory`, the same rules the auditor applies, and that replay, never a
server answer, says who receives a case.
"""

import json
from dataclasses import dataclass
from pathlib import Path

from exchange.auditor.directory import Directory
from exchange.auditor.entries import parse_entry
from exchange.auditor.errors import AuditError
from exchange.auditor.tree import CompactRange
from exchange.client.errors import TrustError
from exchange.client.profile import write_private
from exchange.client.trust import LogTrust
from exchange.protocol import directory_commitment, merkle
from exchange.protocol.checkpoint import Checkpoint

PAGE = 1000


@dataclass(frozen=True)
class Replayed:
    """The directory as of a verified checkpoint."""

    checkpoint: Checkpoint
    directory: Directory
    size: int  # directory entries replayed


class DirectoryReplica:
    def __init__(self, log: LogTrust, state: Path) -> None:
        self.log = log
        self.file = state / "directory.json"
        self._replayed: Replayed | None = None

    def current(self, refresh: bool = False) -> Replayed:
        """The directory at the client's verified checkpoint (the latest one if `refresh`)."""
        checkpoint = self.log.checkpoint(refresh=refresh).checkpoint
        if self._replayed is not None and self._replayed.checkpoint == checkpoint:
            return self._replayed
        self._replayed = self._sync(checkpoint)
        return self._replayed

    def _saved(self) -> list[str]:
        if not self.file.exists():
            return []
        try:
            entries = json.loads(self.file.read_text())["entries"]
        except (ValueError, KeyError, TypeError) as exc:
            raise TrustError(f"the saved directory {self.file} is unreadable: {exc}") from exc
        if not isinstance(entries, list) or not all(isinstance(e, str) for e in entries):
            raise TrustError(f"the saved directory {self.file} is not a list of entries")
        return entries

    def _sync(self, checkpoint: Checkpoint) -> Replayed:
        try:
            committed = directory_commitment.of_checkpoint(checkpoint)
        except directory_commitment.DirectoryCommitmentError as exc:
            raise TrustError(f"the checkpoint of size {checkpoint.size}: {exc}") from exc
        if committed is None:
            raise TrustError(
                f"the checkpoint of size {checkpoint.size} commits to no directory:"
                " who receives a case cannot be verified"
            )
        entries = self._saved()
        if len(entries) > committed.size:
            raise TrustError(
                f"the directory shrank from {len(entries)} to {committed.size} entries:"
                " a fork or rollback"
            )
        entries += self._fetch(len(entries), committed.size, checkpoint.size)
        tree = CompactRange()
        for text in entries:
            tree.append(merkle.leaf_hash(text.encode("utf-8")))
        if tree.root() != committed.root:
            raise TrustError(
                f"the directory entries the server sent do not hash to the directory root of"
                f" checkpoint {checkpoint.size}: an entry is hidden, added or altered"
            )
        directory = _replay(entries, checkpoint.size)
        write_private(self.file, json.dumps({"entries": entries}) + "\n")
        return Replayed(checkpoint, directory, len(entries))

    def _fetch(self, start: int, end: int, tree_size: int) -> list[str]:
        """Directory entries [start, end), each the log entry it says it is."""
        fetched: list[str] = []
        while start + len(fetched) < end:
            position = start + len(fetched)
            page = self.log.transport.get(
                "/v1/log/directory", start=position, end=min(end, position + PAGE)
            )
            items = page.get("entries") if isinstance(page, dict) else None
            if not isinstance(items, list) or not items:
                raise TrustError(f"the server did not return directory entry {position} of {end}")
            for offset, item in enumerate(items):
                if not isinstance(item, dict) or item.get("position") != position + offset:
                    raise TrustError(f"the server did not return directory entry {position}")
                text = item.get("entry")
                if not isinstance(text, str):
                    raise TrustError(f"directory entry {position + offset} has no text")
                fetched.append(text)
        return fetched[: end - start]


def _replay(entries: list[str], tree_size: int) -> Directory:
    """The auditor's replay of the directory entries, each at the log index it names."""
    directory, previous = Directory(), -1
    for position, text in enumerate(entries):
        try:
            claimed = json.loads(text).get("index")
            if type(claimed) is not int or not previous < claimed < tree_size:
                raise TrustError(
                    f"directory entry {position} names log index {claimed}, not one after"
                    f" {previous} and below {tree_size}"
                )
            entry = parse_entry(text.encode("utf-8"), claimed)
            if not directory_commitment.is_directory_entry(entry.case_id):
                raise TrustError(f"log entry {claimed} is about a case, not the directory")
            if directory.handles(entry.event):
                directory.apply(entry)
        except AuditError as exc:
            raise TrustError(f"the log's directory does not replay: {exc}") from exc
        except (ValueError, AttributeError) as exc:
            raise TrustError(f"directory entry {position} is not a log entry") from exc
        previous = claimed
    return directory
