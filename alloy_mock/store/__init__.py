"""The one place that owns TinyDB: namespaced, indexed, journaled document collections."""

from .journal import DatabaseError, DurabilityError
from .store import MEMORY, Collection, DuplicateKeyError, Indexes, Store

__all__ = ["MEMORY", "Collection", "DatabaseError", "DuplicateKeyError", "DurabilityError", "Indexes", "Store"]
