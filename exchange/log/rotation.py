"""Rotating the server's own keys: the log's checkpoint key and the access-token key.

The log key (`rotate_log_key`), in this order:

1. a new key is generated and stored encrypted beside the old one (`*.pem.new`);
2. one write transaction appends `log_key_rotated` (no actor: the operator acts through
   the server) whose details hold the old and new verifier keys and the handover note
   (`exchange.protocol.handover`: signed by the old key, cosigned by the new one, naming the
   entry's index); the checkpoint sealing that transaction is signed by the NEW key;
3. after the commit, the old verifier key joins the retired list and the new key file
   replaces the old one (whose private half is then gone).

So checkpoints up to the rotation verify with the old key, the rotation entry and all after
it with the new one, and an auditor who trusted the old key follows the handover to the
new. A crash between 2 and 3 is finished by the next run: the staged key is installed if
the log's newest rotation entry hands over to it, and discarded otherwise.

The token key (`rotate_token_key`) only authenticates sessions and vouches for nothing in
the log: it is replaced at once, every access token signed by the old key stops working,
and clients fetch a new one with a fresh client assertion on their next 401.

Either way, other processes keep the keys they loaded: copy the key directory to every
instance and restart them (docs/deployment.md). This process's caller reloads its keys
from the directory after a rotation returns. No Flask: the key directory, its passphrase
and the database are arguments.
"""

import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import select

from exchange import log
from exchange.log import batch, keyring, transaction
from exchange.log.keyring import LOG_KEY_FILE, TOKEN_KEY_FILE, LogSigner, ServerKeys
from exchange.protocol.events import Event
from exchange.protocol.handover import Handover, sign_handover
from exchange.storage import database
from exchange.storage.database import Database
from exchange.storage.models import LogEntry


@dataclass(frozen=True)
class KeyDirectory:
    """Where the server's keys are stored, and the passphrase that encrypts them."""

    path: Path
    passphrase: bytes


@dataclass(frozen=True)
class LogKeyRotation:
    old_verifier_key: str
    new_verifier_key: str
    log_index: int
    resumed: bool = False


def _finish(keys: KeyDirectory, old_verifier_key: str) -> None:
    keyring.retire_log_verifier_key(keys.path, old_verifier_key)
    keyring.install_staged(keys.path, LOG_KEY_FILE)


def _latest_rotation_to(db: Database, verifier_key: str) -> int | None:
    """The index of the newest `log_key_rotated` entry, if it hands over to this key."""
    with database.read(db) as session:
        entry = session.scalars(
            select(LogEntry)
            .where(LogEntry.event == str(Event.LOG_KEY_ROTATED))
            .order_by(LogEntry.index.desc())
            .limit(1)
        ).first()
        if entry is None:
            return None
        details = json.loads(entry.leaf)["details"]
        return entry.index if details.get("new_verifier_key") == verifier_key else None


def _resume(db: Database, keys: KeyDirectory, old: LogSigner) -> LogKeyRotation | None:
    """Finish, or discard, the staged key of a rotation that stopped half-way."""
    staged = keyring.load_staged(keys.path, LOG_KEY_FILE, keys.passphrase)
    if staged is None:
        return None
    new = LogSigner(old.name, staged)
    index = _latest_rotation_to(db, new.verifier_key)
    if index is None:  # the transaction never committed: start again
        keyring.discard_staged(keys.path, LOG_KEY_FILE)
        return None
    _finish(keys, old.verifier_key)
    return LogKeyRotation(old.verifier_key, new.verifier_key, index, resumed=True)


def rotate_log_key(
    db: Database, keys: KeyDirectory, current: ServerKeys, now: datetime
) -> LogKeyRotation:
    """Replace the log's checkpoint key, on record, in one transaction with its handover.

    The caller reloads its keys from `keys.path` afterwards.
    """
    old = current.log
    resumed = _resume(db, keys, old)
    if resumed is not None:
        return resumed
    new = LogSigner(old.name, keyring.stage_key(keys.path, LOG_KEY_FILE, keys.passphrase))
    try:
        with transaction.write(db, new, handover_from=old.verifier_key) as session:
            index = batch.pending(session, now).size
            handover = Handover(old.name, index, old.verifier_key, new.verifier_key)
            appended = log.append(
                session,
                Event.LOG_KEY_ROTATED,
                now,
                details={
                    "old_verifier_key": old.verifier_key,
                    "new_verifier_key": new.verifier_key,
                    "handover": sign_handover(handover, old.private_key, new.private_key),
                },
            )
    except BaseException:
        keyring.discard_staged(keys.path, LOG_KEY_FILE)
        raise
    _finish(keys, old.verifier_key)
    return LogKeyRotation(old.verifier_key, new.verifier_key, appended.index)


def rotate_token_key(keys: KeyDirectory) -> None:
    """Replace the access-token key: tokens signed by the old one stop working once the
    caller reloads its keys."""
    keyring.discard_staged(keys.path, TOKEN_KEY_FILE)
    keyring.stage_key(keys.path, TOKEN_KEY_FILE, keys.passphrase)
    keyring.install_staged(keys.path, TOKEN_KEY_FILE)
