"""Domain services. Each takes a session and everything else it needs (clock, policy) as
arguments, raises typed errors, never commits and never reads Flask's globals."""
