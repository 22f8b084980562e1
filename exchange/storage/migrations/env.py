"""Alembic environment: the connection comes from exchange.storage.migrate, never an ini file."""

from alembic import context

from exchange.storage.models import Base

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
