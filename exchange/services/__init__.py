"""Domain services. Each takes a session, raises typed errors, never commits, never aborts."""
