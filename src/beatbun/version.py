"""The release version, read by the build backend and reported by /healthz."""

from __future__ import annotations

VERSION = "0.1.0"
