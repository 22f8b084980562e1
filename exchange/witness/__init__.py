"""The witness: a small, separate service a third party runs to cosign the log's checkpoints.

It implements C2SP tlog-witness (`POST /add-checkpoint`) and answers with C2SP
tlog-cosignature/v1 cosignatures. It keeps, per log origin, the size and root it last
cosigned (SQLite, committed before it answers) and cosigns a new checkpoint only with a
consistency proof from there, so it never cosigns two views of one log. It imports the
pure protocol and nothing of the exchange server (an import-linter contract).
"""
