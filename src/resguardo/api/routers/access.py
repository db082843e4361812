"""Accounts, integration tokens (admin) and webhook subscriptions (admin)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query

from resguardo.api import webhooks
from resguardo.api.dependencies import Reader, SecretWriter, Writer
from resguardo.api.routing import MAX_ID, Limit, Offset, needs, router
from resguardo.api.schemas.access import (
    ApiTokenCreatedOut,
    ApiTokenIn,
    ApiTokenOut,
    DeliveryOut,
    PasswordIn,
    PowerRequestIn,
    PowerRequestOut,
    ProfileIn,
    ReasonIn,
    ServiceAccountIn,
    SessionsEndedOut,
    TotpOut,
    UserIn,
    UserOut,
    WebhookCreatedOut,
    WebhookIn,
    WebhookOut,
)
from resguardo.api.schemas.common import Page
from resguardo.domain.codes import Role
from resguardo.domain.errors import NotFound
from resguardo.domain.policy import Action, authorize
from resguardo.services import accounts as account_service
from resguardo.services import auth, powers, users
from resguardo.storage import api_queries as q
from resguardo.storage import webhook_queries as wq
from resguardo.storage.uow import UnitOfWork

accounts = router("/users", "users")
tokens = router("/tokens", "tokens")
grants = router("/power-requests", "users")
hooks = router("/webhooks", "webhooks")

Username = Annotated[str, Path(min_length=1, max_length=80, pattern=r"^[A-Za-z0-9._-]+$",
                               description="Username.")]
TokenId = Annotated[int, Path(ge=1, le=MAX_ID, description="Token id.")]
RequestId = Annotated[int, Path(ge=1, le=MAX_ID, description="Power request id.")]
WebhookId = Annotated[int, Path(ge=1, le=MAX_ID, description="Webhook id.")]
DeliveryId = Annotated[int, Path(ge=1, le=MAX_ID, description="Delivery id.")]


def _admin(uow: UnitOfWork) -> None:
    if uow.actor is not None:
        authorize(uow.actor, Action.USER_MANAGE)


def _user(uow: UnitOfWork, username: str) -> dict:
    found = q.user_in_scope(uow.repo, username.lower())
    if found is None:
        raise NotFound("user not found")
    return found


def _user_out(row: dict) -> UserOut:
    return UserOut(username=row["username"], display_name=row["display_name"], role=row["role"],
                   scope=row["scope"], active=bool(row["active"]), created_at=row["created_at"],
                   locked_until=row["locked_until"], totp_enrolled=bool(row["totp_enrolled"]),
                   kind=row["kind"], post=row.get("post"))


# --- users ------------------------------------------------------------------------------------

@accounts.get("", response_model=Page[UserOut], openapi_extra=needs(Action.USER_MANAGE))
def list_users(caller: Reader, role: Role | None = None, offset: Offset = 0,
               limit: Limit = 100) -> Page[UserOut]:
    """Accounts in your scope (admin)."""
    with caller.read() as uow:
        _admin(uow)
        page = q.users_page(uow.repo, role=role.value if role else None, offset=offset,
                            limit=limit)
        return Page(items=[_user_out(r) for r in page.items], total=page.total, offset=offset,
                    limit=limit)


@accounts.get("/{username}", response_model=UserOut, openapi_extra=needs(Action.USER_MANAGE))
def get_user(username: Username, caller: Reader) -> UserOut:
    with caller.read() as uow:
        _admin(uow)
        return _user_out(_user(uow, username))


@accounts.post("", response_model=UserOut, status_code=201,
               openapi_extra=needs(Action.USER_MANAGE))
def create_user(body: UserIn, caller: Writer) -> object:
    """Create an account with a role and a scope (admin, within the admin's scope)."""
    def run(uow):  # type: ignore[no-untyped-def]
        _admin(uow)
        users.add_user(uow, body.username, body.password, body.role, body.scope,
                       body.display_name)
        return _user(uow, body.username.strip())
    return caller.write(run, lambda uow, row: _user_out(row), body=body)


@accounts.post("/service-accounts", response_model=UserOut, status_code=201,
               openapi_extra=needs(Action.USER_MANAGE))
def create_service_account(body: ServiceAccountIn, caller: Writer) -> object:
    """Create a service account for an integration (smart locker, RFID gate).

    It has no password and never signs in; an admin gives it tokens
    (`POST /tokens`). Whatever its role, it takes no half of a two-person rule
    (reporting or approving a loss, decommission, transfer or correction).
    """
    def run(uow):  # type: ignore[no-untyped-def]
        _admin(uow)
        account_service.add_service_account(uow, body.username, body.role, body.scope,
                                     body.display_name)
        return _user(uow, body.username.strip())
    return caller.write(run, lambda uow, row: _user_out(row), body=body)


@accounts.post("/{username}/disable", response_model=UserOut,
               openapi_extra=needs(Action.USER_MANAGE))
def disable_user(username: Username, body: ReasonIn, caller: Writer) -> object:
    """Disable an account: it cannot sign in, and its sessions and tokens stop at once."""
    def run(uow):  # type: ignore[no-untyped-def]
        _admin(uow)
        account_service.disable(uow, _user(uow, username)["username"], body.reason)
        return _user(uow, username)
    return caller.write(run, lambda uow, row: _user_out(row), status=200, body=body)


@accounts.post("/{username}/profile", response_model=UserOut,
               openapi_extra=needs(Action.USER_MANAGE))
def set_profile(username: Username, body: ProfileIn, caller: Writer) -> object:
    """Set an account's full name and post (cargo), as documents print them (admin of its
    scope; never the person alone)."""
    def run(uow):  # type: ignore[no-untyped-def]
        _admin(uow)
        account_service.set_profile(uow, _user(uow, username)["username"], name=body.name,
                                    post=body.post)
        return _user(uow, username)
    return caller.write(run, lambda uow, row: _user_out(row), status=200, body=body)


@accounts.post("/{username}/enable", response_model=UserOut,
               openapi_extra=needs(Action.USER_MANAGE))
def enable_user(username: Username, body: ReasonIn, caller: Writer) -> object:
    """Enable a disabled account again; it signs in afresh."""
    def run(uow):  # type: ignore[no-untyped-def]
        _admin(uow)
        account_service.enable(uow, _user(uow, username)["username"], body.reason)
        return _user(uow, username)
    return caller.write(run, lambda uow, row: _user_out(row), status=200, body=body)


@accounts.post("/{username}/sessions/end", response_model=SessionsEndedOut,
               openapi_extra=needs(Action.USER_MANAGE))
def end_user_sessions(username: Username, caller: Writer) -> object:
    """Sign an account out everywhere (web and API): yours, or (admin) one you manage."""
    def run(uow):  # type: ignore[no-untyped-def]
        name = username.lower()
        if uow.actor is None or uow.actor.username != name:
            _admin(uow)
            _user(uow, name)
        return account_service.sign_out_everywhere(uow, name)
    return caller.write(run, lambda uow, n: SessionsEndedOut(sessions=n), status=200)


@accounts.post("/{username}/password", response_model=UserOut,
               openapi_extra=needs(Action.USER_MANAGE))
def change_password(username: Username, body: PasswordIn, caller: Writer) -> object:
    """Set a new password: your own, or (admin) an account in your scope. Unlocks it."""
    def run(uow):  # type: ignore[no-untyped-def]
        name = username.lower()
        if uow.actor is None or uow.actor.username != name:
            _admin(uow)
        row = _user(uow, name)
        users.set_password(uow, row["username"], body.password)
        return _user(uow, name)
    return caller.write(run, lambda uow, row: _user_out(row), status=200, body=body)


@accounts.post("/{username}/unlock", response_model=UserOut,
               openapi_extra=needs(Action.USER_MANAGE))
def unlock_user(username: Username, caller: Writer) -> object:
    """Lift a sign-in lock and forget the failed attempts (admin)."""
    def run(uow):  # type: ignore[no-untyped-def]
        _admin(uow)
        auth.unlock(uow, _user(uow, username)["username"])
        return _user(uow, username)
    return caller.write(run, lambda uow, row: _user_out(row), status=200)


@accounts.post("/{username}/totp", response_model=TotpOut, status_code=201,
               openapi_extra=needs(Action.USER_MANAGE))
def enroll_totp(username: Username, caller: SecretWriter) -> object:
    """Give an account (yours, or one you manage) a new authenticator secret, shown once."""
    def run(uow):  # type: ignore[no-untyped-def]
        name = username.lower()
        if uow.actor is None or uow.actor.username != name:
            _admin(uow)
            _user(uow, name)
        return auth.enroll_totp(uow, name)
    return caller.write(run, lambda uow, r: TotpOut(secret=r[0], uri=r[1]))


@accounts.delete("/{username}/totp", response_model=UserOut,
                 openapi_extra=needs(Action.USER_MANAGE))
def remove_totp(username: Username, caller: Writer) -> object:
    """Remove an account's second factor (admin; e.g. a lost phone)."""
    def run(uow):  # type: ignore[no-untyped-def]
        _admin(uow)
        auth.remove_totp(uow, _user(uow, username)["username"])
        return _user(uow, username)
    return caller.write(run, lambda uow, row: _user_out(row), status=200)


# --- grants of power: two admins ----------------------------------------------------------------

@grants.get("", response_model=list[PowerRequestOut], openapi_extra=needs(Action.USER_MANAGE))
def list_power_requests(caller: Reader) -> list[PowerRequestOut]:
    """Grants of power awaiting a second admin, in your scope."""
    with caller.read() as uow:
        return [PowerRequestOut.model_validate(r) for r in powers.pending(uow)]


@grants.post("", response_model=PowerRequestOut, status_code=201,
             openapi_extra=needs(Action.USER_MANAGE))
def request_power(body: PowerRequestIn, caller: Writer) -> object:
    """Ask for a grant of power: an account with write rights, a role or scope change, a
    password reset or a service account. Another admin approves it; auditors see it."""
    def run(uow):  # type: ignore[no-untyped-def]
        return powers.request(uow, body.kind, body.username,
                              role=body.role.value if body.role else None, scope=body.scope,
                              display_name=body.display_name)
    return caller.write(run, lambda uow, r: PowerRequestOut.model_validate(r), body=body)


@grants.post("/{request_id}/approve", response_model=PowerRequestOut,
             openapi_extra=needs(Action.USER_MANAGE))
def approve_power(request_id: RequestId, caller: SecretWriter) -> object:
    """Approve another admin's request: the change is made now (never by the admin who
    asked, nor on your own account). A reset or a new account answers its one-time
    password, shown only now."""
    return caller.write(lambda uow: powers.approve(uow, request_id),
                        lambda uow, r: PowerRequestOut.model_validate(r), status=200)


@grants.post("/{request_id}/reject", response_model=PowerRequestOut,
             openapi_extra=needs(Action.USER_MANAGE))
def reject_power(request_id: RequestId, body: ReasonIn, caller: Writer) -> object:
    """Turn a request down (any admin in scope, the one who asked included)."""
    return caller.write(lambda uow: powers.reject(uow, request_id, body.reason),
                        lambda uow, r: PowerRequestOut.model_validate(r), status=200,
                        body=body)


# --- integration tokens ---------------------------------------------------------------------------

@tokens.get("", response_model=Page[ApiTokenOut], openapi_extra=needs(Action.USER_MANAGE))
def list_tokens(caller: Reader, username: Annotated[str | None, Query(
                    min_length=1, max_length=80, pattern=r"^[A-Za-z0-9._-]+$")] = None,
                active: bool = False, offset: Offset = 0, limit: Limit = 100
                ) -> Page[ApiTokenOut]:
    """Integration tokens of accounts in your scope (never the tokens themselves)."""
    with caller.read() as uow:
        _admin(uow)
        page = q.tokens_page(uow.repo, username=username.lower() if username else None,
                             active_only=active, offset=offset, limit=limit)
        return Page(items=[ApiTokenOut.model_validate(r) for r in page.items], total=page.total,
                    offset=offset, limit=limit)


@tokens.post("", response_model=ApiTokenCreatedOut, status_code=201,
             openapi_extra=needs(Action.USER_MANAGE))
def create_token(body: ApiTokenIn, caller: SecretWriter) -> object:
    """Create a long-lived token for an integration; the token is shown only in this answer."""
    def run(uow):  # type: ignore[no-untyped-def]
        token_id, token = auth.create_api_token(uow, body.username, body.name,
                                                expires_at=body.expires_at)
        row = q.token_in_scope(uow.repo, token_id)
        return ApiTokenCreatedOut.model_validate({**(row or {}), "token": token})
    return caller.write(run, lambda uow, out: out)


def _token(uow: UnitOfWork, token_id: int) -> dict:
    found = q.token_in_scope(uow.repo, token_id)
    if found is None:
        raise NotFound("token not found")
    return found


@tokens.get("/{token_id}", response_model=ApiTokenOut, openapi_extra=needs(Action.USER_MANAGE))
def get_token(token_id: TokenId, caller: Reader) -> ApiTokenOut:
    with caller.read() as uow:
        _admin(uow)
        return ApiTokenOut.model_validate(_token(uow, token_id))


@tokens.delete("/{token_id}", response_model=ApiTokenOut,
               openapi_extra=needs(Action.USER_MANAGE))
def revoke_token(token_id: TokenId, caller: Writer) -> object:
    """Revoke a token: it stops working at once."""
    def run(uow):  # type: ignore[no-untyped-def]
        _admin(uow)
        _token(uow, token_id)
        return auth.revoke_api_token(uow, token_id)
    return caller.write(run, lambda uow, row: ApiTokenOut.model_validate(row), status=200)


# --- webhooks -----------------------------------------------------------------------------------------

@hooks.get("", response_model=Page[WebhookOut], openapi_extra=needs(Action.USER_MANAGE))
def list_webhooks(caller: Reader, active: bool = False, offset: Offset = 0,
                  limit: Limit = 100) -> Page[WebhookOut]:
    """Webhook subscriptions in your scope."""
    with caller.read() as uow:
        _admin(uow)
        page = wq.webhooks_page(uow.repo, active_only=active, offset=offset, limit=limit)
        return Page(items=[WebhookOut.model_validate(r) for r in page.items], total=page.total,
                    offset=offset, limit=limit)


@hooks.post("", response_model=WebhookCreatedOut, status_code=201,
            openapi_extra=needs(Action.USER_MANAGE))
def create_webhook(body: WebhookIn, caller: SecretWriter) -> object:
    """Subscribe a URL to event types. Each event in your scope from now on is POSTed to it,
    signed with HMAC-SHA256 in `X-Resguardo-Signature-256`, and retried with backoff."""
    def run(uow):  # type: ignore[no-untyped-def]
        _admin(uow)
        webhook_id, secret = webhooks.register(uow, body.url, body.event_types,
                                               body.description, body.secret)
        row = wq.webhook_in_scope(uow.repo, webhook_id)
        return WebhookCreatedOut.model_validate({**(row or {}), "secret": secret})
    return caller.write(run, lambda uow, out: out)


def _webhook(uow: UnitOfWork, webhook_id: int) -> dict:
    found = wq.webhook_in_scope(uow.repo, webhook_id)
    if found is None:
        raise NotFound("webhook not found")
    return found


@hooks.get("/{webhook_id}", response_model=WebhookOut, openapi_extra=needs(Action.USER_MANAGE))
def get_webhook(webhook_id: WebhookId, caller: Reader) -> WebhookOut:
    with caller.read() as uow:
        _admin(uow)
        return WebhookOut.model_validate(_webhook(uow, webhook_id))


@hooks.delete("/{webhook_id}", response_model=WebhookOut,
              openapi_extra=needs(Action.USER_MANAGE))
def delete_webhook(webhook_id: WebhookId, caller: Writer) -> object:
    """Stop a subscription (its delivery log is kept)."""
    def run(uow):  # type: ignore[no-untyped-def]
        _admin(uow)
        webhooks.deactivate(uow, _webhook(uow, webhook_id))
        return _webhook(uow, webhook_id)
    return caller.write(run, lambda uow, row: WebhookOut.model_validate(row), status=200)


@hooks.get("/{webhook_id}/deliveries", response_model=Page[DeliveryOut],
           openapi_extra=needs(Action.USER_MANAGE))
def list_deliveries(caller: Reader, webhook_id: WebhookId,
                    state: webhooks.DeliveryState | None = None, offset: Offset = 0,
                    limit: Limit = 100) -> Page[DeliveryOut]:
    """The delivery log: each event sent, its state and every attempt (newest first)."""
    with caller.read() as uow:
        _admin(uow)
        _webhook(uow, webhook_id)
        page = wq.deliveries_page(uow.repo, webhook_id, state=state, offset=offset, limit=limit)
        return Page(items=[DeliveryOut.model_validate(r) for r in page.items], total=page.total,
                    offset=offset, limit=limit)


@hooks.post("/{webhook_id}/deliveries/{delivery_id}/retry", response_model=DeliveryOut,
            openapi_extra=needs(Action.USER_MANAGE))
def retry_delivery(webhook_id: WebhookId, delivery_id: DeliveryId, caller: Writer) -> object:
    """Queue a delivery again now (after the receiver was fixed); attempts start over."""
    def run(uow):  # type: ignore[no-untyped-def]
        _admin(uow)
        return webhooks.retry(uow, _webhook(uow, webhook_id), delivery_id)
    return caller.write(run, lambda uow, row: DeliveryOut.model_validate(row), status=200)
