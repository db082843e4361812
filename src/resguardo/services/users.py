"""Accounts: creation with argon2-hashed passwords, roles and scopes."""

from __future__ import annotations

import re

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from resguardo.domain.codes import OrgKind, Role
from resguardo.domain.entities import NewEvent, Organization
from resguardo.domain.errors import T_, Conflict, ValidationFailed
from resguardo.domain.policy import AGENCY_ROLES, Action, authorize
from resguardo.domain.timefmt import iso
from resguardo.services import powers, sessions
from resguardo.storage import account_tables
from resguardo.storage.uow import UnitOfWork

_hasher = PasswordHasher()
_USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
MIN_PASSWORD = 10


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(stored_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(stored_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def check_password_strength(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise ValidationFailed(T_("the password needs at least %(n)s characters"),
                               field="password", n=MIN_PASSWORD)


KINDS = ("person", "service")


def check_username(name: str) -> None:
    if not _USERNAME.match(name):
        raise ValidationFailed("username: 2-64 lower-case letters, digits, dots, hyphens",
                               field="username")


def check_scope(role: Role, scope: Organization) -> None:
    if role in AGENCY_ROLES and scope.kind != OrgKind.AGENCY:
        raise ValidationFailed(T_("a %(role)s must be scoped to one agency"), field="scope",
                               role=role.value)


def add_user(uow: UnitOfWork, username: str, password: str, role: Role | str, scope_code: str,
             display_name: str | None = None, *, kind: str = "person",
             approved: bool = False) -> int:
    """Create an account; only an admin may, and only within the admin's scope.

    ``kind`` is ``person`` or ``service`` (an integration: its password is never
    checked, it signs in with a token only; see ``services.accounts``). An account
    with write rights, and any service account, needs a second admin
    (``services.powers``): ``approved`` is set only by ``powers.approve``.
    """
    if kind not in KINDS:
        raise ValidationFailed("kind must be person or service", field="kind")
    name = (username or "").strip().lower()
    check_username(name)
    try:
        role = Role(role)
    except ValueError:
        raise ValidationFailed("role must be one of " + ", ".join(r.value for r in Role),
                               field="role") from None
    if kind == "person":
        check_password_strength(password)
    scope = uow.repo.org(scope_code)
    if uow.actor is not None:
        authorize(uow.actor, Action.USER_MANAGE, scope.path, "organization")
    check_scope(role, scope)
    if uow.repo.user_row(name) is not None:
        raise Conflict(T_("user %(user)s already exists"), field="username", user=name)
    uow.lock()
    powers.guard(uow, "account" if kind == "person" else "service_account", role,
                 approved=approved)
    user_id = uow.repo.insert_user(
        username=name, display_name=(display_name or name).strip(),
        password_hash=hash_password(password) if kind == "person" else password,
        role=role.value, scope_id=scope.id, created_at=iso(uow.now()), kind=kind)
    if role == Role.ADMIN and kind == "person" and uow.actor is not None:
        # whoever chose a new admin's password (in bootstrap, the only admin) may use it
        # once at most: the new admin replaces it at the first sign-in, or finds it used
        account_tables.set_account(uow.conn, name, must_change_password=True)
    uow.append(NewEvent("user.created", {"user_id": user_id, "username": name,
                                         "role": role.value, "scope_id": scope.id,
                                         "kind": kind, "second_admin": approved},
                        org_id=scope.id))
    return user_id


def set_password(uow: UnitOfWork, username: str, password: str, *,
                 approved: bool = False) -> None:
    """A new password: your own, or (a reset, which needs a second admin, see
    ``services.powers``) someone else's. Every session of the account ends, this one
    included, so it signs in again with the new password."""
    check_password_strength(password)
    row = uow.repo.user_row(username)
    if row is None:
        raise ValidationFailed(T_("user %(user)s not found"), field="username", user=username)
    own = uow.actor is not None and uow.actor.username == row.username
    if uow.actor is not None and not own:
        authorize(uow.actor, Action.USER_MANAGE, uow.repo.org_unscoped(row.scope_id).path, "user")
    if row.kind == "service":
        raise ValidationFailed("a service account has no password; it uses tokens",
                               field="username")
    if not own:
        powers.guard(uow, "password_reset", approved=approved)
    uow.lock()
    uow.repo.set_password_hash(row.id, hash_password(password))
    if own and row.must_change_password:
        account_tables.set_account(uow.conn, row.username, must_change_password=False)
    uow.append(NewEvent("user.password_changed", {"user_id": row.id, "reset": not own,
                                                  "second_admin": approved},
                        org_id=row.scope_id))
    sessions.end_sessions(uow, row.id, row.username, "password_changed", row.scope_id)
