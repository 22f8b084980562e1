"""Witness cosignatures of the log's checkpoints (C2SP tlog-cosignature/v1 lines).

One row per checkpoint and witness: the line the witness answered, verified against the
witness's key before it is stored. A cosignature proves itself, so the table is not
append-only like the log: losing a row loses a proof, it cannot forge one. No foreign key
to `checkpoints`: it would put a second guard, with another error, in front of the log
tables' own append-only triggers (TRUNCATE).

Revision ID: 0004
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "cosignatures",
        sa.Column("size", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("witness", sa.String(length=200), nullable=False),
        sa.Column("line", sa.Text(), nullable=False),
        sa.Column("timestamp", sa.BigInteger(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("size", "witness", name=op.f("pk_cosignatures")),
    )
    op.create_index(op.f("ix_cosignatures_witness"), "cosignatures", ["witness"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_cosignatures_witness"), table_name="cosignatures")
    op.drop_table("cosignatures")
