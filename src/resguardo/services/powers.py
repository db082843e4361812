"""Grants of power take two admins.

Creating an account with write rights, changing an account's role or scope,
resetting someone's password and creating a service account are *requested* by
one admin and *approved* by another (never the one who asked, never the account
concerned, never a service account). Each step is an event (``user.power_requested``,
``user.power_approved``, ``user.power_rejected``) in the target's scope, and every
approved or pending grant is an alert to the auditors of that scope.

A reset or a new account gets a one-time password, shown once to the approving
admin (the one who asked never sees it), which the person must replace at the
next sign-in. So no single admin can hand themselves a second person: minting a
token as a person is impossible (``services.auth``), and every way to a
person's password goes through a second admin.

The one exception is bootstrap: until a deployment has ever had two admins,
the only admin acts alone (there is nobody to ask); the entries of such changes
say ``"second_admin": false``.
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Any

from resguardo.domain.alerts import Alert, AlertKind
from resguardo.domain.codes import Role
from resguardo.domain.entities import NewEvent
from resguardo.domain.errors import (
    T_,
    Conflict,
    DomainError,
    NotFound,
    SeparationOfDuties,
    ValidationFailed,
)
from resguardo.domain.policy import PERMISSIONS, Action, authorize
from resguardo.domain.timefmt import iso, parse_instant
from resguardo.storage import account_tables as at
from resguardo.storage.uow import UnitOfWork

KINDS = ("account", "role", "password_reset", "service_account")

#: Actions that only read: a role with nothing else has no write rights.
_READ_ONLY = frozenset({Action.READ, Action.TRACE, Action.LEDGER_VERIFY, Action.LEDGER_READ,
                        Action.ACCESS_LOG_READ})


class SecondAdminRequired(DomainError):
    """A grant of power that one admin asks for and a second admin approves."""

    code = "second_admin_required"
    status = 409


def has_write_rights(role: Role | str) -> bool:
    return bool(PERMISSIONS[Role(role)] - _READ_ONLY)


def alone(uow: UnitOfWork) -> bool:
    """True while the deployment has never had a second admin (bootstrap)."""
    return at.person_admins(uow.conn) < 2


def guard(uow: UnitOfWork, kind: str, role: Role | str | None = None, *,
          approved: bool = False) -> None:
    """Refuse a grant of power made directly, unless a second admin approved it.

    The system itself (no actor) and a deployment that never had two admins act
    alone; so does creating an account that only reads.
    """
    if approved or uow.actor is None:
        return
    if kind == "account" and role is not None and not has_write_rights(role):
        return
    if alone(uow):
        return
    what = {"account": "creating an account with write rights",
            "role": "changing a role or a scope",
            "password_reset": "resetting someone else's password",
            "service_account": "creating a service account"}[kind]
    raise SecondAdminRequired(f"{what} needs a second admin: request it, and another admin "
                              "approves", kind=kind)


def _admin(uow: UnitOfWork) -> None:
    assert uow.actor is not None
    authorize(uow.actor, Action.USER_MANAGE)


def request(uow: UnitOfWork, kind: str, username: str, *, role: str | None = None,
            scope: str | None = None, display_name: str | None = None) -> dict[str, Any]:
    """An admin asks for a grant of power; another admin approves it (``approve``)."""
    from resguardo.services import users

    _admin(uow)
    assert uow.actor is not None
    if kind not in KINDS:
        raise ValidationFailed("kind must be one of " + ", ".join(KINDS), field="kind")
    name = (username or "").strip().lower()
    details: dict[str, Any] = {}
    if kind in ("account", "service_account", "role"):
        try:
            role_value = Role(role or "").value
        except ValueError:
            raise ValidationFailed("role must be one of " + ", ".join(r.value for r in Role),
                                   field="role") from None
        details["role"] = role_value
    existing = uow.repo.user_row(name) if name else None
    if kind in ("account", "service_account"):
        users.check_username(name)
        if existing is not None:
            raise Conflict(T_("user %(user)s already exists"), field="username", user=name)
        if not scope:
            raise ValidationFailed("give the scope of the account", field="scope")
        target_scope = uow.repo.org(scope)
        users.check_scope(Role(details["role"]), target_scope)
        details["scope"] = target_scope.code
        if display_name:
            details["display_name"] = display_name.strip()
    else:
        found = _in_scope(uow, name)
        if found.kind != "person":
            raise ValidationFailed("a service account has no password or role to change "
                                   "this way", field="username")
        if name == uow.actor.username:
            raise ValidationFailed("ask another admin to change your own account",
                                   field="username")
        target_scope = uow.repo.org_unscoped(found.scope_id)
        if kind == "role":
            new_scope = uow.repo.org(scope) if scope else target_scope
            users.check_scope(Role(details["role"]), new_scope)
            details["scope"] = new_scope.code
            details["from"] = {"role": found.role, "scope": target_scope.code}
    authorize(uow.actor, Action.USER_MANAGE, target_scope.path, "organization")
    uow.lock()
    request_id = at.add_power_request(uow.conn, kind=kind, username=name,
                                      scope_id=target_scope.id, details=details,
                                      requested_by=int(uow.actor.user_id or 0),
                                      now=iso(uow.now()))
    uow.append(NewEvent("user.power_requested", {"request_id": request_id, "kind": kind,
                                            "username": name, **details},
                        org_id=target_scope.id))
    found_request = at.power_request(uow.conn, request_id)
    assert found_request is not None
    return found_request


def _in_scope(uow: UnitOfWork, name: str) -> Any:
    row = uow.repo.user_row(name)
    if row is None:
        raise NotFound(f"user {name} not found", user=name)
    authorize(uow.actor, Action.USER_MANAGE, uow.repo.org_unscoped(row.scope_id).path,  # type: ignore[arg-type]
              "user")
    return row


def _pending(uow: UnitOfWork, request_id: int) -> dict[str, Any]:
    found = at.power_request(uow.conn, request_id)
    if found is None:
        raise NotFound("request not found")
    assert uow.actor is not None
    authorize(uow.actor, Action.USER_MANAGE, uow.repo.org_unscoped(found["scope_id"]).path,
              "request")
    if found["status"] != "pending":
        raise Conflict(T_("request %(n)s is already %(status)s"),
                       status=found["status"], n=request_id)
    return found


def one_time_password() -> str:
    return secrets.token_urlsafe(12)


def approve(uow: UnitOfWork, request_id: int) -> dict[str, Any]:
    """A second admin approves: the change is made now. A reset or a new person's account
    answers a one-time password (``one_time_password``), shown only in this answer."""
    from resguardo.services import accounts, users

    _admin(uow)
    actor = uow.actor
    assert actor is not None
    uow.lock()
    found = _pending(uow, request_id)
    if found["requested_by"] == actor.user_id:
        raise SeparationOfDuties("the admin who requested this cannot approve it; another "
                                 "admin must")
    if found["username"] == actor.username:
        raise SeparationOfDuties("an admin cannot approve a change to their own account")
    details, name, kind = found["details"], found["username"], found["kind"]
    password = None
    if kind == "account":
        password = one_time_password()
        users.add_user(uow, name, password, details["role"], details["scope"],
                       details.get("display_name"), approved=True)
        _must_change(uow, name)
    elif kind == "service_account":
        accounts.add_service_account(uow, name, details["role"], details["scope"],
                                     details.get("display_name"), approved=True)
    elif kind == "password_reset":
        password = one_time_password()
        users.set_password(uow, name, password, approved=True)
        _must_change(uow, name)
    else:
        accounts.change_role(uow, name, details["role"], details["scope"], approved=True)
    now = iso(uow.now())
    at.decide_power_request(uow.conn, request_id, "approved", int(actor.user_id or 0), now)
    uow.append(NewEvent("user.power_approved", {"request_id": request_id, "kind": kind,
                                           "username": name,
                                           "requested_by": found["requested_by"], **details},
                        org_id=found["scope_id"]))
    return {**found, "status": "approved", "decided_by": actor.user_id, "decided_at": now,
            "one_time_password": password}


def reject(uow: UnitOfWork, request_id: int, reason: str) -> dict[str, Any]:
    """Turn a request down (any admin in scope, the one who asked included)."""
    _admin(uow)
    actor = uow.actor
    assert actor is not None
    why = (reason or "").strip()
    if not why:
        raise ValidationFailed("say why the request is rejected", field="reason")
    uow.lock()
    found = _pending(uow, request_id)
    now = iso(uow.now())
    at.decide_power_request(uow.conn, request_id, "rejected", int(actor.user_id or 0), now)
    uow.append(NewEvent("user.power_rejected", {"request_id": request_id, "kind": found["kind"],
                                           "username": found["username"]},
                        reason=why, org_id=found["scope_id"]))
    return {**found, "status": "rejected", "decided_by": actor.user_id, "decided_at": now}


def pending(uow: UnitOfWork) -> list[dict[str, Any]]:
    """Requests awaiting a second admin, in the acting admin's scope."""
    _admin(uow)
    assert uow.actor is not None
    out = []
    for found in at.pending_power_requests(uow.conn):
        if uow.actor.in_scope(uow.repo.org_unscoped(found["scope_id"]).path):
            out.append(found)
    return out


#: How long a decided grant of power stays an alert (a pending one stays until decided).
ALERT_DAYS = 7


def power_alerts(uow: UnitOfWork) -> list[Alert]:
    """Grants of power, pending or recent, as alerts for the auditors (and admins) of the
    scope they were asked in."""
    actor = uow.actor
    if actor is None or actor.role not in (Role.AUDITOR, Role.ADMIN):
        return []
    since = iso(uow.now() - timedelta(days=ALERT_DAYS))
    out = []
    for found in at.recent_power_requests(uow.conn, since):
        org = uow.repo.org_unscoped(found["scope_id"])
        if not actor.in_scope(org.path):
            continue
        out.append(Alert(
            key=f"power_change:{found['id']}", kind=AlertKind.POWER_CHANGE,
            agency_id=org.id, agency=org.code,
            subject=f"{found['kind'].replace('_', ' ')}: {found['username']} "
                    f"({found['status']})",
            message=f"request {found['id']} by user {found['requested_by']}, "
                    f"{found['status']}",
            since=parse_instant(found["requested_at"])))
    return out




def _must_change(uow: UnitOfWork, username: str) -> None:
    at.set_account(uow.conn, username, must_change_password=True)
