"""`GET /healthz`: the version and whether each binding answers."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from fastapi import APIRouter, Response
from pydantic import BaseModel

from beatbun.api.deps import RuntimeDep
from beatbun.runtime.base import Runtime
from beatbun.version import VERSION

router = APIRouter()
logger = logging.getLogger(__name__)


class Health(BaseModel):
    status: str
    version: str
    bindings: dict[str, bool]
    last_cron_run: int | None


@router.get("/healthz")
async def healthz(runtime: RuntimeDep, response: Response) -> Health:
    checks: dict[str, Callable[[Runtime], Awaitable[object]]] = {
        "DB": _check_database,
        "AUDIO": lambda r: r.blobs.head("healthz/probe"),
        "USER_QUEUE": lambda r: r.user_queues.get(r.user_queues.id_from_name("healthz")).call(
            "ping"
        ),
    }
    bindings = {name: await _answers(name, check, runtime) for name, check in checks.items()}
    last_cron_run = await _last_cron_run(runtime) if bindings["DB"] else None
    healthy = all(bindings.values())
    response.status_code = 200 if healthy else 503
    return Health(
        status="ok" if healthy else "degraded",
        version=VERSION,
        bindings=bindings,
        last_cron_run=last_cron_run,
    )


async def _answers(
    name: str, check: Callable[[Runtime], Awaitable[object]], runtime: Runtime
) -> bool:
    try:
        await check(runtime)
    except Exception:
        # A health check reports failures instead of raising them; the log keeps the cause.
        logger.exception("Binding %s did not answer", name)
        return False
    return True


async def _check_database(runtime: Runtime) -> None:
    await runtime.db.prepare("SELECT 1").first()


async def _last_cron_run(runtime: Runtime) -> int | None:
    value = await runtime.db.prepare("SELECT max(scheduled_at) AS at FROM cron_runs").first("at")
    return int(value) if value is not None else None
