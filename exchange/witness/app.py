"""The witness over HTTP: `POST /add-checkpoint` (C2SP tlog-witness) and `GET /vkey`."""

import logging
import time
from collections.abc import Callable, Mapping, Sequence

from flask import Flask, Response, request

from exchange.protocol.witness_requests import MAX_REQUEST_BYTES
from exchange.witness.cosigning import RefusedError, WitnessIdentity, add_checkpoint
from exchange.witness.state import WitnessState

_log = logging.getLogger(__name__)


def create_witness_app(
    identity: WitnessIdentity,
    logs: Mapping[str, Sequence[str]],
    state: WitnessState,
    clock: Callable[[], int] = lambda: int(time.time()),
) -> Flask:
    app = Flask("exchange.witness")
    app.config["MAX_CONTENT_LENGTH"] = MAX_REQUEST_BYTES

    @app.post("/add-checkpoint")
    def add() -> Response:
        try:
            line = add_checkpoint(request.get_data(), identity, logs, state, clock)
        except RefusedError as refusal:
            _log.info("refused %d: %s", refusal.status, refusal.reason)
            return Response(refusal.body, refusal.status, content_type=refusal.content_type)
        return Response(line, 200, content_type="text/plain; charset=utf-8")

    @app.get("/vkey")
    def vkey() -> Response:
        return Response(identity.vkey + "\n", 200, content_type="text/plain; charset=utf-8")

    return app
