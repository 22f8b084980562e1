"""C2SP tlog-tiles paths, against the spec's examples and tlog-scales' encoder."""

import pytest
from tlog_scales import tiles as scales

from exchange.protocol.tiles import Tile, TilePathError, parse_tile_path, tiles_for_size


@pytest.mark.parametrize(
    ("tile", "path"),
    [
        (Tile(0, 0), "tile/0/000"),
        (Tile(0, 1234067), "tile/0/x001/x234/067"),  # the spec's example
        (Tile(1, 1000, 17), "tile/1/x001/000.p/17"),
        (Tile(2, 0, 1), "tile/2/000.p/1"),
    ],
)
def test_paths_match_the_spec_and_tlog_scales(tile, path):
    assert tile.path() == path
    partial = 0 if tile.width == 256 else tile.width
    assert "/".join(scales.tile_path(tile.level, tile.index, partial)) == path
    level, rest = path.removeprefix("tile/").split("/", 1)
    assert parse_tile_path(level, rest) == tile


@pytest.mark.parametrize(
    ("level", "rest", "message"),
    [
        ("01", "000", "tile level '01' is not 0..63"),
        ("64", "000", "tile level '64' is not 0..63"),
        ("0", "1", "x-prefixed 3-digit elements"),
        ("0", "001/002", "x-prefixed 3-digit elements"),
        ("0", "x000/001", "leading x000 element"),
        ("0", "000.p/256", "partial width '256' is not 1..255"),
        ("0", "000.p/0", "partial width '0' is not 1..255"),
        ("0", "000.p/07", "partial width '07' is not 1..255"),
    ],
)
def test_malformed_paths(level, rest, message):
    with pytest.raises(TilePathError, match=message):
        parse_tile_path(level, rest)


def test_the_spec_s_tree_of_70000():
    tiles = tiles_for_size(70000)
    assert len([t for t in tiles if t.level == 0 and t.width == 256]) == 273
    assert [t for t in tiles if t.width != 256] == [
        Tile(0, 273, 112),
        Tile(1, 1, 17),
        Tile(2, 0, 1),
    ]
    assert Tile(1, 0) in tiles
    assert tiles_for_size(256) == [Tile(0, 0), Tile(1, 0, 1)]
    assert tiles_for_size(0) == []


def test_fits():
    assert Tile(0, 0, 5).fits(5)
    assert not Tile(0, 0, 6).fits(5)
    assert not Tile(0, 0).fits(255)
    assert Tile(1, 0, 1).fits(256)
    assert not Tile(1, 0, 1).fits(255)
