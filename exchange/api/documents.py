"""Request bodies loaded straight into the protocol's typed objects, validated once."""

from typing import Any

from marshmallow import post_load

from exchange.protocol.envelope import Envelope
from schemas.envelope import EnvelopeSchema


class EnvelopeDocument(EnvelopeSchema):
    """An envelope in a request body: the wire schema's checks, then an `Envelope`."""

    @post_load
    def _typed(self, data: dict[str, Any], **_kwargs: object) -> Envelope:
        return Envelope(data["statement"], data["jwe"])
