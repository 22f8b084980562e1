"""C2SP tlog-tiles (https://c2sp.org/tlog-tiles): tile paths and which tree nodes a tile holds.

Tile L/N holds the hashes of the complete subtrees of 256**L leaves numbered N*256 ..
N*256+W-1, which are the RFC 9162 nodes at height 8L. In the node numbering of
`merkle.nodes_completed_by_append`, that is level 8L, indices N*256 + i.
"""

import re
from dataclasses import dataclass

from exchange.protocol.merkle import MAX_TREE_SIZE
from exchange.protocol.verification import VerificationError

TILE_HEIGHT = 8
TILE_WIDTH = 1 << TILE_HEIGHT
MAX_LEVEL = 63
_LEVEL = re.compile(r"0|[1-9][0-9]?")
_ELEMENT = re.compile(r"[0-9]{3}")
_WIDTH = re.compile(r"[1-9][0-9]{0,2}")


class TilePathError(VerificationError):
    """A tile path breaks the tlog-tiles syntax."""


@dataclass(frozen=True)
class Tile:
    level: int
    index: int
    width: int = TILE_WIDTH  # < 256 for a partial tile

    @property
    def node_level(self) -> int:
        return self.level * TILE_HEIGHT

    @property
    def first_node(self) -> int:
        return self.index * TILE_WIDTH

    def path(self) -> str:
        """ "tile/<L>/<N>[.p/<W>]" with N in x-prefixed 3-digit elements."""
        elements = []
        n = self.index
        while True:
            elements.append(f"{n % 1000:03d}")
            n //= 1000
            if n == 0:
                break
        encoded = "/".join(["x" + e for e in reversed(elements[1:])] + [elements[0]])
        suffix = "" if self.width == TILE_WIDTH else f".p/{self.width}"
        return f"tile/{self.level}/{encoded}{suffix}"

    def fits(self, tree_size: int) -> bool:
        """True if a tree of tree_size has every hash of this tile (as full or as partial)."""
        nodes_at_level = tree_size >> self.node_level if self.node_level < 64 else 0
        return (self.first_node + self.width) <= nodes_at_level


def parse_tile_path(level: str, index: str) -> Tile:
    """The tile named by "<L>" and "<N>[.p/<W>]" (what follows tile/<L>/)."""
    if not _LEVEL.fullmatch(level) or int(level) > MAX_LEVEL:
        raise TilePathError(f"tile level {level[:8]!r} is not 0..63 without leading zeros")
    width = TILE_WIDTH
    elements = index.split("/")
    if len(elements) >= 2 and elements[-2].endswith(".p"):
        if not _WIDTH.fullmatch(elements[-1]) or int(elements[-1]) >= TILE_WIDTH:
            raise TilePathError(f"partial width {elements[-1][:8]!r} is not 1..255")
        width = int(elements[-1])
        elements = [*elements[:-2], elements[-2][:-2]]
    value = 0
    for position, element in enumerate(elements):
        last = position == len(elements) - 1
        digits = element if last else element.removeprefix("x")
        if (not last and not element.startswith("x")) or not _ELEMENT.fullmatch(digits):
            raise TilePathError("tile index is not x-prefixed 3-digit elements")
        value = value * 1000 + int(digits)
    if len(elements) > 1 and elements[0] == "x000":
        raise TilePathError("tile index has a leading x000 element")
    if value * TILE_WIDTH >= MAX_TREE_SIZE:
        raise TilePathError("tile index is beyond any tree")
    return Tile(int(level), value, width)


def tiles_for_size(tree_size: int) -> list[Tile]:
    """Every tile (full and the partial ones) that a tree of tree_size has, lowest first."""
    tiles: list[Tile] = []
    level = 0
    while level <= MAX_LEVEL:
        nodes = tree_size >> (level * TILE_HEIGHT) if level * TILE_HEIGHT < 64 else 0
        if nodes == 0:
            break
        full, partial = divmod(nodes, TILE_WIDTH)
        tiles.extend(Tile(level, n) for n in range(full))
        if partial:
            tiles.append(Tile(level, full, partial))
        level += 1
    return tiles
