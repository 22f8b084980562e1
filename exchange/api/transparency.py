"""The transparency log over HTTP: checkpoints, entries and proofs (hashes in base64)."""

from typing import Any

from flask import Response

from exchange import runtime
from exchange.api.auth import authenticated
from exchange.api.blueprint import BEARER, Blueprint
from exchange.runtime import server_keys
from exchange.services import transparency
from exchange.services.caller import Caller
from keys.b64 import b64_encode
from schemas.api import (
    ConsistencyProofSchema,
    ConsistencyQuerySchema,
    DirectoryEntriesSchema,
    InclusionProofSchema,
    InclusionQuerySchema,
    LogEntriesQuerySchema,
    LogEntriesSchema,
    LogKeySchema,
)

blp = Blueprint("log", __name__, url_prefix="/v1/log", description="The transparency log")

MAX_ENTRIES_PAGE = 1000


@blp.route("/checkpoint", methods=["GET"])
@blp.response(200, content_type="text/plain")
@blp.problems(404)
def checkpoint() -> Response:
    """The latest checkpoint: a C2SP signed note (origin, size, root)."""
    with runtime.read() as session:
        note = transparency.current_checkpoint(session).note
    return Response(note, mimetype="text/plain")


@blp.route("/key", methods=["GET"])
@blp.response(200, LogKeySchema)
def verifier_key() -> dict[str, Any]:
    """The checkpoint verifier key (name+id+key), the keys it replaced, and the handovers.

    Each handover is the signed note of a `log_key_rotated` entry (`exchange.protocol.handover`):
    a client that pinned an older key learns the newer one from it, trusting the old key's
    signature, not this answer, and then proves the entry is in the transparency.
    """
    keys = server_keys()
    with runtime.read() as session:
        handovers = transparency.key_handovers(session)
    return {
        "origin": keys.log.name,
        "verifier_key": keys.log.verifier_key,
        "retired_verifier_keys": list(keys.retired_log_verifier_keys),
        "handovers": [{"index": index, "note": note} for index, note in handovers],
    }


@blp.route("/entries", methods=["GET"])
@authenticated()
@blp.arguments(LogEntriesQuerySchema, location="query")
@blp.response(200, LogEntriesSchema)
@blp.problems(401, 422)
@blp.doc(security=BEARER)
def entries(query: dict[str, Any], caller: Caller) -> dict[str, Any]:
    """Entries [start, end), at most 1000, of the checkpointed transparency.

    Auditors get every entry. Officials get the directory's entries and those of the cases
    they may see; for any other, `entry` is null and only its leaf hash is given.
    """
    with runtime.read() as session:
        rows = transparency.entries_for(
            session, caller, query["start"], query["end"], MAX_ENTRIES_PAGE
        )
        return {
            "entries": [
                {
                    "index": row.index,
                    "entry": row.leaf if readable else None,
                    "leaf_hash": b64_encode(transparency.leaf_hash(row)),
                }
                for row, readable in rows
            ]
        }


@blp.route("/directory", methods=["GET"])
@authenticated()
@blp.arguments(LogEntriesQuerySchema, location="query")
@blp.response(200, DirectoryEntriesSchema)
@blp.problems(401, 422)
@blp.doc(security=BEARER)
def directory(query: dict[str, Any], **_caller: Any) -> dict[str, Any]:
    """The directory's entries at positions [start, end) of its own tree, at most 1000.

    The directory is every entry about no case, in log order; each checkpoint commits to
    its tree in a `directory <size> <root>` line. A client replicates it from here and
    hashes it to that root, so it knows it holds every directory entry, hidden ones too.
    """
    with runtime.read() as session:
        tree_size, rows = transparency.directory_entries(
            session, query["start"], query["end"], MAX_ENTRIES_PAGE
        )
        return {
            "tree_size": tree_size,
            "entries": [
                {"position": query["start"] + offset, "index": row.index, "entry": row.leaf}
                for offset, row in enumerate(rows)
            ],
        }


@blp.route("/proof/inclusion", methods=["GET"])
@authenticated()
@blp.arguments(InclusionQuerySchema, location="query")
@blp.response(200, InclusionProofSchema)
@blp.problems(401, 404, 422)
@blp.doc(security=BEARER)
def inclusion(query: dict[str, Any], **_caller: Any) -> dict[str, Any]:
    """An RFC 9162 inclusion proof: entry `index` is in the tree of size `tree_size`."""
    with runtime.read() as session:
        leaf_hash, proof = transparency.inclusion(session, query["index"], query["tree_size"])
    return {
        "index": query["index"],
        "tree_size": query["tree_size"],
        "leaf_hash": b64_encode(leaf_hash),
        "proof": [b64_encode(node) for node in proof],
    }


@blp.route("/proof/consistency", methods=["GET"])
@authenticated()
@blp.arguments(ConsistencyQuerySchema, location="query")
@blp.response(200, ConsistencyProofSchema)
@blp.problems(401, 404, 422)
@blp.doc(security=BEARER)
def consistency(query: dict[str, Any], **_caller: Any) -> dict[str, Any]:
    """An RFC 9162 consistency proof: the tree of size `new` extends the one of size `old`."""
    with runtime.read() as session:
        proof = transparency.consistency(session, query["old"], query["new"])
    return {
        "old": query["old"],
        "new": query["new"],
        "proof": [b64_encode(node) for node in proof],
    }
