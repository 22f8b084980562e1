"""The root of every verification failure: envelopes, Merkle proofs, signed notes, the audit.

A verify function either returns what it verified or raises a subclass of this; it never
returns None, so a caller cannot mistake "unchecked" for "valid".
"""


class VerificationError(Exception):
    """Something did not verify. Subclasses name the cause; `str()` is one line for humans."""
