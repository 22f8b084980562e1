"""What each entry means, checked in log order: statements, keys, directory and cases."""

import json
from typing import Any

from exchange.auditor.cases import CaseReplay
from exchange.auditor.checks import StatementChecks
from exchange.auditor.directory import Directory
from exchange.auditor.entries import Actor, Entry
from exchange.auditor.errors import EntryFormatError, StatementError
from exchange.auditor.policies import PolicyReplay
from exchange.protocol.events import HANDOFF_EVENTS, Event
from keys.b64 import b64url_decode
from schemas.enums import Kind
from schemas.statement import Statement, typed_statement


def _peek(token: str, index: int) -> dict[str, Any]:
    """The statement's payload, read but not yet checked: enough to replay the case.

    The full check (`statements.statement_problem`: policy, canonical base64url and JSON,
    schema, kid, signature) is queued on the checks and reported at this index if it
    fails; reading the payload twice costs less than making the replay wait for it.
    """
    parts = token.split(".")
    try:
        encoded = parts[1] if len(parts) == 3 else ""
        payload = json.loads(b64url_decode(encoded))
    except ValueError:
        payload = None
    if not isinstance(payload, dict):
        raise StatementError("the statement is refused: not a compact JWS of a JSON object", index)
    return payload


class Replay:
    """Replays entries one by one; raises an AuditError naming the first that does not fit.

    A handoff's statement is checked in full (`statements.statement_problem`) by
    `checks`, which may run it beside the replay. Key statements are verified here, before
    the next entry is read, since every later signature depends on them.
    """

    def __init__(self, checks: StatementChecks) -> None:
        self.checks = checks
        self.directory = Directory()
        self.cases = CaseReplay(self.directory)
        self.policies = PolicyReplay()

    def entry(self, entry: Entry) -> None:
        if entry.event in HANDOFF_EVENTS:
            self._handoff(entry)
        elif entry.event == Event.DELIVERED:
            self._delivered(entry)
        elif entry.event == Event.DEADLINE_BREACHED:
            self.cases.deadline_breached(entry)
        elif entry.event == Event.DEADLINE_POLICY_CHANGED:
            self.policies.changed(entry)
        elif self.directory.handles(entry.event):
            self.directory.apply(entry)
        else:  # every Event is handled above; a new one must be taught to the auditor
            raise EntryFormatError(f"the auditor does not know event {entry.event}", entry.index)

    def _handoff(self, entry: Entry) -> None:
        index, actor, token = entry.index, entry.actor, entry.statement
        if actor is None or token is None or entry.case_id is None or entry.handoff_id is None:
            raise StatementError(f"a {entry.event} entry needs its actor, statement and ids", index)
        key = self.directory.signing_key(actor, actor.kid, index)
        assert actor.kid is not None  # signing_key refuses a missing kid
        self.checks.add(index, token, actor.kid, key)
        payload = _peek(token, index)
        try:
            self._replay(entry, actor, typed_statement(payload))
        except (KeyError, TypeError, AttributeError, ValueError) as exc:
            # The schema check may still be running on a worker; a payload whose shape
            # breaks the replay fails it at this same index, and that reason is reported.
            raise StatementError("the statement does not have a statement's shape", index) from exc

    def _replay(self, entry: Entry, actor: Actor, statement: Statement) -> None:
        index, sender = entry.index, statement.sender
        if (sender.org, sender.official, sender.kid) != (actor.org, actor.official, actor.kid):
            raise StatementError("the statement's sender is not the entry's actor", index)
        if (statement.kind, statement.case_id, statement.handoff_id) != (
            entry.event,
            entry.case_id,
            entry.handoff_id,
        ):
            raise StatementError("the statement's kind, case or handoff is not the entry's", index)
        if statement.jwe_sha256 != entry.jwe_sha256:
            raise StatementError("the statement's jwe_sha256 is not the entry's", index)
        self.cases.handoff(entry, statement, self.directory.officials[actor.official].role)
        if statement.kind == Kind.CASE:
            self.policies.case_opened(entry, statement)

    def _delivered(self, entry: Entry) -> None:
        if entry.actor is None or entry.statement is not None or entry.jwe_sha256 is not None:
            raise EntryFormatError("a delivery has a reader and no statement", entry.index)
        # The reader authenticated with this key: it must have been theirs and active.
        self.directory.signing_key(entry.actor, entry.actor.kid, entry.index)
        self.cases.delivered(entry)
