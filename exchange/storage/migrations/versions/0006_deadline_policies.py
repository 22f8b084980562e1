"""Deadline policies as data, and the policy each case was opened under.

Revision ID: 0006
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "deadline_policies",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("jurisdiction", sa.String(length=2), nullable=True),
        sa.Column("instrument", sa.String(length=200), nullable=True),
        sa.Column("article", sa.String(length=100), nullable=True),
        sa.Column("category", sa.String(length=32), nullable=True),
        sa.Column("priority", sa.String(length=16), nullable=True),
        sa.Column("ack_seconds", sa.Integer(), nullable=False),
        sa.Column("action_seconds", sa.Integer(), nullable=False),
        sa.Column("answer_seconds", sa.Integer(), nullable=False),
        sa.Column("retired", sa.Boolean(), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("log_index", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("name", "version"),
        sa.UniqueConstraint("log_index"),
    )
    with op.batch_alter_table("cases") as batch:
        batch.add_column(sa.Column("policy_name", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("policy_version", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("answer_within_seconds", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        batch.drop_column("answer_within_seconds")
        batch.drop_column("policy_version")
        batch.drop_column("policy_name")
    op.drop_table("deadline_policies")
