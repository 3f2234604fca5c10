"""What `make bench` and the call-count tests share: a small seeded world with one request per route
(world.py), the fresh-process probes for cold starts (cold_probe.py), the in-process probe for the
warm overhead (warm_probe.py), the bulk loader for the table-size runs (bulk.py) and the stack's
worker processes (workers.py).

The layer goes on sys.path here (as tests/conftest.py does for pytest), so that ``python -m
tests.bench`` can read the route declaration (clinic.routes) the way the tests do.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LAYER = ROOT / "layers" / "shared"
if str(LAYER) not in sys.path:
    sys.path.insert(0, str(LAYER))
