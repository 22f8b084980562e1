"""The public tlog-tiles API: read by tlog-scales (not our code) and checked against the
proofs the API already serves; cache headers; what is not public."""

import pytest
from tlog_scales.reader import TilesReader

from exchange import runtime
from exchange.api.problems import problem_type
from exchange.log import nodes
from exchange.protocol.checkpoint import verify_checkpoint
from exchange.services import operator, transparency


def grow(app, clock, count: int, prefix: str = "org") -> None:
    """`count` log entries, one transaction (so one checkpoint) each."""
    with app.app_context():
        for number in range(count):
            with runtime.write() as session:
                operator.create_organisation(
                    session, clock(), f"{prefix}-{number}", "agency", f"Org {number}"
                )


class ClientBackend:
    """tlog-scales' backend protocol over the Flask test client, counting what it fetched."""

    def __init__(self, client):
        self.client = client
        self.fetched: list[str] = []

    def get(self, *path: str) -> bytes | None:
        answer = self.client.get("/" + "/".join(path))
        self.fetched.append("/".join(path))
        if answer.status_code != 200:
            return None
        if path == ("checkpoint",):
            return _without_extension_lines(answer.data)
        return answer.data


def _without_extension_lines(note: bytes) -> bytes:
    """tlog-scales 0.0.3 reads a checkpoint's signatures from its fifth line on, so it
    cannot parse the extension lines C2SP tlog-checkpoint allows (ours: the directory
    line). It checks no signature, so it gets the checkpoint without them: origin, size
    and root, the lines its tiles are read against, are unchanged."""
    body, signatures = note.split(b"\n\n", 1)
    return b"\n".join(body.split(b"\n")[:3]) + b"\n\n" + signatures


def test_an_empty_log_has_no_checkpoint(client):
    answer = client.get("/checkpoint")
    assert answer.status_code == 404
    assert answer.json["type"] == problem_type("not-found")


def test_tlog_scales_reads_our_tiles_and_gets_our_root_and_proofs(app, client, clock):
    grow(app, clock, 300)
    with app.app_context():
        origin = runtime.server_keys().log.name
        vkey = runtime.server_keys().log.verifier_key
    answer = client.get("/checkpoint")
    assert answer.status_code == 200
    assert answer.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert answer.headers["Cache-Control"] == "public, max-age=5"
    assert "Authorization" not in answer.request.headers
    checkpoint = verify_checkpoint(answer.text, [vkey], origin)
    assert checkpoint.size == 300
    assert answer.text == client.get("/v1/log/checkpoint").text  # no witness configured

    reader = TilesReader(ClientBackend(client))
    theirs = reader.get_checkpoint()
    assert (theirs.size, theirs.root_hash) == (300, checkpoint.root)
    assert reader.calculate_root_hash() == checkpoint.root
    with app.app_context(), runtime.read() as session:
        for old, new in [(1, 300), (100, 300), (256, 300), (255, 257)]:
            assert reader.get_consistency_proof(old, new).node_hashes == (
                transparency.consistency(session, old, new)
            )
        for index, size in [(0, 300), (299, 300), (255, 256), (17, 200)]:
            assert reader.get_inclusion_proof(index, size).node_hashes == (
                nodes.inclusion_proof(session, index, size)
            )


def test_tiles_cache_headers_and_the_tiles_a_tree_of_300_has(app, client, clock):
    grow(app, clock, 300)
    full = client.get("/tile/0/000")
    assert full.status_code == 200
    assert full.headers["Content-Type"] == "application/octet-stream"
    assert full.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert len(full.data) == 256 * 32
    with app.app_context(), runtime.read() as session:
        assert full.data[32 * 7 : 32 * 8] == transparency.leaf_hash(
            transparency.entries(session, 7, 8, 1)[0]
        )
        root_of_first_256 = nodes.level_hashes(session, 8, 0, 1)[0]
    partial = client.get("/tile/0/001.p/44")
    assert (partial.status_code, len(partial.data)) == (200, 44 * 32)
    assert partial.data[: 32 * 10] == client.get("/tile/0/001.p/10").data
    assert client.get("/tile/1/000.p/1").data == root_of_first_256


@pytest.mark.parametrize(
    ("path", "detail"),
    [
        ("/tile/0/001", "no tile/0/001 in the checkpointed tree"),
        ("/tile/0/001.p/45", "no tile/0/001.p/45 in the checkpointed tree"),
        ("/tile/1/000", "no tile/1/000 in the checkpointed tree"),
        ("/tile/01/000", "not a tile path: tile level '01' is not 0..63 without leading zeros"),
        ("/tile/0/1", "not a tile path: tile index is not x-prefixed 3-digit elements"),
        ("/tile/entries/000", "entry bundles are not public: read entries at /v1/log/entries"),
    ],
)
def test_tiles_beyond_the_tree_bad_paths_and_entry_bundles_are_404(
    app, client, clock, path, detail
):
    grow(app, clock, 300)
    answer = client.get(path)
    assert answer.status_code == 404
    assert answer.json["detail"] == detail
