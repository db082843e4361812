"""Static files of the interface, and htmx from the npm package (never copied here)."""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path

from fastapi import APIRouter, HTTPException
from fastapi.responses import FileResponse

from resguardo.web.site import Site

STATIC = Path(__file__).resolve().parents[1] / "static"
_TYPES = {".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8",
          ".svg": "image/svg+xml", ".png": "image/png", ".ico": "image/x-icon"}
_CACHE = "public, max-age=3600"


@cache
def htmx_path() -> Path | None:
    """node_modules/htmx.org/dist/htmx.min.js, as installed by scripts/setup.sh."""
    candidates = []
    if os.environ.get("RESGUARDO_NODE_MODULES"):
        candidates.append(Path(os.environ["RESGUARDO_NODE_MODULES"]))
    candidates.append(Path.cwd() / "node_modules")
    candidates.extend(parent / "node_modules" for parent in Path(__file__).resolve().parents)
    for base in candidates:
        path = base / "htmx.org" / "dist" / "htmx.min.js"
        if path.is_file():
            return path
    return None


def register(router: APIRouter, site: Site) -> None:
    files = {p.name: p for p in STATIC.iterdir() if p.is_file() and p.suffix in _TYPES}

    @router.get("/static/{name}")
    def static_file(name: str) -> FileResponse:
        path = files.get(name)
        if path is None:
            raise HTTPException(404)
        return FileResponse(path, media_type=_TYPES[path.suffix], headers={"Cache-Control": _CACHE})

    @router.get("/static/vendor/htmx.min.js")
    def htmx() -> FileResponse:
        path = htmx_path()
        if path is None:
            # The pages work without it (plain forms); setup.sh installs it with npm.
            raise HTTPException(404)
        return FileResponse(path, media_type=_TYPES[".js"], headers={"Cache-Control": _CACHE})
