"""Marshmallow schemas of the wire format: no database, no Flask."""
