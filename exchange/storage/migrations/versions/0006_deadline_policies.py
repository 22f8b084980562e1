"""Deadline policies as data, the policy each case was opened under, and the deadlines
of questions, withdrawal acknowledgements and reopened cases.

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
        sa.PrimaryKeyConstraint("name", "version", name=op.f("pk_deadline_policies")),
        sa.UniqueConstraint("log_index", name=op.f("uq_deadline_policies_log_index")),
    )
    with op.batch_alter_table("cases") as batch:
        batch.add_column(sa.Column("policy_name", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("policy_version", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("answer_within_seconds", sa.Integer(), nullable=True))
        batch.add_column(
            sa.Column("withdrawal_ack_due_at", sa.DateTime(timezone=True), nullable=True)
        )
        batch.add_column(sa.Column("reopened_by", sa.String(length=36), nullable=True))
        batch.add_column(sa.Column("reopened_due_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("deadline_breaches") as batch:
        batch.alter_column(
            "deadline", existing_type=sa.String(length=8), type_=sa.String(length=64)
        )
    op.create_table(
        "questions",
        sa.Column("handoff_id", sa.String(length=36), nullable=False),
        sa.Column("case_id", sa.String(length=36), nullable=False),
        sa.Column("asked_by_org", sa.String(length=63), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("answer_handoff_id", sa.String(length=36), nullable=True),
        sa.ForeignKeyConstraint(
            ["handoff_id"], ["handoffs.id"], name=op.f("fk_questions_handoff_id_handoffs")
        ),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_questions_case_id_cases")),
        sa.ForeignKeyConstraint(
            ["asked_by_org"],
            ["organisations.id"],
            name=op.f("fk_questions_asked_by_org_organisations"),
        ),
        sa.PrimaryKeyConstraint("handoff_id", name=op.f("pk_questions")),
    )
    op.create_index(op.f("ix_questions_case_id"), "questions", ["case_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_questions_case_id"), table_name="questions")
    op.drop_table("questions")
    with op.batch_alter_table("deadline_breaches") as batch:
        batch.alter_column(
            "deadline", existing_type=sa.String(length=64), type_=sa.String(length=8)
        )
    with op.batch_alter_table("cases") as batch:
        batch.drop_column("reopened_due_at")
        batch.drop_column("reopened_by")
        batch.drop_column("withdrawal_ack_due_at")
        batch.drop_column("answer_within_seconds")
        batch.drop_column("policy_version")
        batch.drop_column("policy_name")
    op.drop_table("deadline_policies")
