"""The pure protocol, shared by the server, the client and the auditor.

The envelope (JOSE, canonical JSON), the transparency-log pieces (RFC 9162 Merkle trees,
C2SP signed notes and checkpoints, the log key's handover, the leaf), the case workflow,
event names, key-management statements and the root of every verification error. Imports
`keys` and `schemas` only: no Flask, no database, no HTTP.
"""
