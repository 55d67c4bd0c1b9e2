"""Identifiers in the vendor's formats."""

from __future__ import annotations

import itertools
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


# Record ids inside executions need to be unique, not secret or unguessable: a random prefix per process
# (drawn again in a forked child) and a counter, formatted without a system call or a random draw per id.
_URLSAFE = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
_uuid_prefix = ""
_nanoid_prefix = ""
_sequence = itertools.count(1)


def _draw_prefixes() -> None:
    global _uuid_prefix, _nanoid_prefix
    h = os.urandom(10).hex()
    _uuid_prefix = f"{h[:8]}-{h[8:12]}-4{h[12:15]}-{'89ab'[int(h[15], 16) & 3]}{h[16:19]}-"
    _nanoid_prefix = "".join(_URLSAFE[b & 63] for b in os.urandom(11))


def new_uuid() -> str:
    """A UUID in the version 4 layout, e.g. 04b1892c-d28e-444b-a639-20efbedca4c9 (unique in this process)."""
    return _uuid_prefix + "%012x" % next(_sequence)  # noqa: UP031 (printf-style costs less than ":012x")


def new_nanoid() -> str:
    """A 21-character URL-safe id, the shape of the vendor's executionIds (H4uUaCEjkA8Awi4xiNk-r)."""
    return _nanoid_prefix + "%010x" % next(_sequence)  # noqa: UP031 (as above)


_draw_prefixes()
os.register_at_fork(after_in_child=_draw_prefixes)  # a forked child draws its own prefixes
