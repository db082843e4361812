"""Static files of the interface, and the browser libraries from their npm packages
(never copied here): htmx, and ZXing's barcode reader for camera scanning."""

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


#: /static/vendor/NAME -> the file inside node_modules (package.json, scripts/setup.sh)
VENDOR = {
    "htmx.min.js": "htmx.org/dist/htmx.min.js",
    # the UMD build bundles @zxing/library; it sets window.ZXingBrowser
    "zxing-browser.min.js": "@zxing/browser/umd/zxing-browser.min.js",
}


@cache
def htmx_path() -> Path | None:
    """node_modules/htmx.org/dist/htmx.min.js, as installed by scripts/setup.sh."""
    return vendor_path(VENDOR["htmx.min.js"])


@cache
def vendor_path(inside: str) -> Path | None:
    """A file of an installed npm package, or None when npm install has not run."""
    candidates = []
    if os.environ.get("RESGUARDO_NODE_MODULES"):
        candidates.append(Path(os.environ["RESGUARDO_NODE_MODULES"]))
    candidates.append(Path.cwd() / "node_modules")
    candidates.extend(parent / "node_modules" for parent in Path(__file__).resolve().parents)
    for base in candidates:
        path = base / inside
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

    @router.get("/static/vendor/{name}")
    def vendor(name: str) -> FileResponse:
        inside = VENDOR.get(name)
        path = vendor_path(inside) if inside else None
        if path is None:
            # The pages work without them (plain forms, typed or wedge-scanned serials);
            # setup.sh installs them with npm.
            raise HTTPException(404)
        return FileResponse(path, media_type=_TYPES[".js"], headers={"Cache-Control": _CACHE})
