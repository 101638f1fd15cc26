"""CPython stand-in for workerd's `_cloudflare` package (src/pyodide/internal/topLevelEntropy/).

The Workers SDK's `_workers_sdk_entropy_import_context` registers its import-time entropy rules
through `_cloudflare.import_patch_manager` and `_cloudflare.allow_entropy`; these two modules
reproduce that interface so tests/runtime/entropy_guard.py can run the pinned SDK's own rules.
"""
