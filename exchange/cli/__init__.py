"""The `hotline` command line."""

from exchange.cli.main import main

__all__ = ["main"]
