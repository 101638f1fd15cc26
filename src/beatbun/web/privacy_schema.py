"""The published JSON Schema of an export's `data.json`, for anyone reading an export."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from beatbun.privacy.exportschema import SCHEMA_PATH, export_schema

router = APIRouter()


@router.get(SCHEMA_PATH, response_class=JSONResponse)
async def export_schema_document() -> JSONResponse:
    return JSONResponse(
        export_schema(),
        media_type="application/schema+json",
        headers={"cache-control": "public, max-age=3600"},
    )
