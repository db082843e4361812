"""First-time set-up of a deployment."""

from __future__ import annotations

from typing import Any

from resguardo.domain.codes import OrgKind, Role
from resguardo.domain.registry import create_organization
from resguardo.services import users


def initialize(app: Any, admin: str, password: str, root_code: str, root_name: str) -> dict:
    """Schema, national authority and first admin, in one transaction."""
    from resguardo.storage import schema
    users.check_password_strength(password)
    schema.upgrade(app.engine)
    with app.work(None) as uow:
        uow.append(create_organization(root_code, root_name, OrgKind.NATIONAL, None))
        users.add_user(uow, admin, password, Role.ADMIN, root_code, "Administrator")
        uow.commit()
    notes: list[str] = []
    for hook in app.wiring.init_hooks:
        notes.extend(hook(app) or [])
    return {"database": app.settings.database_url, "root": root_code, "admin": admin,
            "notes": notes}
