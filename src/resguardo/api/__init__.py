"""The HTTP API: FastAPI routers, schemas, dependencies and the one error handler."""

from resguardo.api.app import create_app

__all__ = ["create_app"]
