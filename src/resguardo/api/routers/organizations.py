"""Organizations (the oversight tree), their locations and licences."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query

from resguardo.api import render
from resguardo.api.dependencies import Reader, Writer
from resguardo.api.routing import (
    AgencyFilter,
    LicenceId,
    Limit,
    LocationId,
    Offset,
    OrgCode,
    agency_of,
    may_read,
    needs,
    org_id_filter,
    organization,
    router,
)
from resguardo.api.schemas.common import Page
from resguardo.api.schemas.registry import (
    LicenceIn,
    LicenceOut,
    LocationIn,
    LocationOut,
    OrganizationIn,
    OrganizationOut,
    PlaceIn,
)
from resguardo.domain.codes import LocationKind, OrgKind
from resguardo.domain.errors import NotFound
from resguardo.domain.policy import Action
from resguardo.services import registry
from resguardo.storage import api_queries as q

orgs = router("/organizations", "organizations")
locations = router("/locations", "locations")
licences = router("/licences", "licences")


@orgs.get("", response_model=Page[OrganizationOut], openapi_extra=needs(Action.READ))
def list_organizations(caller: Reader, kind: OrgKind | None = None,
                       q_: Annotated[str | None, Query(alias="q", max_length=100,
                                                       description="Text in code or name.")] = None,
                       parent: AgencyFilter = None, offset: Offset = 0,
                       limit: Limit = 100) -> Page[OrganizationOut]:
    """Organizations in your scope (your node and everything below it)."""
    with caller.read() as uow:
        may_read(uow)
        parent_id = organization(uow, parent).id if parent else None
        page = q.organizations_page(uow.repo, kind=kind.value if kind else None, q=q_,
                                    parent_id=parent_id, offset=offset, limit=limit)
        return Page(items=render.organizations(uow, page.items), total=page.total,
                    offset=offset, limit=limit)


@orgs.get("/{code}", response_model=OrganizationOut, openapi_extra=needs(Action.READ))
def get_organization(code: OrgCode, caller: Reader) -> OrganizationOut:
    with caller.read() as uow:
        may_read(uow)
        return render.organizations(uow, [organization(uow, code)])[0]


@orgs.post("", response_model=OrganizationOut, status_code=201,
           openapi_extra=needs(Action.ORG_MANAGE))
def create_organization(body: OrganizationIn, caller: Writer) -> object:
    """Add an organization below a parent (admin)."""
    def run(uow):  # type: ignore[no-untyped-def]
        ev = registry.add_organization(uow, body.code, body.name, body.kind, body.parent,
                                       time_zone=body.time_zone, city=body.city,
                                       address=body.address)
        return uow.repo.org(ev.position)
    return caller.write(run, lambda uow, org: render.organizations(uow, [org])[0], body=body)


@orgs.post("/{code}/place", response_model=OrganizationOut, status_code=201,
          openapi_extra=needs(Action.ORG_MANAGE))
def set_place(code: OrgCode, body: PlaceIn, caller: Writer) -> object:
    """Set its time zone (actas, receipts and trace requests print times in it) and the city
    and address of its armory (the place an acta names); parts not given stay (admin)."""
    def run(uow):  # type: ignore[no-untyped-def]
        org = organization(uow, code)
        registry.set_place(uow, org.code, time_zone=body.time_zone, city=body.city,
                           address=body.address)
        return org
    return caller.write(run, lambda uow, org: render.organizations(uow, [org])[0], body=body)


@locations.get("", response_model=Page[LocationOut], openapi_extra=needs(Action.READ))
def list_locations(caller: Reader, agency: AgencyFilter = None, kind: LocationKind | None = None,
                   offset: Offset = 0, limit: Limit = 100) -> Page[LocationOut]:
    """Locations (armories, vaults, stations...) in your scope."""
    with caller.read() as uow:
        may_read(uow)
        page = q.locations_page(uow.repo, agency_id=org_id_filter(uow, agency),
                                kind=kind.value if kind else None, offset=offset, limit=limit)
        return Page(items=render.locations(uow, page.items), total=page.total,
                    offset=offset, limit=limit)


def _location(uow, location_id: int) -> dict:  # type: ignore[no-untyped-def]
    found = q.location_in_scope(uow.repo, location_id)
    if found is None:
        raise NotFound("location not found")
    return found


@locations.get("/{location_id}", response_model=LocationOut, openapi_extra=needs(Action.READ))
def get_location(location_id: LocationId, caller: Reader) -> LocationOut:
    with caller.read() as uow:
        may_read(uow)
        return render.locations(uow, [_location(uow, location_id)])[0]


@locations.post("", response_model=LocationOut, status_code=201,
                openapi_extra=needs(Action.LOCATION_MANAGE))
def create_location(body: LocationIn, caller: Writer) -> object:
    """Add a location to an agency (chief of the agency, or admin)."""
    def run(uow):  # type: ignore[no-untyped-def]
        ev = registry.add_location(uow, agency_of(uow, body.agency), body.code, body.name,
                                   body.kind.value)
        return _location(uow, ev.position)
    return caller.write(run, lambda uow, row: render.locations(uow, [row])[0], body=body)


@licences.get("", response_model=Page[LicenceOut], openapi_extra=needs(Action.READ))
def list_licences(caller: Reader, offset: Offset = 0, limit: Limit = 100) -> Page[LicenceOut]:
    """Collective carry licences held in your scope."""
    with caller.read() as uow:
        may_read(uow)
        page = q.licences_page(uow.repo, offset=offset, limit=limit)
        return Page(items=render.licences(page.items), total=page.total, offset=offset,
                    limit=limit)


def _licence(uow, licence_id: int) -> dict:  # type: ignore[no-untyped-def]
    found = q.licence_in_scope(uow.repo, licence_id)
    if found is None:
        raise NotFound("licence not found")
    return found


@licences.get("/{licence_id}", response_model=LicenceOut, openapi_extra=needs(Action.READ))
def get_licence(licence_id: LicenceId, caller: Reader) -> LicenceOut:
    with caller.read() as uow:
        may_read(uow)
        return render.licences([_licence(uow, licence_id)])[0]


@licences.post("", response_model=LicenceOut, status_code=201,
               openapi_extra=needs(Action.LICENCE_MANAGE))
def create_licence(body: LicenceIn, caller: Writer) -> object:
    """Register a collective carry licence and the agencies it covers."""
    def run(uow):  # type: ignore[no-untyped-def]
        ev = registry.add_licence(uow, body.number, body.holder, body.agencies,
                                  body.valid_from, body.valid_to)
        return _licence(uow, ev.position)
    return caller.write(run, lambda uow, row: render.licences([row])[0], body=body)
