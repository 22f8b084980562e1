"""Storage: the engine and its transactions, the models, the migrations, the append-only
guard. Imports SQLAlchemy and Alembic; knows nothing of Flask, HTTP or the log's rules."""
