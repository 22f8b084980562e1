"""The log head names the key its checkpoints are signed with.

An instance still running with a rotated-out log key must not sign one more checkpoint
after another instance rotated: the head now says which key signs, and a writer holding
another refuses (see exchange.log.batch.seal_pending).

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("log_head") as batch:
        batch.add_column(sa.Column("key_name", sa.String(length=200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("log_head") as batch:
        batch.drop_column("key_name")
