"""Hotline Exchange: the server, its log, the envelope, and the client SDK and CLI."""
