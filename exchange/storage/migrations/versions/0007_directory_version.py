"""A version number of the directory, moved on by the database itself at every change.

A handoff reads what the directory says of its case (the platform, its case handlers' keys,
the route, the deadline policy, who is told) before it waits for the log's write lock,
and only compares this number once it holds the lock (`exchange.services.addressing`).
Triggers move it, not the code that changes the directory: no write path can forget to,
and an operator's hand-made edit in SQL is seen too.

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

# As of this revision: `exchange.storage.models.directory.DIRECTORY_TABLES`.
DIRECTORY_TABLES = (
    "organisations",
    "officials",
    "official_keys",
    "routes",
    "deadline_policies",
    "subscriptions",
)
_BUMP = "UPDATE directory_version SET version = version + 1 WHERE id = 1"


def upgrade() -> None:
    op.create_table(
        "directory_version",
        sa.Column("id", sa.SmallInteger(), autoincrement=False, nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_directory_version")),
    )
    op.bulk_insert(
        sa.table(
            "directory_version",
            sa.column("id", sa.SmallInteger),
            sa.column("version", sa.BigInteger),
        ),
        [{"id": 1, "version": 0}],
    )
    if op.get_bind().dialect.name == "sqlite":
        for table in DIRECTORY_TABLES:
            for action in ("INSERT", "UPDATE", "DELETE"):
                op.execute(
                    f"CREATE TRIGGER {table}_{action.lower()}_directory_version AFTER {action} "
                    f"ON {table} BEGIN {_BUMP}; END"
                )
        return
    op.execute(
        "CREATE FUNCTION hotline_directory_version() RETURNS trigger LANGUAGE plpgsql AS $$ "
        f"BEGIN {_BUMP}; RETURN NULL; END $$"
    )
    for table in DIRECTORY_TABLES:
        op.execute(
            f"CREATE TRIGGER {table}_directory_version AFTER INSERT OR UPDATE OR DELETE OR "
            f"TRUNCATE ON {table} FOR EACH STATEMENT EXECUTE FUNCTION hotline_directory_version()"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for table in DIRECTORY_TABLES:
            for action in ("insert", "update", "delete"):
                op.execute(f"DROP TRIGGER {table}_{action}_directory_version")
    else:
        for table in DIRECTORY_TABLES:
            op.execute(f"DROP TRIGGER {table}_directory_version ON {table}")
        op.execute("DROP FUNCTION hotline_directory_version()")
    op.drop_table("directory_version")
