"""Identifiers in the vendor's formats."""

from __future__ import annotations

import os
import re
import struct
import time

OBJECT_ID = re.compile(r"^[0-9a-f]{24}$")
_counter = int.from_bytes(os.urandom(3), "big")
_process_bytes = os.urandom(5)


def new_object_id() -> str:
    """A 24-hex MongoDB-style ObjectId: 4 bytes of time, 5 random bytes per process, a 3-byte counter."""
    global _counter
    _counter = (_counter + 1) & 0xFFFFFF
    return (struct.pack(">I", int(time.time()) & 0xFFFFFFFF) + _process_bytes + _counter.to_bytes(3, "big")).hex()


def is_object_id(value: str) -> bool:
    return OBJECT_ID.match(value) is not None
