"""exchange.protocol.merkle against RFC 6962/9162 reference vectors and the recursive
definitions."""

import hashlib
import math
from collections.abc import Iterator, Mapping

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from exchange.protocol import merkle
from exchange.protocol.merkle import (
    HashSizeError,
    IndexOutOfRangeError,
    InvalidSizeError,
    MemoryTree,
    NodeId,
    ProofError,
    ProofLengthError,
    RootMismatchError,
    append_node_children,
    assemble,
    consistency_plan,
    consistency_proof,
    inclusion_plan,
    inclusion_proof,
    leaf_hash,
    node_hash,
    nodes_completed_by_append,
    plan_nodes,
    root,
    root_from_nodes,
    root_plan,
    verify_consistency,
    verify_inclusion,
)
from exchange.protocol.verification import VerificationError

h = bytes.fromhex

# The reference tree of the Certificate Transparency implementations, as in
# transparency-dev/merkle proof/verify_test.go (leaf numbers there are 1-based).
LEAVES = [h(x) for x in ("", "00", "10", "2021", "3031", "40414243", "5051525354555657",
                         "606162636465666768696a6b6c6d6e6f")]  # fmt: skip
LEAF_HASHES = [leaf_hash(leaf) for leaf in LEAVES]
ROOTS = [
    h("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"),
    h("fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"),
    h("aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77"),
    h("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
    h("4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4"),
    h("76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef"),
    h("ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c"),
    h("5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"),
]
EMPTY_ROOT = h("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
SOME_HASH = h("abacaba000000000000000000000000000000000000000000060061e00123456")

# (index, tree size, proof)
INCLUSION_VECTORS = [
    (0, 1, []),
    (0, 8, [h("96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"),
            h("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
            h("6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4")]),
    (5, 8, [h("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"),
            h("ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0"),
            h("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7")]),
    (2, 3, [h("fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125")]),
    (1, 5, [h("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"),
            h("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
            h("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b")]),
]  # fmt: skip

# (old size, new size, proof)
CONSISTENCY_VECTORS = [
    (1, 1, []),
    (1, 8, [h("96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"),
            h("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
            h("6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4")]),
    (6, 8, [h("0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a"),
            h("ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0"),
            h("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7")]),
    (2, 5, [h("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
            h("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b")]),
    (6, 7, [h("0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a"),
            h("b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f"),
            h("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7")]),
]  # fmt: skip


def reference_tree() -> MemoryTree:
    tree = MemoryTree()
    for leaf in LEAF_HASHES:
        tree.append(leaf)
    return tree


def flip(data: bytes, bit: int) -> bytes:
    flipped = bytearray(data)
    flipped[bit // 8] ^= 1 << (bit % 8)
    return bytes(flipped)


# --- reference vectors -------------------------------------------------------------------


def test_hashes_are_domain_separated_sha256() -> None:
    assert leaf_hash(b"") == h("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d")
    assert node_hash(LEAF_HASHES[0], LEAF_HASHES[1]) == ROOTS[1]
    assert root([]) == EMPTY_ROOT == hashlib.sha256(b"").digest()
    assert MemoryTree().root(0) == EMPTY_ROOT


@pytest.mark.parametrize("size", range(1, 9))
def test_reference_roots(size: int) -> None:
    assert root(LEAF_HASHES[:size]) == ROOTS[size - 1]
    assert reference_tree().root(size) == ROOTS[size - 1]


@pytest.mark.parametrize(("index", "size", "proof"), INCLUSION_VECTORS)
def test_reference_inclusion_proofs(index: int, size: int, proof: list[bytes]) -> None:
    assert inclusion_proof(LEAF_HASHES, index, size) == proof
    assert reference_tree().inclusion_proof(index, size) == proof
    verify_inclusion(LEAF_HASHES[index], index, size, proof, ROOTS[size - 1])


@pytest.mark.parametrize(("old", "new", "proof"), CONSISTENCY_VECTORS)
def test_reference_consistency_proofs(old: int, new: int, proof: list[bytes]) -> None:
    assert consistency_proof(LEAF_HASHES, old, new) == proof
    assert reference_tree().consistency_proof(old, new) == proof
    verify_consistency(old, new, ROOTS[old - 1], ROOTS[new - 1], proof)


def test_every_reference_proof_verifies() -> None:
    for new in range(1, 9):
        for index in range(new):
            proof = inclusion_proof(LEAF_HASHES, index, new)
            verify_inclusion(LEAF_HASHES[index], index, new, proof, ROOTS[new - 1])
        for old in range(1, new + 1):
            proof = consistency_proof(LEAF_HASHES, old, new)
            verify_consistency(old, new, ROOTS[old - 1], ROOTS[new - 1], proof)


@pytest.mark.parametrize(("index", "size", "proof"), INCLUSION_VECTORS[1:])
def test_reference_inclusion_probes_refused(index: int, size: int, proof: list[bytes]) -> None:
    """The corruptions transparency-dev/merkle tries on each vector."""
    leaf, good_root = LEAF_HASHES[index], ROOTS[size - 1]
    probes: list[tuple[int, int, bytes, bytes, list[bytes], type[ProofError]]] = [
        (index - 1, size, leaf, good_root, proof, ProofError),
        (index + 1, size, leaf, good_root, proof, ProofError),
        (index ^ 2, size, leaf, good_root, proof, ProofError),
        (index, size * 2, leaf, good_root, proof, ProofError),
        (index, size // 2, leaf, good_root, proof, ProofError),
        (index, size, b"WrongLeaf", good_root, proof, HashSizeError),
        (index, size, leaf, EMPTY_ROOT, proof, RootMismatchError),
        (index, size, leaf, SOME_HASH, proof, RootMismatchError),
        (index, size, leaf, good_root, [*proof, b""], HashSizeError),
        (index, size, leaf, good_root, [*proof, good_root], ProofLengthError),
        (index, size, leaf, good_root, [b"", *proof], HashSizeError),
        (index, size, leaf, good_root, [good_root, *proof], ProofLengthError),
        (index, size, leaf, good_root, proof[:-1], ProofLengthError),
        (index, size, leaf, good_root, [proof[0], SOME_HASH, *proof[1:]], ProofLengthError),
    ]
    for probe_index, probe_size, probe_leaf, probe_root, probe_proof, error in probes:
        with pytest.raises(error):
            verify_inclusion(probe_leaf, probe_index, probe_size, probe_proof, probe_root)


@pytest.mark.parametrize(("old", "new", "proof"), CONSISTENCY_VECTORS[1:])
def test_reference_consistency_probes_refused(old: int, new: int, proof: list[bytes]) -> None:
    r1, r2 = ROOTS[old - 1], ROOTS[new - 1]
    probes: list[tuple[int, int, bytes, bytes, list[bytes], type[ProofError]]] = [
        (old - 1, new, r1, r2, proof, ProofError),
        (old + 1, new, r1, r2, proof, ProofError),
        (old ^ 2, new, r1, r2, proof, ProofError),
        (old, new * 2, r1, r2, proof, ProofError),
        (old, new // 2, r1, r2, proof, ProofError),
        (old, new, b"WrongRoot", r2, proof, HashSizeError),
        (old, new, r1, b"WrongRoot", proof, HashSizeError),
        (old, new, r2, r1, proof, RootMismatchError),
        (old, new, r1, r2, [], ProofLengthError),
        (old, new, r1, r2, [*proof, b""], HashSizeError),
        (old, new, r1, r2, [*proof, r1], ProofLengthError),
        (old, new, r1, r2, [*proof, r2], ProofLengthError),
        (old, new, r1, r2, [b"", *proof], HashSizeError),
        (old, new, r1, r2, [r1, *proof], ProofLengthError),
        (old, new, r1, r2, [r2, *proof], ProofLengthError),
        (old, new, r1, r2, [proof[0], *proof], ProofLengthError),
        (old, new, r1, r2, proof[:-1], ProofLengthError),
    ]
    for probe_old, probe_new, probe_r1, probe_r2, probe_proof, error in probes:
        with pytest.raises(error):
            verify_consistency(probe_old, probe_new, probe_r1, probe_r2, probe_proof)


def test_every_bit_of_reference_proofs_matters() -> None:
    for index, size, proof in INCLUSION_VECTORS:
        for i in range(len(proof)):
            for bit in range(256):
                bad = [*proof[:i], flip(proof[i], bit), *proof[i + 1 :]]
                with pytest.raises(RootMismatchError):
                    verify_inclusion(LEAF_HASHES[index], index, size, bad, ROOTS[size - 1])
    for old, new, proof in CONSISTENCY_VECTORS:
        for i in range(len(proof)):
            for bit in range(256):
                bad = [*proof[:i], flip(proof[i], bit), *proof[i + 1 :]]
                with pytest.raises(RootMismatchError):
                    verify_consistency(old, new, ROOTS[old - 1], ROOTS[new - 1], bad)


def test_consistency_edge_cases() -> None:
    r1, r2 = ROOTS[0], ROOTS[1]
    verify_consistency(1, 1, r1, r1, [])
    with pytest.raises(RootMismatchError, match="same tree size"):
        verify_consistency(1, 1, r1, r2, [])
    with pytest.raises(ProofLengthError, match="equal sizes"):
        verify_consistency(1, 1, r1, r1, [EMPTY_ROOT])
    with pytest.raises(InvalidSizeError, match="old size 0"):
        verify_consistency(0, 0, EMPTY_ROOT, EMPTY_ROOT, [])
    with pytest.raises(InvalidSizeError, match="old size 0"):
        verify_consistency(0, 1, EMPTY_ROOT, r1, [])
    with pytest.raises(InvalidSizeError, match="larger than new size"):
        verify_consistency(2, 1, r2, r1, [])
    with pytest.raises(InvalidSizeError):
        verify_consistency(-1, 1, r1, r1, [])
    with pytest.raises(InvalidSizeError):
        verify_consistency(1, 2**64, r1, r1, [r1] * 64)
    with pytest.raises(ProofLengthError, match="has 0 hashes, expected 1"):
        verify_consistency(1, 2, r1, r2, [])


def test_inclusion_edge_cases() -> None:
    leaf = LEAF_HASHES[0]
    verify_inclusion(leaf, 0, 1, [], leaf)
    with pytest.raises(RootMismatchError):
        verify_inclusion(leaf, 0, 1, [], SOME_HASH)
    for index, size in [(0, 0), (1, 0), (1, 1), (2, 1), (-1, 1)]:
        with pytest.raises(IndexOutOfRangeError, match=f"leaf index {index} is outside"):
            verify_inclusion(leaf, index, size, [], leaf)
    with pytest.raises(InvalidSizeError):
        verify_inclusion(leaf, 0, -1, [], leaf)
    with pytest.raises(HashSizeError, match="leaf hash is 0 bytes"):
        verify_inclusion(b"", 0, 1, [], leaf)
    with pytest.raises(HashSizeError, match="root is 0 bytes"):
        verify_inclusion(leaf, 0, 1, [], b"")


@pytest.mark.parametrize("length", [31, 33])
def test_hashes_of_wrong_size_refused(length: int) -> None:
    index, size, proof = INCLUSION_VECTORS[2]
    good_root, leaf, bad = ROOTS[size - 1], LEAF_HASHES[index], b"\x00" * length
    with pytest.raises(HashSizeError, match=f"leaf hash is {length} bytes, expected 32"):
        verify_inclusion(bad, index, size, proof, good_root)
    with pytest.raises(HashSizeError, match=f"root is {length} bytes"):
        verify_inclusion(leaf, index, size, proof, bad)
    with pytest.raises(HashSizeError, match=f"proof element 1 is {length} bytes"):
        verify_inclusion(leaf, index, size, [proof[0], bad, proof[2]], good_root)
    old, new, cproof = CONSISTENCY_VECTORS[2]
    with pytest.raises(HashSizeError, match="old root"):
        verify_consistency(old, new, bad, ROOTS[new - 1], cproof)
    with pytest.raises(HashSizeError, match="new root"):
        verify_consistency(old, new, ROOTS[old - 1], bad, cproof)
    with pytest.raises(HashSizeError, match="proof element 2"):
        verify_consistency(old, new, ROOTS[old - 1], ROOTS[new - 1], [*cproof[:2], bad])
    with pytest.raises(HashSizeError, match="leaf hash 3"):
        root([*LEAF_HASHES[:3], bad])
    with pytest.raises(HashSizeError):
        MemoryTree().append(bad)
    with pytest.raises(HashSizeError, match=r"stored node \(0, 0\)"):
        assemble([[(0, 0)]], {(0, 0): bad})


def test_errors_are_verification_errors_with_one_line_messages() -> None:
    for error in (ProofLengthError, IndexOutOfRangeError, HashSizeError, InvalidSizeError,
                  RootMismatchError):  # fmt: skip
        assert issubclass(error, ProofError)
    assert issubclass(ProofError, VerificationError)
    with pytest.raises(RootMismatchError) as caught:
        verify_inclusion(LEAF_HASHES[0], 0, 8, INCLUSION_VECTORS[1][2], SOME_HASH)
    assert "\n" not in str(caught.value)
    assert SOME_HASH.hex() in str(caught.value)


def test_reference_functions_check_their_arguments() -> None:
    with pytest.raises(InvalidSizeError, match="exceeds the 8 leaves"):
        inclusion_proof(LEAF_HASHES, 0, 9)
    with pytest.raises(IndexOutOfRangeError):
        inclusion_proof(LEAF_HASHES, 8, 8)
    with pytest.raises(InvalidSizeError):
        consistency_proof(LEAF_HASHES, 0, 8)
    with pytest.raises(InvalidSizeError):
        consistency_proof(LEAF_HASHES, 5, 4)
    with pytest.raises(InvalidSizeError, match="exceeds the 8 stored leaves"):
        reference_tree().inclusion_proof(0, 9)


# --- the stored-subtree API --------------------------------------------------------------


def test_node_ids() -> None:
    assert nodes_completed_by_append(0) == [(0, 0)]
    assert nodes_completed_by_append(1) == [(0, 1), (1, 0)]
    assert nodes_completed_by_append(6) == [(0, 6)]
    assert nodes_completed_by_append(7) == [(0, 7), (1, 3), (2, 1), (3, 0)]
    assert append_node_children((2, 1)) == ((1, 2), (1, 3))
    assert root_plan(0) == []
    assert root_plan(7) == [(2, 0), (1, 2), (0, 6)]
    assert root_plan(8) == [(3, 0)]
    assert inclusion_plan(5, 8) == [[(0, 4)], [(1, 3)], [(2, 0)]]
    # An element that is not a complete subtree is the fold of several: here leaves 4..6.
    assert inclusion_plan(0, 7) == [[(0, 1)], [(1, 1)], [(1, 2), (0, 6)]]
    assert consistency_plan(6, 7) == [[(1, 2)], [(0, 6)], [(2, 0)]]
    assert consistency_plan(4, 4) == []
    assert plan_nodes(inclusion_plan(0, 7)) == {(0, 1), (1, 1), (1, 2), (0, 6)}
    for bad in (-1, merkle.MAX_TREE_SIZE):
        with pytest.raises(IndexOutOfRangeError):
            nodes_completed_by_append(bad)
    for node in ((0, 3), (1, -1)):
        with pytest.raises(InvalidSizeError):
            append_node_children(node)
    with pytest.raises(InvalidSizeError):
        root_plan(-1)
    with pytest.raises(IndexOutOfRangeError):
        inclusion_plan(7, 7)
    with pytest.raises(InvalidSizeError):
        consistency_plan(0, 7)
    with pytest.raises(InvalidSizeError):
        consistency_plan(8, 7)


def test_append_writes_only_new_nodes_from_stored_children() -> None:
    tree = MemoryTree()
    for i, leaf in enumerate(LEAF_HASHES):
        before = dict(tree.nodes)
        assert tree.append(leaf) == i
        written = set(tree.nodes) - set(before)
        assert written == set(nodes_completed_by_append(i))
        assert all(tree.nodes[node] == before[node] for node in before)
    assert tree.nodes[(3, 0)] == ROOTS[7]
    assert root_from_nodes(8, tree.nodes) == ROOTS[7]


N_LEAVES = 3000
BIG_LEAVES = [leaf_hash(i.to_bytes(4, "big")) for i in range(N_LEAVES)]
BIG_TREE = MemoryTree()
for _leaf in BIG_LEAVES:
    BIG_TREE.append(_leaf)


def node_start(node: NodeId) -> int:
    return node[1] << node[0]


def inclusion_shape(index: int, size: int) -> list[bool]:
    """Which proof elements are left siblings: all the verifier learns from index and size."""
    return [node_start(element[0]) < index for element in inclusion_plan(index, size)]


def consistency_shape(old: int, new: int) -> list[bool]:
    return [node_start(element[0]) < old for element in consistency_plan(old, new)]


@st.composite
def index_and_size(draw: st.DrawFn) -> tuple[int, int]:
    size = draw(st.integers(1, N_LEAVES))
    return draw(st.integers(0, size - 1)), size


@st.composite
def two_sizes(draw: st.DrawFn) -> tuple[int, int]:
    new = draw(st.integers(2, N_LEAVES))
    return draw(st.integers(1, new - 1)), new


@settings(max_examples=300, deadline=None)
@given(index_and_size(), st.integers(0, 255))
def test_inclusion_plans_match_the_rfc_recursion(case: tuple[int, int], bit: int) -> None:
    index, size = case
    proof = BIG_TREE.inclusion_proof(index, size)
    assert proof == inclusion_proof(BIG_LEAVES, index, size)
    good_root = BIG_TREE.root(size)
    assert good_root == root(BIG_LEAVES[:size])
    leaf = BIG_LEAVES[index]
    verify_inclusion(leaf, index, size, proof, good_root)

    for i in range(len(proof)):
        bad = [*proof[:i], flip(proof[i], bit), *proof[i + 1 :]]
        with pytest.raises(RootMismatchError):
            verify_inclusion(leaf, index, size, bad, good_root)
    with pytest.raises(RootMismatchError):
        verify_inclusion(leaf, index, size, proof, flip(good_root, bit))
    with pytest.raises(RootMismatchError):
        verify_inclusion(flip(leaf, bit), index, size, proof, good_root)
    for bad in ([*proof, good_root], [good_root, *proof], proof[:-1] if proof else [leaf]):
        with pytest.raises(ProofLengthError):
            verify_inclusion(leaf, index, size, bad, good_root)


@settings(max_examples=300, deadline=None)
@given(index_and_size(), st.integers(0, 12))
def test_changing_index_or_size_of_an_inclusion_proof(case: tuple[int, int], bit: int) -> None:
    index, size = case
    proof = BIG_TREE.inclusion_proof(index, size)
    good_root, leaf = BIG_TREE.root(size), BIG_LEAVES[index]

    other = index ^ 1 << bit
    if other >= size:
        expected: type[ProofError] = IndexOutOfRangeError
    elif len(inclusion_plan(other, size)) != len(proof):
        expected = ProofLengthError
    else:
        expected = RootMismatchError
    with pytest.raises(expected):
        verify_inclusion(leaf, other, size, proof, good_root)

    # The root commits to the leaves, not to the size: a claimed size with the same
    # proof shape hashes exactly the same values and must verify. The signed checkpoint
    # is what binds a size to a root.
    other = size ^ 1 << bit
    if index >= other:
        with pytest.raises(IndexOutOfRangeError):
            verify_inclusion(leaf, index, other, proof, good_root)
    elif inclusion_shape(index, other) == inclusion_shape(index, size):
        verify_inclusion(leaf, index, other, proof, good_root)
    else:
        with pytest.raises((ProofLengthError, RootMismatchError)):
            verify_inclusion(leaf, index, other, proof, good_root)


@settings(max_examples=300, deadline=None)
@given(two_sizes(), st.integers(0, 255))
def test_consistency_plans_match_the_rfc_recursion(sizes: tuple[int, int], bit: int) -> None:
    old, new = sizes
    proof = BIG_TREE.consistency_proof(old, new)
    assert proof == consistency_proof(BIG_LEAVES, old, new)
    r1, r2 = BIG_TREE.root(old), BIG_TREE.root(new)
    verify_consistency(old, new, r1, r2, proof)

    for i in range(len(proof)):
        bad = [*proof[:i], flip(proof[i], bit), *proof[i + 1 :]]
        with pytest.raises(RootMismatchError):
            verify_consistency(old, new, r1, r2, bad)
    with pytest.raises(RootMismatchError):
        verify_consistency(old, new, flip(r1, bit), r2, proof)
    with pytest.raises(RootMismatchError):
        verify_consistency(old, new, r1, flip(r2, bit), proof)
    for bad in ([*proof, r1], [r1, *proof], proof[:-1]):
        with pytest.raises(ProofLengthError):
            verify_consistency(old, new, r1, r2, bad)


@settings(max_examples=300, deadline=None)
@given(two_sizes(), st.integers(0, 12))
def test_changing_sizes_of_a_consistency_proof(sizes: tuple[int, int], bit: int) -> None:
    old, new = sizes
    proof = BIG_TREE.consistency_proof(old, new)
    r1, r2 = BIG_TREE.root(old), BIG_TREE.root(new)

    other = old ^ 1 << bit
    if other == 0 or other > new:
        expected: type[ProofError] = InvalidSizeError
    elif other == new or len(consistency_plan(other, new)) != len(proof):
        expected = ProofLengthError
    else:
        expected = RootMismatchError
    with pytest.raises(expected):
        verify_consistency(other, new, r1, r2, proof)

    # As for inclusion, the new root alone does not pin the new size.
    other = new ^ 1 << bit
    if other < old:
        with pytest.raises(InvalidSizeError):
            verify_consistency(old, other, r1, r2, proof)
    elif other > old and consistency_shape(old, other) == consistency_shape(old, new):
        verify_consistency(old, other, r1, r2, proof)
    else:
        with pytest.raises((ProofLengthError, RootMismatchError)):
            verify_consistency(old, other, r1, r2, proof)


def test_every_prefix_root_from_stored_nodes() -> None:
    expected = EMPTY_ROOT
    for size in range(0, 600):
        if size:
            expected = root(BIG_LEAVES[:size])
        assert BIG_TREE.root(size) == expected


# --- O(log n) ------------------------------------------------------------------------------


class CountingNodes(Mapping[NodeId, bytes]):
    """Any node of an imaginary huge tree, counting reads; hashes need not be consistent."""

    def __init__(self) -> None:
        self.reads = 0

    def __getitem__(self, node: NodeId) -> bytes:
        self.reads += 1
        return hashlib.sha256(repr(node).encode()).digest()

    def __iter__(self) -> Iterator[NodeId]:
        raise NotImplementedError

    def __len__(self) -> int:
        raise NotImplementedError


@pytest.mark.parametrize("size", [10**6, 2**40 + 12345, merkle.MAX_TREE_SIZE])
def test_plans_touch_logarithmically_many_nodes(size: int) -> None:
    bound = 2 * math.log2(size)
    picks = [0, 1, size // 3, size // 2, size - 2, size - 1, *range(7, size, size // 97)]
    for pick in picks:
        nodes = CountingNodes()
        proof = assemble(inclusion_plan(pick, size), nodes)
        assert nodes.reads == len(plan_nodes(inclusion_plan(pick, size))) <= bound
        assert len(proof) <= math.log2(size) + 1
        nodes = CountingNodes()
        assemble(consistency_plan(pick + 1, size), nodes)
        assert nodes.reads <= bound
        assert len(nodes_completed_by_append(pick)) <= math.log2(size) + 1
    nodes = CountingNodes()
    root_from_nodes(size, nodes)
    assert nodes.reads <= math.log2(size) + 1
