"""What every router shares: path and paging parameters, the permission an
operation needs (published in the OpenAPI document), and scoped look-ups of
the object a path names."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query

from resguardo.api.errors import error_responses
from resguardo.domain.entities import Firearm, Officer, Organization
from resguardo.domain.errors import NotFound, ValidationFailed
from resguardo.domain.policy import Action, authorize
from resguardo.storage import api_queries as q
from resguardo.storage.uow import UnitOfWork

MAX_ID = 2**62

Offset = Annotated[int, Query(ge=0, le=1_000_000_000, description="Rows to skip.")]
Limit = Annotated[int, Query(ge=1, le=q.MAX_LIMIT, description="Rows per page.")]
FirearmId = Annotated[int, Path(ge=1, le=MAX_ID, description="Firearm id.")]
OfficerId = Annotated[int, Path(ge=1, le=MAX_ID, description="Officer id.")]
LocationId = Annotated[int, Path(ge=1, le=MAX_ID, description="Location id.")]
LicenceId = Annotated[int, Path(ge=1, le=MAX_ID, description="Licence id.")]
Position = Annotated[int, Path(ge=0, le=MAX_ID, description="Position of the entry in the log.")]
OrgCode = Annotated[str, Path(min_length=1, max_length=64,
                              pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$",
                              description="Organization code.")]
AgencyFilter = Annotated[str | None, Query(min_length=1, max_length=64,
                                           pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$",
                                           description="Only this agency (code).")]


def router(prefix: str, tag: str) -> APIRouter:
    """A router whose operations declare every error status they can answer with."""
    return APIRouter(prefix=prefix, tags=[tag], responses=error_responses())


def needs(action: Action | str) -> dict[str, Any]:
    """``openapi_extra`` naming the permission an operation checks."""
    value = action.value if isinstance(action, Action) else action
    return {"x-resguardo-action": value}


def agency_of(uow: UnitOfWork, given: str | None) -> str:
    """The agency a request means: the one given, or the caller's own agency."""
    if given:
        return given
    if uow.actor is not None and uow.actor.scope.holds_weapons:
        return uow.actor.scope.code
    raise ValidationFailed("give the agency (your scope is not a single agency)", field="agency")


def may_read(uow: UnitOfWork) -> None:
    if uow.actor is not None:
        authorize(uow.actor, Action.READ)


def org_id_filter(uow: UnitOfWork, code: str | None) -> int | None:
    return organization(uow, code).id if code else None


def firearm(uow: UnitOfWork, firearm_id: int) -> Firearm:
    """The firearm, if it exists in the caller's scope (else the same 404 either way)."""
    try:
        return uow.repo.firearm_by_id(firearm_id)
    except NotFound:
        raise NotFound("firearm not found") from None


def firearm_ref(uow: UnitOfWork, firearm_id: int) -> tuple[str, str]:
    """Serial and make of the firearm, if it is in the caller's scope (the same 404 else)."""
    found = q.firearm_ref(uow.repo, firearm_id)
    if found is None:
        raise NotFound("firearm not found")
    return found


def officer(uow: UnitOfWork, officer_id: int) -> Officer:
    try:
        return uow.repo.officer_by_id(officer_id)
    except NotFound:
        raise NotFound("officer not found") from None


def organization(uow: UnitOfWork, code: str) -> Organization:
    try:
        return uow.repo.org(code)
    except NotFound:
        raise NotFound("organization not found") from None
