"""The initial schema: directory, cases and handoffs, inboxes, and the append-only log.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

APPEND_ONLY_TABLES = ("log_entries", "log_nodes", "checkpoints")


def upgrade() -> None:
    op.create_table(
        "checkpoints",
        sa.Column("size", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("root", sa.LargeBinary(length=32), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("key_name", sa.String(length=200), nullable=False),
        sa.Column("signed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("size", name=op.f("pk_checkpoints")),
    )
    op.create_table(
        "log_entries",
        sa.Column("index", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("leaf", sa.Text(), nullable=False),
        sa.Column("event", sa.String(length=32), nullable=False),
        sa.Column("case_id", sa.String(length=36), nullable=True),
        sa.Column("handoff_id", sa.String(length=36), nullable=True),
        sa.Column("logged_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("index", name=op.f("pk_log_entries")),
    )
    op.create_index(op.f("ix_log_entries_case_id"), "log_entries", ["case_id"], unique=False)
    op.create_table(
        "log_head",
        sa.Column("id", sa.SmallInteger(), autoincrement=False, nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_log_head")),
    )
    op.create_table(
        "log_nodes",
        sa.Column("level", sa.SmallInteger(), autoincrement=False, nullable=False),
        sa.Column("index", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("hash", sa.LargeBinary(length=32), nullable=False),
        sa.PrimaryKeyConstraint("level", "index", name=op.f("pk_log_nodes")),
    )
    op.create_table(
        "organisations",
        sa.Column("id", sa.String(length=63), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_organisations")),
    )
    op.create_table(
        "used_assertions",
        sa.Column("issuer", sa.String(length=63), nullable=False),
        sa.Column("jti", sa.String(length=255), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("issuer", "jti", name=op.f("pk_used_assertions")),
    )
    op.create_index(
        op.f("ix_used_assertions_expires_at"), "used_assertions", ["expires_at"], unique=False
    )
    op.create_table(
        "officials",
        sa.Column("id", sa.String(length=63), nullable=False),
        sa.Column("org_id", sa.String(length=63), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("categories", sa.JSON(), nullable=False),
        sa.Column("languages", sa.JSON(), nullable=False),
        sa.Column("contact", sa.JSON(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("enrolled", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deactivated_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["org_id"], ["organisations.id"], name=op.f("fk_officials_org_id_organisations")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_officials")),
    )
    op.create_index(op.f("ix_officials_org_id"), "officials", ["org_id"], unique=False)
    op.create_table(
        "cases",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("issuer_org", sa.String(length=63), nullable=False),
        sa.Column("issuer_official", sa.String(length=63), nullable=False),
        sa.Column("issuer_case_ref", sa.String(length=64), nullable=False),
        sa.Column("platform_org", sa.String(length=63), nullable=False),
        sa.Column("category", sa.String(length=32), nullable=False),
        sa.Column("priority", sa.String(length=16), nullable=False),
        sa.Column("minor_involved", sa.String(length=8), nullable=False),
        sa.Column("request_type", sa.String(length=32), nullable=False),
        sa.Column("item_count", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=32), nullable=False),
        sa.Column("outcome", sa.String(length=32), nullable=True),
        sa.Column("assignee_id", sa.String(length=63), nullable=True),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ack_due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("action_due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("responded_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("withdrawn_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["assignee_id"], ["officials.id"], name=op.f("fk_cases_assignee_id_officials")
        ),
        sa.ForeignKeyConstraint(
            ["issuer_official"], ["officials.id"], name=op.f("fk_cases_issuer_official_officials")
        ),
        sa.ForeignKeyConstraint(
            ["issuer_org"], ["organisations.id"], name=op.f("fk_cases_issuer_org_organisations")
        ),
        sa.ForeignKeyConstraint(
            ["platform_org"], ["organisations.id"], name=op.f("fk_cases_platform_org_organisations")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cases")),
        sa.UniqueConstraint(
            "issuer_org", "issuer_case_ref", name=op.f("uq_cases_issuer_org_issuer_case_ref")
        ),
    )
    op.create_index("ix_cases_assignee", "cases", ["assignee_id"], unique=False)
    op.create_index(
        "ix_cases_issuer_submitted", "cases", ["issuer_org", "submitted_at"], unique=False
    )
    op.create_index("ix_cases_platform_state", "cases", ["platform_org", "state"], unique=False)
    op.create_table(
        "enrollment_codes",
        sa.Column("code_sha256", sa.String(length=64), nullable=False),
        sa.Column("official_id", sa.String(length=63), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["official_id"],
            ["officials.id"],
            name=op.f("fk_enrollment_codes_official_id_officials"),
        ),
        sa.PrimaryKeyConstraint("code_sha256", name=op.f("pk_enrollment_codes")),
    )
    op.create_index(
        op.f("ix_enrollment_codes_official_id"), "enrollment_codes", ["official_id"], unique=False
    )
    op.create_table(
        "inbox_heads",
        sa.Column("official_id", sa.String(length=63), nullable=False),
        sa.Column("last_seq", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["official_id"], ["officials.id"], name=op.f("fk_inbox_heads_official_id_officials")
        ),
        sa.PrimaryKeyConstraint("official_id", name=op.f("pk_inbox_heads")),
    )
    op.create_table(
        "official_keys",
        sa.Column("kid", sa.String(length=43), nullable=False),
        sa.Column("official_id", sa.String(length=63), nullable=False),
        sa.Column("use", sa.String(length=3), nullable=False),
        sa.Column("jwk", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("registered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("registered_log_index", sa.Integer(), nullable=False),
        sa.Column("retired_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["official_id"], ["officials.id"], name=op.f("fk_official_keys_official_id_officials")
        ),
        sa.PrimaryKeyConstraint("kid", name=op.f("pk_official_keys")),
    )
    op.create_index(
        "ix_official_keys_official_status", "official_keys", ["official_id", "status"], unique=False
    )
    op.create_table(
        "routes",
        sa.Column("platform_id", sa.String(length=63), nullable=False),
        sa.Column("category", sa.String(length=32), nullable=False),
        sa.Column("official_id", sa.String(length=63), nullable=False),
        sa.ForeignKeyConstraint(
            ["official_id"], ["officials.id"], name=op.f("fk_routes_official_id_officials")
        ),
        sa.ForeignKeyConstraint(
            ["platform_id"], ["organisations.id"], name=op.f("fk_routes_platform_id_organisations")
        ),
        sa.PrimaryKeyConstraint("platform_id", "category", name=op.f("pk_routes")),
    )
    op.create_table(
        "deadline_breaches",
        sa.Column("case_id", sa.String(length=36), nullable=False),
        sa.Column("deadline", sa.String(length=8), nullable=False),
        sa.Column("log_index", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_deadline_breaches_case_id_cases")
        ),
        sa.PrimaryKeyConstraint("case_id", "deadline", name=op.f("pk_deadline_breaches")),
    )
    op.create_table(
        "handoffs",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("case_id", sa.String(length=36), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("sender_org", sa.String(length=63), nullable=False),
        sa.Column("sender_official", sa.String(length=63), nullable=False),
        sa.Column("kid", sa.String(length=43), nullable=False),
        sa.Column("in_reply_to", sa.String(length=36), nullable=True),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("statement", sa.Text(), nullable=False),
        sa.Column("jwe", sa.Text(), nullable=True),
        sa.Column("jwe_sha256", sa.String(length=43), nullable=True),
        sa.Column("record_sha256", sa.String(length=43), nullable=True),
        sa.Column("envelope_sha256", sa.String(length=43), nullable=False),
        sa.Column("state_after", sa.String(length=32), nullable=False),
        sa.Column("log_index", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_handoffs_case_id_cases")),
        sa.ForeignKeyConstraint(
            ["sender_official"],
            ["officials.id"],
            name=op.f("fk_handoffs_sender_official_officials"),
        ),
        sa.ForeignKeyConstraint(
            ["sender_org"], ["organisations.id"], name=op.f("fk_handoffs_sender_org_organisations")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_handoffs")),
        sa.UniqueConstraint("log_index", name=op.f("uq_handoffs_log_index")),
    )
    op.create_index(op.f("ix_handoffs_case_id"), "handoffs", ["case_id"], unique=False)
    op.create_table(
        "deliveries",
        sa.Column("handoff_id", sa.String(length=36), nullable=False),
        sa.Column("official_id", sa.String(length=63), nullable=False),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("log_index", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["handoff_id"], ["handoffs.id"], name=op.f("fk_deliveries_handoff_id_handoffs")
        ),
        sa.ForeignKeyConstraint(
            ["official_id"], ["officials.id"], name=op.f("fk_deliveries_official_id_officials")
        ),
        sa.PrimaryKeyConstraint("handoff_id", "official_id", name=op.f("pk_deliveries")),
    )
    op.create_table(
        "inbox_items",
        sa.Column("official_id", sa.String(length=63), nullable=False),
        sa.Column("seq", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("handoff_id", sa.String(length=36), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["handoff_id"], ["handoffs.id"], name=op.f("fk_inbox_items_handoff_id_handoffs")
        ),
        sa.ForeignKeyConstraint(
            ["official_id"], ["officials.id"], name=op.f("fk_inbox_items_official_id_officials")
        ),
        sa.PrimaryKeyConstraint("official_id", "seq", name=op.f("pk_inbox_items")),
    )
    op.bulk_insert(
        sa.table("log_head", sa.column("id", sa.SmallInteger), sa.column("size", sa.BigInteger)),
        [{"id": 1, "size": 0}],
    )
    _create_append_only_triggers()


def _create_append_only_triggers() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for table in APPEND_ONLY_TABLES:
            for action in ("UPDATE", "DELETE"):
                op.execute(
                    f"CREATE TRIGGER {table}_no_{action.lower()} BEFORE {action} ON {table} "
                    f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END"
                )
        return
    op.execute(
        "CREATE FUNCTION hotline_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
        "BEGIN RAISE EXCEPTION '% is append-only', TG_TABLE_NAME; END $$"
    )
    for table in APPEND_ONLY_TABLES:
        op.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE OR TRUNCATE "
            f"ON {table} FOR EACH STATEMENT EXECUTE FUNCTION hotline_append_only()"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        for table in APPEND_ONLY_TABLES:
            op.execute(f"DROP TRIGGER {table}_append_only ON {table}")
        op.execute("DROP FUNCTION hotline_append_only()")
    op.drop_table("inbox_items")
    op.drop_table("deliveries")
    op.drop_table("handoffs")
    op.drop_table("deadline_breaches")
    op.drop_table("routes")
    op.drop_table("official_keys")
    op.drop_table("inbox_heads")
    op.drop_table("enrollment_codes")
    op.drop_table("cases")
    op.drop_table("officials")
    op.drop_table("used_assertions")
    op.drop_table("organisations")
    op.drop_table("log_nodes")
    op.drop_table("log_head")
    op.drop_table("log_entries")
    op.drop_table("checkpoints")
