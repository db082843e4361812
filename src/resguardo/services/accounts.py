"""Accounts an admin can end: disable and enable, sign out everywhere, service accounts.

Every change here ends the account's sessions on the server (web and API) in
the same transaction, so a browser or a client signed in before is refused on
its very next request. Integration tokens belong only to service accounts
(``kind = "service"``): they never sign in with a password, and the policy
keeps them out of both halves of every two-person rule (``domain.policy``).
"""

from __future__ import annotations

from resguardo.domain.codes import Role
from resguardo.domain.entities import NewEvent
from resguardo.domain.errors import T_, Conflict, NotFound, ValidationFailed
from resguardo.domain.policy import Action, authorize
from resguardo.services import powers, sessions, users
from resguardo.storage import account_tables
from resguardo.storage import api_queries as q
from resguardo.storage.uow import UnitOfWork

#: What a service account's password hash holds: no password ever matches it.
NO_PASSWORD = "!service-account: signs in with a token only"


def _managed(uow: UnitOfWork, username: str) -> dict:
    """An account the acting admin manages (in scope), or NotFound."""
    found = q.user_in_scope(uow.repo, (username or "").strip().lower())
    if found is None:
        raise NotFound(f"user {username} not found", user=username)
    if uow.actor is not None:
        authorize(uow.actor, Action.USER_MANAGE, uow.repo.org_unscoped(found["scope_id"]).path,
                  "user")
    return found


def _set(uow: UnitOfWork, username: str, **values: object) -> None:
    account_tables.set_account(uow.conn, username, **values)


def disable(uow: UnitOfWork, username: str, reason: str) -> dict:
    """Disable an account: it cannot sign in, and its sessions and tokens stop at once."""
    target = _managed(uow, username)
    why = (reason or "").strip()
    if not why:
        raise ValidationFailed("say why the account is disabled", field="reason")
    if uow.actor is not None and uow.actor.user_id == target["id"]:
        raise Conflict("an admin cannot disable their own account", field="username")
    if not target["active"]:
        raise Conflict(T_("user %(user)s is already disabled"), field="username",
                       user=target["username"])
    uow.lock()
    _set(uow, target["username"], active=False)
    uow.append(NewEvent("user.disabled", {"user_id": target["id"],
                                          "username": target["username"]},
                        reason=why, org_id=target["scope_id"]))
    sessions.end_sessions(uow, target["id"], target["username"], "disabled",
                          target["scope_id"])
    return {**target, "active": False}


def enable(uow: UnitOfWork, username: str, reason: str) -> dict:
    """Enable a disabled account again (it signs in afresh; its old sessions stay ended)."""
    target = _managed(uow, username)
    why = (reason or "").strip()
    if not why:
        raise ValidationFailed("say why the account is enabled again", field="reason")
    if target["active"]:
        raise Conflict(T_("user %(user)s is already enabled"), field="username",
                       user=target["username"])
    uow.lock()
    _set(uow, target["username"], active=True)
    uow.append(NewEvent("user.enabled", {"user_id": target["id"],
                                         "username": target["username"]},
                        reason=why, org_id=target["scope_id"]))
    return {**target, "active": True}


def sign_out_everywhere(uow: UnitOfWork, username: str | None = None) -> int:
    """End every session of an account: your own, or (admin) one you manage."""
    assert uow.actor is not None
    name = (username or uow.actor.username).strip().lower()
    if name == uow.actor.username:
        row = uow.repo.user_row(name)
        target = {"id": row.id, "username": row.username, "scope_id": row.scope_id}
    else:
        target = _managed(uow, name)
    uow.lock()
    return sessions.end_sessions(uow, target["id"], target["username"], "sign_out_everywhere",
                                 target["scope_id"])


def add_service_account(uow: UnitOfWork, username: str, role: Role | str, scope_code: str,
                        display_name: str | None = None, *, approved: bool = False) -> int:
    """Create a service account (an integration: token only, never signs in); an admin
    needs a second admin's approval (``services.powers``)."""
    return users.add_user(uow, username, NO_PASSWORD, role, scope_code, display_name,
                          kind="service", approved=approved)


def change_role(uow: UnitOfWork, username: str, role: Role | str, scope_code: str, *,
                approved: bool = False) -> dict:
    """Give an account another role or scope (a second admin approves, see
    ``services.powers``); its sessions end, so it signs in again with the new powers."""
    target = _managed(uow, username)
    try:
        new_role = Role(role)
    except ValueError:
        raise ValidationFailed("role must be one of " + ", ".join(r.value for r in Role),
                               field="role") from None
    scope = uow.repo.org(scope_code)
    if uow.actor is not None:
        authorize(uow.actor, Action.USER_MANAGE, scope.path, "organization")
    users.check_scope(new_role, scope)
    powers.guard(uow, "role", new_role, approved=approved)
    uow.lock()
    _set(uow, target["username"], role=new_role.value, scope_id=scope.id)
    uow.append(NewEvent("user.role_changed", {
        "user_id": target["id"], "username": target["username"], "role": new_role.value,
        "scope_id": scope.id, "previous_role": target["role"],
        "previous_scope_id": target["scope_id"]}, org_id=scope.id))
    sessions.end_sessions(uow, target["id"], target["username"], "role_changed", scope.id)
    return {**target, "role": new_role.value, "scope_id": scope.id}



def set_profile(uow: UnitOfWork, username: str, *, name: str | None = None,
                post: str | None = None) -> dict:
    """An account's full name and post (cargo), as receipts, trace requests and actas print
    them ("Entregó: Juan Pérez López, Armero de la Policía Municipal"). An admin of the
    account's scope sets them, never the person alone (a name on a signed paper is not
    one's own to change); the change is an entry with what it was before."""
    target = _managed(uow, username)
    row = uow.repo.user_row(target["username"])
    values: dict[str, str] = {}
    for key, value, column, limit in (("name", name, "display_name", 200),
                                      ("post", post, "post", 200)):
        if value is None:
            continue
        text = " ".join(value.split())
        if not text:
            raise ValidationFailed(f"the {key} cannot be blank", field=key)
        if len(text) > limit:
            raise ValidationFailed(f"the {key} is longer than {limit} characters", field=key)
        values[column] = text
    if not values:
        raise ValidationFailed("give the full name or the post to set", field="name")
    uow.lock()
    before = {"name": row.display_name, "post": row.post}
    _set(uow, target["username"], **values)
    after = {"name": values.get("display_name", row.display_name),
             "post": values.get("post", row.post)}
    uow.append(NewEvent("user.profile_set", {"user_id": target["id"],
                                             "username": target["username"],
                                             "before": before, "after": after},
                        org_id=target["scope_id"]))
    return {"username": target["username"], **after}


def signer(uow: UnitOfWork, username: str | None) -> str:
    """How a document names the person behind a username: full name and post
    ("Juan Pérez López, Armero"), the username in brackets; the username alone when
    the account is gone (or none)."""
    if not username:
        return ""
    row = uow.repo.user_row(username)
    if row is None:
        return username
    name = row.display_name if row.display_name and row.display_name != username else None
    parts = ", ".join(x for x in (name, row.post) if x)
    return f"{parts} ({username})" if parts else username
