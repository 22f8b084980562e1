"""Marshmallow schemas of the wire format: no database, no Flask.

Loading validates and returns the same plain JSON (str, int, bool, list, dict, None), so
a loaded document can be canonicalised (RFC 8785) and signed as is.

- `enums`: the closed vocabularies, and which kinds are sealed or signed only.
- `common`: the strict base schema, bounded fields, ids, timestamps, the sender, the JWE.
- `hashes`: the spelling of each hash family.
- `case`, `response`, `question`, `supplement`, `withdrawal`, `closure`: record bodies.
- `receipt`, `assignment`: metas of the signed-only kinds.
- `header`: the members a record and its statement share.
- `record`: the encrypted inner record (`RecordSchema`, `BODY_SCHEMAS`).
- `statement`: the clear outer statement (`StatementSchema`, `META_SCHEMAS`, `meta_for`).
- `envelope`: `{statement, jwe}` as sent over the wire.
"""
