"""The one place that owns TinyDB: namespaced, indexed, journaled document collections."""

from .journal import READY, DatabaseError, DurabilityError
from .store import MEMORY, Collection, DuplicateKeyError, Indexes, Store

__all__ = ["MEMORY", "READY", "Collection", "DatabaseError", "DuplicateKeyError", "DurabilityError", "Indexes", "Store"]
