"""The server's log: appends, the Merkle node store, checkpoint batches, the server's keys.

Services append with `log.append(session, event, now, …)` inside the log's unit of work
(`exchange.log.transaction.write`), which signs one checkpoint over each transaction's
appends. Imports storage and protocol; never Flask.
"""

from exchange.log.entries import Appended, append
from exchange.protocol.leaf import Actor

__all__ = ["Actor", "Appended", "append"]
