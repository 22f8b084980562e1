"""A receipt: the recipient's signed acknowledgement that a record reached it intact.

Receipts are signed only (no record): this schema is the statement's whole meta.
"""

from schemas.common import Sha256B64Url, StrictSchema, UtcTimestamp, Uuid


class ReceiptSchema(StrictSchema):
    # The acknowledged handoff and the digest of the record as received: the sender can
    # then prove which exact record was delivered.
    handoff_id = Uuid(required=True)
    record_sha256 = Sha256B64Url(required=True)
    received_at = UtcTimestamp(required=True)
