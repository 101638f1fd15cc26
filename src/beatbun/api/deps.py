"""FastAPI dependencies shared by `api` and `web`."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from beatbun.runtime.base import Runtime


def runtime_of(request: Request) -> Runtime:
    """The runtime for this request, built once and kept on `request.state`.

    On Workers the ASGI bridge puts the bindings in `scope["env"]` and the runtime is built from
    them per request; locally the app holds one runtime for its whole life.
    """
    cached: Runtime | None = getattr(request.state, "runtime", None)
    if cached is not None:
        return cached
    env = request.scope.get("env")
    runtime: Runtime = (
        request.app.state.runtime_factory(env) if env is not None else request.app.state.runtime
    )
    request.state.runtime = runtime
    return runtime


async def get_runtime(request: Request) -> Runtime:
    return runtime_of(request)


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]
