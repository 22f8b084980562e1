"""RFC 9162 §2.1 Merkle trees: hashes, proofs, verification, and a stored-subtree plan API.

Three layers, each usable alone:

* The RFC 9162 definitions over a list of leaf hashes (`root`, `inclusion_proof`,
  `consistency_proof`). They are written as the RFC's recursions so they can be checked
  against the text line by line; they read every leaf and are the reference, not the
  production path.
* Verification (`verify_inclusion`, `verify_consistency`): RFC 9162 §2.1.3.2 and §2.1.4.2,
  O(log n), with the expected proof length checked first so a wrong length gets its own
  error instead of a root mismatch.
* Stored subtrees: a store keeps the hash of every complete subtree, named by
  `NodeId = (level, index)`: the 2**level leaves starting at leaf index * 2**level. Such a
  node never changes once its last leaf is appended, so an append writes O(log n) rows
  and never rewrites one. Every proof element and root is the right fold of O(log n) of
  these nodes; the `*_plan` functions name them, `plan_nodes` gives the set to fetch in one
  query, and `assemble` folds the fetched hashes into the proof.

Sizes are limited to `MAX_TREE_SIZE` (uint64) so that every size accepted here is one a
Go or Rust implementation can represent.

A root commits to the leaves, not to the tree size: a proof for size n also verifies
against the same root under another size whose proof has the same shape (e.g. leaf 0 of
5 and of 7). Trust a size only from a signed checkpoint, which binds it to the root.
"""

import hashlib
from collections.abc import Mapping, Sequence

from exchange.protocol.verification import VerificationError

HASH_SIZE = 32
MAX_TREE_SIZE = 2**64 - 1

NodeId = tuple[int, int]
"""(level, index): the complete subtree of 2**level leaves starting at leaf index * 2**level."""

_EMPTY_ROOT = hashlib.sha256(b"").digest()


class ProofError(VerificationError):
    """A Merkle proof, or the arguments it is checked against, did not verify."""


class ProofLengthError(ProofError):
    """The proof has a different number of hashes than the sizes and index require."""


class IndexOutOfRangeError(ProofError):
    """The leaf index is negative or not below the tree size."""


class HashSizeError(ProofError):
    """A leaf hash, root or proof element is not HASH_SIZE bytes."""


class InvalidSizeError(ProofError):
    """A tree size is negative, too large, zero where a tree is needed, or old > new."""


class RootMismatchError(ProofError):
    """The root computed from the proof differs from the root claimed."""


# The 0x00 / 0x01 prefixes (RFC 9162 §2.1.1) keep a leaf from being passed off as an inner
# node, or the reverse, in a second-preimage attack.
def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


# --- argument checks shared by every layer --------------------------------------------


def _wrong_size(what: str, value: bytes) -> HashSizeError:
    # Callers in loops test the length first and only then build the message, so the
    # verification hot path formats no strings.
    return HashSizeError(f"{what} is {len(value)} bytes, expected {HASH_SIZE}")


def _check_hash(what: str, value: bytes) -> None:
    if len(value) != HASH_SIZE:
        raise _wrong_size(what, value)


def _check_proof(proof: Sequence[bytes]) -> None:
    for i, p in enumerate(proof):
        if len(p) != HASH_SIZE:
            raise _wrong_size(f"proof element {i}", p)


def _check_size(what: str, size: int) -> None:
    if not 0 <= size <= MAX_TREE_SIZE:
        raise InvalidSizeError(f"{what} {size} is outside 0..2**64-1")


def _check_index(index: int, tree_size: int) -> None:
    _check_size("tree size", tree_size)
    if not 0 <= index < tree_size:
        raise IndexOutOfRangeError(f"leaf index {index} is outside a tree of size {tree_size}")


def _check_sizes(old_size: int, new_size: int) -> None:
    _check_size("old size", old_size)
    _check_size("new size", new_size)
    if old_size == 0:
        # RFC 9162 §2.1.4.1 defines proofs only for 0 < old_size: every tree extends the
        # empty one, so there is nothing to prove and a caller asking is confused.
        raise InvalidSizeError("old size 0: consistency with the empty tree needs no proof")
    if old_size > new_size:
        raise InvalidSizeError(f"old size {old_size} is larger than new size {new_size}")


def _split(n: int) -> int:
    """RFC 9162 §2.1.1's k: the largest power of two smaller than n (n > 1)."""
    return 1 << ((n - 1).bit_length() - 1)


# --- RFC 9162 §2.1.1, §2.1.3.1, §2.1.4.1 over a list of leaf hashes ------------------


def _check_leaf_count(leaf_hashes: Sequence[bytes], tree_size: int) -> None:
    _check_size("tree size", tree_size)
    if tree_size > len(leaf_hashes):
        raise InvalidSizeError(f"tree size {tree_size} exceeds the {len(leaf_hashes)} leaves")


def _mth(leaves: Sequence[bytes], lo: int, hi: int) -> bytes:
    """MTH(D[lo:hi]) for hi > lo, on indices so no recursion level copies the list."""
    if hi - lo == 1:
        if len(leaves[lo]) != HASH_SIZE:
            raise _wrong_size(f"leaf hash {lo}", leaves[lo])
        return leaves[lo]
    k = _split(hi - lo)
    return node_hash(_mth(leaves, lo, lo + k), _mth(leaves, lo + k, hi))


def root(leaf_hashes: Sequence[bytes]) -> bytes:
    """MTH(D[n]) of all the given leaf hashes; SHA-256 of nothing for the empty tree."""
    if not leaf_hashes:
        return _EMPTY_ROOT
    return _mth(leaf_hashes, 0, len(leaf_hashes))


def inclusion_proof(leaf_hashes: Sequence[bytes], index: int, tree_size: int) -> list[bytes]:
    """PATH(index, D[tree_size]) over the first tree_size leaves, leaf level first."""
    _check_leaf_count(leaf_hashes, tree_size)
    _check_index(index, tree_size)

    def path(m: int, lo: int, hi: int) -> list[bytes]:
        if hi - lo == 1:
            return []
        k = _split(hi - lo)
        if m < k:
            return [*path(m, lo, lo + k), _mth(leaf_hashes, lo + k, hi)]
        return [*path(m - k, lo + k, hi), _mth(leaf_hashes, lo, lo + k)]

    return path(index, 0, tree_size)


def consistency_proof(leaf_hashes: Sequence[bytes], old_size: int, new_size: int) -> list[bytes]:
    """PROOF(old_size, D[new_size]) over the first new_size leaves, leaf level first."""
    _check_leaf_count(leaf_hashes, new_size)
    _check_sizes(old_size, new_size)

    def subproof(m: int, lo: int, hi: int, b: bool) -> list[bytes]:
        if m == hi - lo:
            return [] if b else [_mth(leaf_hashes, lo, hi)]
        k = _split(hi - lo)
        if m <= k:
            return [*subproof(m, lo, lo + k, b), _mth(leaf_hashes, lo + k, hi)]
        return [*subproof(m - k, lo + k, hi, False), _mth(leaf_hashes, lo, lo + k)]

    return subproof(old_size, 0, new_size, True)


# --- RFC 9162 §2.1.3.2 and §2.1.4.2 verification --------------------------------------


def _inclusion_length(index: int, tree_size: int) -> int:
    # Levels below the highest bit where index and the last leaf differ have a full
    # sibling each ("inner"); above it the path runs along the right border of the tree,
    # where only the levels at which index has a 1 bit have a (left) sibling.
    inner = (index ^ (tree_size - 1)).bit_length()
    return inner + (index >> inner).bit_count()


def verify_inclusion(
    leaf_hash: bytes, index: int, tree_size: int, proof: Sequence[bytes], root: bytes
) -> None:
    """Raise unless proof shows leaf_hash at index in the tree of tree_size with this root."""
    _check_index(index, tree_size)
    _check_hash("leaf hash", leaf_hash)
    _check_hash("root", root)
    _check_proof(proof)
    expected = _inclusion_length(index, tree_size)
    if len(proof) != expected:
        raise ProofLengthError(
            f"inclusion proof for leaf {index} of {tree_size} has {len(proof)} hashes,"
            f" expected {expected}"
        )

    fn, sn, r = index, tree_size - 1, leaf_hash
    for p in proof:
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            # Where fn == sn is even, the node is the last of its level and has no right
            # sibling: it is carried up unchanged until it becomes a right child.
            while fn and not fn & 1:
                fn >>= 1
                sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    if r != root:
        raise RootMismatchError(
            f"inclusion proof for leaf {index} of {tree_size} gives root {r.hex()},"
            f" expected {root.hex()}"
        )


def _consistency_length(old_size: int, new_size: int) -> int:
    # The old tree's rightmost complete subtree (of 2**shift leaves) is where the two trees
    # part. Above it the proof is the inclusion path of that subtree in the new tree; the
    # subtree's own hash comes first unless it is the whole old tree, whose root is known.
    shift = (old_size & -old_size).bit_length() - 1
    inner = ((old_size - 1) ^ (new_size - 1)).bit_length()
    border = ((old_size - 1) >> inner).bit_count()
    return (old_size != 1 << shift) + inner - shift + border


def verify_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> None:
    """Raise unless proof shows the tree of new_size and new_root extends old_size, old_root."""
    _check_sizes(old_size, new_size)
    _check_hash("old root", old_root)
    _check_hash("new root", new_root)
    _check_proof(proof)
    if old_size == new_size:
        if proof:
            raise ProofLengthError(f"consistency proof between equal sizes has {len(proof)} hashes")
        if old_root != new_root:
            raise RootMismatchError(f"two different roots for the same tree size {old_size}")
        return
    expected = _consistency_length(old_size, new_size)
    if len(proof) != expected:
        raise ProofLengthError(
            f"consistency proof from {old_size} to {new_size} has {len(proof)} hashes,"
            f" expected {expected}"
        )

    # §2.1.4.2 step 2 prepends old_root when old_size is a power of two; starting the loop
    # one element earlier does the same without copying the proof.
    if old_size & (old_size - 1) == 0:
        fr = sr = old_root
        start = 0
    else:
        fr = sr = proof[0]
        start = 1
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    for i in range(start, len(proof)):
        c = proof[i]
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            while fn and not fn & 1:
                fn >>= 1
                sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    if fr != old_root:
        raise RootMismatchError(
            f"consistency proof from {old_size} gives old root {fr.hex()},"
            f" expected {old_root.hex()}"
        )
    if sr != new_root:
        raise RootMismatchError(
            f"consistency proof to {new_size} gives new root {sr.hex()}, expected {new_root.hex()}"
        )


# --- stored subtrees -------------------------------------------------------------------


def nodes_completed_by_append(leaf_index: int) -> list[NodeId]:
    """The complete subtrees that appending leaf_index finishes, leaf first, parents after.

    A store writes them in this order: (0, leaf_index) is the leaf hash itself and each
    later node is node_hash of its `append_node_children`, both already stored.
    """
    if not 0 <= leaf_index < MAX_TREE_SIZE:
        raise IndexOutOfRangeError(f"leaf index {leaf_index} is outside 0..2**64-2")
    level, index = 0, leaf_index
    nodes = [(0, index)]
    while index & 1:
        level, index = level + 1, index >> 1
        nodes.append((level, index))
    return nodes


def append_node_children(node: NodeId) -> tuple[NodeId, NodeId]:
    """The left and right halves of a complete subtree of level >= 1."""
    level, index = node
    if level < 1 or index < 0:
        raise InvalidSizeError(f"node {node} has no children: level must be >= 1, index >= 0")
    return (level - 1, 2 * index), (level - 1, 2 * index + 1)


def _range_nodes(start: int, end: int) -> list[NodeId]:
    """The complete subtrees covering leaves [start, end), largest first.

    Only called where start is a multiple of a power of two >= end - start (a right
    subtree in the RFC recursion), so each piece is aligned and their right fold is
    MTH(D[start:end]): RFC 9162 splits at the same largest power of two.
    """
    nodes = []
    for level in range((end - start).bit_length() - 1, -1, -1):
        if (end - start) >> level & 1:
            nodes.append((level, start >> level))
            start += 1 << level
    return nodes


def root_plan(tree_size: int) -> list[NodeId]:
    """The complete subtrees whose right fold is the root of tree_size (empty for 0)."""
    _check_size("tree size", tree_size)
    return _range_nodes(0, tree_size)


def inclusion_plan(index: int, tree_size: int) -> list[list[NodeId]]:
    """For each element of PATH(index, D[tree_size]), the nodes whose right fold it is."""
    _check_index(index, tree_size)
    # The RFC recursion, unrolled from the top; the proof lists elements from the bottom.
    elements = []
    lo, hi = 0, tree_size
    while hi - lo > 1:
        k = _split(hi - lo)
        if index < lo + k:
            elements.append(_range_nodes(lo + k, hi))
            hi = lo + k
        else:
            elements.append(_range_nodes(lo, lo + k))
            lo += k
    elements.reverse()
    return elements


def consistency_plan(old_size: int, new_size: int) -> list[list[NodeId]]:
    """For each element of PROOF(old_size, D[new_size]), the nodes whose right fold it is."""
    _check_sizes(old_size, new_size)
    # SUBPROOF(m, D[lo:hi], b) unrolled from the top, with m = old_size - lo; the
    # recursion ends where the old tree's part fills the subtree (m == hi - lo).
    elements = []
    lo, hi, whole_old_tree = 0, new_size, True
    while old_size != hi:
        k = _split(hi - lo)
        if old_size - lo <= k:
            elements.append(_range_nodes(lo + k, hi))
            hi = lo + k
        else:
            elements.append(_range_nodes(lo, lo + k))
            lo += k
            whole_old_tree = False
    if not whole_old_tree:
        # SUBPROOF's "m == n, b false" case: the old tree's last subtree, which the
        # verifier cannot take from the old root.
        elements.append(_range_nodes(lo, hi))
    elements.reverse()
    return elements


def plan_nodes(plan: Sequence[Sequence[NodeId]]) -> set[NodeId]:
    """Every node a plan reads: what a store fetches in one query."""
    return {node for element in plan for node in element}


def _stored(nodes: Mapping[NodeId, bytes], node: NodeId) -> bytes:
    h = nodes[node]
    if len(h) != HASH_SIZE:
        raise _wrong_size(f"stored node {node}", h)
    return h


def assemble(plan: Sequence[Sequence[NodeId]], nodes: Mapping[NodeId, bytes]) -> list[bytes]:
    """Fold each plan element's stored hashes into one proof hash.

    A node missing from `nodes` raises KeyError: the store is incomplete, which is a bug
    in the store, not a proof that failed.
    """
    proof = []
    for element in plan:
        h = _stored(nodes, element[-1])
        for node in reversed(element[:-1]):
            h = node_hash(_stored(nodes, node), h)
        proof.append(h)
    return proof


def root_from_nodes(tree_size: int, nodes: Mapping[NodeId, bytes]) -> bytes:
    plan = root_plan(tree_size)
    if not plan:
        return _EMPTY_ROOT
    return assemble([plan], nodes)[0]


class MemoryTree:
    """The stored-subtree API over a dict: the reference for a database store and for tests.

    Everything a store must do is here: append writes `nodes_completed_by_append`, reads
    only nodes it has written, and every read is a plan over stored nodes.
    """

    def __init__(self) -> None:
        self.size = 0
        self.nodes: dict[NodeId, bytes] = {}

    def append(self, leaf_hash: bytes) -> int:
        _check_hash("leaf hash", leaf_hash)
        index = self.size
        for node in nodes_completed_by_append(index):
            if node[0] == 0:
                self.nodes[node] = leaf_hash
            else:
                left, right = append_node_children(node)
                self.nodes[node] = node_hash(self.nodes[left], self.nodes[right])
        self.size += 1
        return index

    def _check_stored(self, tree_size: int) -> None:
        if tree_size > self.size:
            raise InvalidSizeError(f"tree size {tree_size} exceeds the {self.size} stored leaves")

    def root(self, tree_size: int) -> bytes:
        self._check_stored(tree_size)
        return root_from_nodes(tree_size, self.nodes)

    def inclusion_proof(self, index: int, tree_size: int) -> list[bytes]:
        self._check_stored(tree_size)
        return assemble(inclusion_plan(index, tree_size), self.nodes)

    def consistency_proof(self, old_size: int, new_size: int) -> list[bytes]:
        self._check_stored(new_size)
        return assemble(consistency_plan(old_size, new_size), self.nodes)
