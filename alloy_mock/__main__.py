"""`python -m alloy_mock serve` runs the emulator."""

import sys

from .cli import main

sys.exit(main())
