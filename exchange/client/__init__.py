"""The client side's SDK: profiles, the HTTP transport, and trust in what the server says.

Imports the protocol, `keys` and `schemas`; nothing of the server (api, services, storage,
log), so that what a client trusts never depends on server code running beside it.
"""
