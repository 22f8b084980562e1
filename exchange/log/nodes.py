"""The Merkle tree in the database: complete-subtree hashes, read and written O(log n).

The plans come from `exchange.protocol.merkle`; this module only fetches and stores the nodes they
name. Nodes added by the current transaction are kept in the transaction's cache, so a
batch of appends reads each sibling once, and they are written together when it seals. A
node never changes once written (its subtree is complete), so every process also keeps the
committed nodes it has seen: most appends and proofs then read no node at all.
"""

import threading
from collections import OrderedDict
from collections.abc import Iterable, Mapping, MutableMapping
from functools import lru_cache
from typing import Final

from sqlalchemy import Executable, and_, bindparam, insert, or_, select
from sqlalchemy.orm import Session

from exchange.protocol import merkle
from exchange.protocol.merkle import NodeId
from exchange.storage import database
from exchange.storage.models import LogNode, table

# SQLite limits expression depth (1000) and bound parameters; a proof needs ~2 log2(n)
# nodes, at most 128 for any uint64 size, so one query almost always fetches them all.
_FETCH_CHUNK = 128
_NEW_NODES: Final = insert(table(LogNode))


NODE_CACHE = "exchange.log.nodes"


class CommittedNodes:
    """The committed nodes a process has seen, most recent kept (a bounded LRU).

    Only committed nodes enter it: those read from the database, and those a transaction
    wrote, once it has committed. Shared by the threads of a process.
    """

    def __init__(self, capacity: int = 65536) -> None:
        self.capacity = capacity
        self._nodes: OrderedDict[NodeId, bytes] = OrderedDict()
        self._lock = threading.Lock()

    def get_many(self, wanted: Iterable[NodeId]) -> dict[NodeId, bytes]:
        with self._lock:
            found = {node: self._nodes[node] for node in wanted if node in self._nodes}
            for node in found:
                self._nodes.move_to_end(node)
            return found

    def remember(self, nodes: Mapping[NodeId, bytes]) -> None:
        with self._lock:
            self._nodes.update(nodes)
            for node in nodes:
                self._nodes.move_to_end(node)
            while len(self._nodes) > self.capacity:
                self._nodes.popitem(last=False)


def committed(session: Session) -> CommittedNodes:
    """The process's committed nodes of the session's database."""
    cache: CommittedNodes = database.shared(session).setdefault(NODE_CACHE, CommittedNodes())
    return cache


def remember(session: Session, nodes: Mapping[NodeId, bytes]) -> None:
    """Keep nodes a transaction wrote, once it has committed."""
    committed(session).remember(nodes)


def fetch_nodes(
    session: Session, wanted: Iterable[NodeId], cache: MutableMapping[NodeId, bytes]
) -> dict[NodeId, bytes]:
    """The hashes of `wanted` nodes: from this transaction's `cache`, then the process's
    committed nodes, then the database in one query per chunk."""
    wanted = list(wanted)
    found = {node: cache[node] for node in wanted if node in cache}
    process_cache = committed(session)
    found.update(process_cache.get_many(node for node in wanted if node not in found))
    missing = [node for node in wanted if node not in found]
    fetched: dict[NodeId, bytes] = {}
    for start in range(0, len(missing), _FETCH_CHUNK):
        chunk = missing[start : start + _FETCH_CHUNK]
        parameters: dict[str, int] = {}
        for number, (level, index) in enumerate(chunk):
            parameters[f"level_{number}"] = level
            parameters[f"index_{number}"] = index
        for level, index, digest in session.execute(_nodes_query(len(chunk)), parameters):
            fetched[(level, index)] = digest
    if fetched:
        process_cache.remember(fetched)
    found.update(fetched)
    absent = [node for node in wanted if node not in found]
    if absent:
        raise LookupError(f"log nodes missing from the database: {absent[:4]}")
    return found


@lru_cache(maxsize=_FETCH_CHUNK)
def _nodes_query(count: int) -> Executable:
    """`SELECT … WHERE (level = ? AND index = ?) OR …` for `count` nodes, built once.

    Not the row value `(level, index) IN (...)`, which SQLite answers by scanning the whole
    table (that made every append and proof O(n)); SQLite (multi-index OR) and PostgreSQL
    (bitmap OR) answer this form from the primary key. Built once per count and bound
    with parameters, so a proof costs no SQL construction and the driver reuses its
    prepared statement: only the O(log n) lookups remain.
    """
    return select(LogNode.level, LogNode.index, LogNode.hash).where(
        or_(
            *(
                and_(
                    LogNode.level == bindparam(f"level_{number}"),
                    LogNode.index == bindparam(f"index_{number}"),
                )
                for number in range(count)
            )
        )
    )


def add_leaf(
    session: Session, leaf_index: int, leaf_hash: bytes, cache: MutableMapping[NodeId, bytes]
) -> None:
    """Put the leaf and every subtree it completes (at most log2(n) + 1 nodes) in the
    transaction's `cache`; `write_new` stores them all at once."""
    completed = merkle.nodes_completed_by_append(leaf_index)
    left_siblings = [merkle.append_node_children(node)[0] for node in completed[1:]]
    known = fetch_nodes(session, left_siblings, cache)
    digest = leaf_hash
    for node in completed:
        if node[0] > 0:
            digest = merkle.node_hash(known[merkle.append_node_children(node)[0]], digest)
        cache[node] = digest


def write_new(session: Session, new: Mapping[NodeId, bytes]) -> None:
    """Store the nodes a transaction added, in one multi-row INSERT rather than an ORM
    object each: a pull of 50 handoffs adds about a hundred."""
    if new:
        rows = [
            {"level": level, "index": index, "hash": hash_} for (level, index), hash_ in new.items()
        ]
        session.execute(_NEW_NODES, rows)


def root(session: Session, size: int, cache: MutableMapping[NodeId, bytes]) -> bytes:
    return merkle.root_from_nodes(size, fetch_nodes(session, merkle.root_plan(size), cache))


def inclusion_proof(session: Session, index: int, size: int) -> list[bytes]:
    plan = merkle.inclusion_plan(index, size)
    return merkle.assemble(plan, fetch_nodes(session, merkle.plan_nodes(plan), {}))


def consistency_proof(session: Session, old: int, new: int) -> list[bytes]:
    plan = merkle.consistency_plan(old, new)
    return merkle.assemble(plan, fetch_nodes(session, merkle.plan_nodes(plan), {}))


def level_hashes(session: Session, level: int, first: int, count: int) -> list[bytes]:
    """The stored hashes of nodes (level, first) .. (level, first + count - 1), in order:
    one range read of the primary key (what a tlog-tiles tile is made of)."""
    rows = session.execute(
        select(LogNode.index, LogNode.hash)
        .where(LogNode.level == level, LogNode.index >= first, LogNode.index < first + count)
        .order_by(LogNode.index)
    ).all()
    if [index for index, _ in rows] != list(range(first, first + count)):
        raise LookupError(f"log nodes of level {level} from {first} missing from the database")
    return [digest for _, digest in rows]
