from __future__ import annotations

import sys
from pathlib import Path

# The Cloudflare adapters import `pyodide.ffi` (and entry.py imports `workers` and `asgi`),
# which exist only inside the Workers runtime; tests of them import the stand-ins instead.
SDK_FAKES = Path(__file__).resolve().parent.parent / "sdk_fakes"
if str(SDK_FAKES) not in sys.path:
    sys.path.insert(0, str(SDK_FAKES))
