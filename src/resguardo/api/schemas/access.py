"""Signing in, accounts, integration tokens and webhooks."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from resguardo.api.schemas.common import PRINTABLE, Code, Name, _Encodable
from resguardo.domain.codes import Role

Username = Annotated[str, StringConstraints(min_length=1, max_length=80, pattern=PRINTABLE),
                     _Encodable]
Password = Annotated[str, StringConstraints(min_length=1, max_length=1000), _Encodable]
TotpCode = Annotated[str, StringConstraints(max_length=16, pattern=r"^[0-9 ]*$")]
EventType = Annotated[str, StringConstraints(min_length=1, max_length=64,
                                             pattern=r"^(\*|[a-z_]+(\.[a-z_]+)*(\.\*)?)$")]


def _examples(*examples: dict[str, Any]) -> ConfigDict:
    return ConfigDict(extra="forbid", json_schema_extra={"examples": list(examples)})


class LoginIn(BaseModel):
    model_config = _examples({"username": "armero1", "password": "not-the-password"})

    username: Username
    password: Password
    totp: TotpCode | None = Field(None, description="Authenticator code, when the account "
                                                    "has a second factor.")
    new_password: Password | None = Field(
        None, description="Your own new password, when `password` is a one-time password "
                          "from an admin's reset (the answer is `password_change_required`).")


class TokenOut(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_at: datetime


class MeOut(BaseModel):
    username: str
    role: Role
    scope: str = Field(description="Code of the organization the user sees (and below).")
    scope_kind: str
    permissions: list[str] = Field(description="Actions the role may perform.")


class UserIn(BaseModel):
    model_config = _examples({"username": "armero9", "password": "a-long-secret-9",
                              "role": "armorer", "scope": "MUN1",
                              "display_name": "Armero nueve"})

    username: Username
    password: Password
    role: Role
    scope: Code = Field(description="Organization code the user sees (and below).")
    display_name: Name | None = None


class ServiceAccountIn(BaseModel):
    model_config = _examples({"username": "cerradura-arm1", "role": "armorer",
                              "scope": "MUN1", "display_name": "Smart locker ARM1"})

    username: Username
    role: Role
    scope: Code = Field(description="Organization code the integration acts in (and below).")
    display_name: Name | None = None


class ProfileIn(BaseModel):
    model_config = _examples({"name": "Juan Pérez López",
                              "post": "Armero de la Policía Municipal"})

    name: Annotated[str, StringConstraints(min_length=1, max_length=200)] | None = Field(
        None, description="Full name, as receipts, trace requests and actas print it.")
    post: Annotated[str, StringConstraints(min_length=1, max_length=200)] | None = Field(
        None, description="Post (cargo), printed beside the name.")


class ReasonIn(BaseModel):
    model_config = _examples({"reason": "Left the agency on 2026-12-01"})

    reason: Annotated[str, StringConstraints(min_length=1, max_length=2000)] = Field(
        description="Why (kept in the log).")


class SessionsEndedOut(BaseModel):
    sessions: int = Field(description="How many sessions (web and API) ended.")


class PowerRequestIn(BaseModel):
    model_config = _examples(
        {"kind": "account", "username": "armero9", "role": "armorer", "scope": "MUN1",
         "display_name": "Armero nueve"},
        {"kind": "password_reset", "username": "armero1"},
        {"kind": "role", "username": "armero1", "role": "chief", "scope": "MUN1"},
        {"kind": "service_account", "username": "cerradura-arm1", "role": "armorer",
         "scope": "MUN1"})

    kind: Literal["account", "role", "password_reset", "service_account"]
    username: Username
    role: Role | None = Field(None, description="New role (account, role, service_account).")
    scope: Code | None = Field(None, description="Organization code (account, "
                                                 "service_account; role: a new scope).")
    display_name: Name | None = None


class PowerRequestOut(BaseModel):
    id: int
    kind: str
    username: str
    details: dict[str, Any] = Field(description="Role, scope and name asked for.")
    status: Literal["pending", "approved", "rejected"]
    requested_by: int
    requested_at: str
    decided_by: int | None
    decided_at: str | None
    one_time_password: str | None = Field(
        None, description="Approving a reset or a new person's account: the one-time "
                          "password, shown only in this answer, to hand to the person "
                          "(who must replace it at the next sign-in).")


class PasswordIn(BaseModel):
    model_config = _examples({"password": "another-long-secret"})

    password: Password


class UserOut(BaseModel):
    username: str
    display_name: str
    post: str | None = Field(None, description="Post (cargo), printed beside the name.")
    role: Role
    scope: str
    active: bool
    created_at: str
    locked_until: str | None
    totp_enrolled: bool
    kind: Literal["person", "service"] = Field(
        "person", description="A person, or a service account (an integration: token only).")


class TotpOut(BaseModel):
    secret: str = Field(description="Base32 secret; shown only now.")
    uri: str = Field(description="otpauth:// URI for an authenticator app (QR code).")


class ApiTokenIn(BaseModel):
    model_config = _examples({"username": "armero1", "name": "locker at ARM1"})

    username: Username = Field(description="The account the integration acts as.")
    name: Name = Field(description="What the token is for.")
    expires_at: datetime | None = None


class ApiTokenOut(BaseModel):
    id: int
    name: str
    prefix: str = Field(description="First characters of the token, to recognise it.")
    username: str
    scope: str
    created_at: str
    expires_at: str | None
    revoked_at: str | None


class ApiTokenCreatedOut(ApiTokenOut):
    token: str = Field(description="The token itself; shown only now, stored hashed.")


class WebhookIn(BaseModel):
    model_config = _examples({"url": "https://records.example/resguardo",
                              "event_types": ["custody.*", "firearm.reported_stolen"],
                              "description": "State records system"})

    url: Annotated[str, StringConstraints(min_length=8, max_length=2000,
                                          pattern=r"^https?://[^\s]+$")]
    event_types: list[EventType] = Field(min_length=1, max_length=50, description=(
        "Event types to receive: exact types, `prefix.*`, or `*` for all."))
    description: Name | None = None
    secret: Annotated[str, StringConstraints(min_length=16, max_length=200,
                                             pattern=r"^[\x21-\x7e]+$")] | None = Field(
        None, description="Signing secret; generated when omitted.")

    @field_validator("url")
    @classmethod
    def _host(cls, value: str) -> str:
        from urllib.parse import urlsplit
        try:
            parts = urlsplit(value)
            host = parts.hostname
            _ = parts.port
        except ValueError:
            raise ValueError("not a valid URL") from None
        if not host:
            raise ValueError("the URL has no host")
        return value


class WebhookOut(BaseModel):
    id: int
    url: str
    event_types: list[str]
    scope: str
    description: str | None
    active: bool
    created_at: str


class WebhookCreatedOut(WebhookOut):
    secret: str = Field(description="HMAC-SHA256 signing secret; shown only now.")


class AttemptOut(BaseModel):
    attempt: int
    at: str
    status_code: int | None
    error: str | None
    duration_ms: int


class DeliveryOut(BaseModel):
    id: int
    event_position: int
    event_type: str
    state: Literal["pending", "delivered", "failed"]
    attempts: int
    next_attempt_at: str
    last_status: int | None
    last_error: str | None
    created_at: str
    delivered_at: str | None
    attempt_log: list[AttemptOut]
