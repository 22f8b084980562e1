"""The public, cacheable read API of the log: C2SP tlog-tiles at the server's root.

    GET /checkpoint                 the newest witnessed checkpoint and its cosignatures
    GET /tile/<L>/<N>[.p/<W>]       hash tiles (hashes only: nothing about any case)

No authentication: sizes and hashes reveal nothing of a case (docs/threat-model.md). Entry
bundles (`/tile/entries/...`) are not served here: entries name organisations and case
ids, so they stay behind authentication at /v1/log/entries.
"""

from flask import Response

from exchange import runtime
from exchange.api.blueprint import Blueprint
from exchange.errors import NotFoundError
from exchange.protocol.tiles import TilePathError, parse_tile_path
from exchange.services import transparency, witnessing

blp = Blueprint(
    "tiles", __name__, url_prefix="", description="The public tree (C2SP tlog-tiles), no token"
)

# The checkpoint changes: caches may keep it only briefly (the spec's "a few seconds").
CHECKPOINT_CACHE = "public, max-age=5"
# A tile's bytes never change once served (full, or partial of a given width).
TILE_CACHE = "public, max-age=31536000, immutable"


@blp.route("/checkpoint", methods=["GET"])
@blp.response(200, content_type="text/plain")
@blp.problems(404)
def checkpoint() -> Response:
    """The newest checkpoint any witness cosigned, with every cosignature it got (else the
    newest checkpoint): a C2SP signed note whose extra lines are tlog-cosignature/v1."""
    with runtime.read() as session:
        cosigned = witnessing.cosigned_checkpoint(session)
    if cosigned is None:
        raise NotFoundError("the log is empty: no checkpoint yet")
    response = Response(cosigned.note, content_type="text/plain; charset=utf-8")
    response.headers["Cache-Control"] = CHECKPOINT_CACHE
    return response


@blp.route(
    "/tile/<level>/<path:index>",
    methods=["GET"],
    parameters=[
        {
            "in": "path",
            "name": "level",
            "required": True,
            "schema": {"type": "string", "pattern": "^(entries|0|[1-9][0-9]?)$"},
        },
        {
            "in": "path",
            "name": "index",
            "required": True,
            # Its exact syntax (x-prefixed 3-digit elements, then .p/<W>) spans path
            # segments, which OpenAPI path parameters cannot express; the route checks it.
            "description": "N as x001/x234/067, then .p/<W> for a partial tile",
            "schema": {"type": "string", "minLength": 3},
        },
    ],
)
@blp.response(200, content_type="application/octet-stream")
@blp.problems(404)
def tile(level: str, index: str) -> Response:
    """A hash tile: `index` is N in x-prefixed 3-digit elements, then `.p/<W>` if partial."""
    if level == "entries":
        raise NotFoundError("entry bundles are not public: read entries at /v1/log/entries")
    try:
        wanted = parse_tile_path(level, index)
    except TilePathError as exc:
        raise NotFoundError(f"not a tile path: {exc}") from None
    with runtime.read() as session:
        data = transparency.tile_hashes(session, wanted)
    response = Response(data, content_type="application/octet-stream")
    response.headers["Cache-Control"] = TILE_CACHE
    return response
