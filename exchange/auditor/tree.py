"""The Merkle tree of the entries, built as they stream past in O(log n) memory.

`CompactRange` keeps only the complete subtrees of the tree so far (the nodes of
`merkle.root_plan(size)`, its frontier), so the root at any size is a fold of at most 64
hashes. Nodes named in advance are captured as they complete: enough to assemble a
consistency proof from an earlier size, with the plans of `exchange.protocol.merkle`, without
keeping every leaf.
"""

from collections.abc import Collection, Sequence

from exchange.protocol import merkle
from exchange.protocol.merkle import NodeId


class CompactRange:
    def __init__(self, capture: Collection[NodeId] = ()) -> None:
        self.size = 0
        self._levels: list[int] = []
        self._hashes: list[bytes] = []
        self._capture = frozenset(capture)
        self.captured: dict[NodeId, bytes] = {}

    def append(self, leaf_hash: bytes) -> None:
        index, digest, level = self.size, leaf_hash, 0
        levels, hashes = self._levels, self._hashes
        if self._capture and (0, index) in self._capture:
            self.captured[(0, index)] = digest
        # Equal levels on top of the stack are siblings: merge them, as the RFC 9162 tree
        # does when a subtree of 2**level leaves completes.
        while levels and levels[-1] == level:
            levels.pop()
            digest = merkle.node_hash(hashes.pop(), digest)
            level += 1
            if self._capture and (level, index >> level) in self._capture:
                self.captured[(level, index >> level)] = digest
        levels.append(level)
        hashes.append(digest)
        self.size += 1

    def root(self) -> bytes:
        return fold(self._hashes)

    def frontier(self) -> list[tuple[NodeId, bytes]]:
        """The complete subtrees of the current tree, largest (leftmost) first."""
        nodes, start = [], 0
        for level, digest in zip(self._levels, self._hashes, strict=True):
            nodes.append(((level, start >> level), digest))
            start += 1 << level
        return nodes


def fold(hashes: Sequence[bytes]) -> bytes:
    """The root over complete subtrees given largest first (RFC 9162's right fold)."""
    if not hashes:
        return merkle.root([])
    digest = hashes[-1]
    for left in reversed(hashes[:-1]):
        digest = merkle.node_hash(left, digest)
    return digest


def node_range(node: NodeId) -> tuple[int, int]:
    """The leaves [start, end) a complete subtree covers."""
    level, index = node
    return index << level, (index + 1) << level
