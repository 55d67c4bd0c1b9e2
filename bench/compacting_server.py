"""`alloy-mock serve` with compaction forced: a compaction starts whenever the journal holds more than
BYTES bytes (whatever the snapshot's size) and none is running. For bench.py's "during compaction"
row and crash.py's --compaction mode; not meant for anything else.

    python bench/compacting_server.py BYTES serve --port 0 --db DB [serve options]

With BYTES = 1 a compaction starts at the first commit after the previous one ended, so the
server is compacting nearly all the time.
"""

from __future__ import annotations

import sys

from alloy_mock import cli
from alloy_mock.store import store


def main(argv: list[str]) -> int:
    store.MIN_COMPACTION_BYTES = int(argv[0])
    store.JOURNAL_PER_SNAPSHOT = 0
    return cli.main(argv[1:])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
