"""Rotating the server's own keys: the log's checkpoint key and the access-token key.

The log key (`rotate_log_key`), in this order:

1. a new key is generated and stored encrypted beside the old one (`*.pem.new`);
2. one write transaction appends `log_key_rotated` (no actor: the operator acts through
   the server) whose details hold the old and new verifier keys and the handover note
   (`exchange.keyhandover`: signed by the old key, cosigned by the new one, naming the
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
instance and restart them (docs/deployment.md).
"""

import json
from dataclasses import dataclass
from datetime import datetime

from flask import current_app
from sqlalchemy import select

from exchange import audit, checkpoints, config, db, serverkeys
from exchange.events import Event
from exchange.keyhandover import Handover, sign_handover
from exchange.models import LogEntry
from exchange.serverkeys import LOG_KEY_FILE, TOKEN_KEY_FILE, LogSigner, server_keys


@dataclass(frozen=True)
class LogKeyRotation:
    old_verifier_key: str
    new_verifier_key: str
    log_index: int
    resumed: bool = False


def _finish(old_verifier_key: str) -> None:
    directory = serverkeys.key_dir(current_app)
    serverkeys.retire_log_verifier_key(directory, old_verifier_key)
    serverkeys.install_staged(directory, LOG_KEY_FILE)
    serverkeys.init_app(current_app)


def _latest_rotation_to(verifier_key: str) -> int | None:
    """The index of the newest `log_key_rotated` entry, if it hands over to this key."""
    with db.read() as session:
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


def _resume() -> LogKeyRotation | None:
    """Finish, or discard, the staged key of a rotation that stopped half-way."""
    directory = serverkeys.key_dir(current_app)
    passphrase = config.key_passphrase(current_app.config)
    staged = serverkeys.load_staged(directory, LOG_KEY_FILE, passphrase)
    if staged is None:
        return None
    old = server_keys().log
    new = LogSigner(old.name, staged)
    index = _latest_rotation_to(new.verifier_key)
    if index is None:  # the transaction never committed: start again
        serverkeys.discard_staged(directory, LOG_KEY_FILE)
        return None
    _finish(old.verifier_key)
    return LogKeyRotation(old.verifier_key, new.verifier_key, index, resumed=True)


def rotate_log_key(now: datetime) -> LogKeyRotation:
    """Replace the log's checkpoint key, on record, in one transaction with its handover."""
    resumed = _resume()
    if resumed is not None:
        return resumed
    app = current_app
    directory = serverkeys.key_dir(app)
    old = server_keys().log
    new = LogSigner(
        old.name,
        serverkeys.stage_key(directory, LOG_KEY_FILE, config.key_passphrase(app.config)),
    )
    try:
        with db.write() as session:
            state = checkpoints.pending(session, new, now)
            state.handover_from = old.verifier_key
            index = state.size
            handover = Handover(old.name, index, old.verifier_key, new.verifier_key)
            appended = audit.append(
                session,
                Event.LOG_KEY_ROTATED,
                now,
                details={
                    "old_verifier_key": old.verifier_key,
                    "new_verifier_key": new.verifier_key,
                    "handover": sign_handover(handover, old.private_key, new.private_key),
                },
                signer=new,
            )
    except BaseException:
        serverkeys.discard_staged(directory, LOG_KEY_FILE)
        raise
    _finish(old.verifier_key)
    return LogKeyRotation(old.verifier_key, new.verifier_key, appended.index)


def rotate_token_key() -> None:
    """Replace the access-token key: tokens signed by the old one stop working now."""
    directory = serverkeys.key_dir(current_app)
    serverkeys.discard_staged(directory, TOKEN_KEY_FILE)
    serverkeys.stage_key(directory, TOKEN_KEY_FILE, config.key_passphrase(current_app.config))
    serverkeys.install_staged(directory, TOKEN_KEY_FILE)
    serverkeys.init_app(current_app)
