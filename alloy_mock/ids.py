"""Identifiers in the vendor's formats."""

from __future__ import annotations

import base64
import os
import random
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


# Record ids inside executions need to be unique, not secret: a per-process generator, seeded from
# the OS, formats them without a system call per id.
_ids = random.Random(os.urandom(16))


def new_uuid() -> str:
    """A random (version 4) UUID, e.g. 04b1892c-d28e-444b-a639-20efbedca4c9."""
    h = f"{_ids.getrandbits(128):032x}"
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{'89ab'[int(h[16], 16) & 3]}{h[17:20]}-{h[20:]}"


def new_nanoid() -> str:
    """A 21-character URL-safe id, the shape of the vendor's executionIds (H4uUaCEjkA8Awi4xiNk-r)."""
    return base64.urlsafe_b64encode(_ids.getrandbits(128).to_bytes(16, "big")).decode()[:21]


os.register_at_fork(after_in_child=lambda: _ids.seed(os.urandom(16)))  # a forked child draws its own ids
