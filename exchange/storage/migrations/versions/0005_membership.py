"""Organisations sign their own membership: approved and lead officials, replay guard.

Officials that exist before this revision are neither approved nor leads: the log holds
no lead's approval for them, so a server that counted them as recipients would disagree
with every auditor replaying the log. The operator bootstraps each organisation's first
lead (`flask admin official invite … --bootstrap-lead`), who approves the others.

Revision ID: 0005
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("officials") as batch:
        batch.add_column(
            sa.Column("approved", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch.add_column(sa.Column("lead", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.create_table(
        "lead_replacements",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("org_id", sa.String(length=63), nullable=False),
        sa.Column("official_id", sa.String(length=63), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("effective_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(
            ["official_id"],
            ["officials.id"],
            name=op.f("fk_lead_replacements_official_id_officials"),
        ),
        sa.ForeignKeyConstraint(
            ["org_id"], ["organisations.id"], name=op.f("fk_lead_replacements_org_id_organisations")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lead_replacements")),
    )
    op.create_index(
        op.f("ix_lead_replacements_org_id"), "lead_replacements", ["org_id"], unique=False
    )
    op.create_table(
        "membership_statements",
        sa.Column("statement_id", sa.String(length=36), nullable=False),
        sa.Column("org_id", sa.String(length=63), nullable=False),
        sa.Column("log_index", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organisations.id"],
            name=op.f("fk_membership_statements_org_id_organisations"),
        ),
        sa.PrimaryKeyConstraint("statement_id", name=op.f("pk_membership_statements")),
    )


def downgrade() -> None:
    op.drop_table("membership_statements")
    op.drop_index(op.f("ix_lead_replacements_org_id"), table_name="lead_replacements")
    op.drop_table("lead_replacements")
    with op.batch_alter_table("officials") as batch:
        batch.drop_column("lead")
        batch.drop_column("approved")
