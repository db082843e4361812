"""Officers: the people who may hold a weapon."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query

from resguardo.api import render
from resguardo.api.dependencies import Reader, Writer
from resguardo.api.routing import (
    AgencyFilter,
    Limit,
    OfficerId,
    Offset,
    agency_of,
    may_read,
    needs,
    officer,
    org_id_filter,
    router,
)
from resguardo.api.schemas.common import EventOut, Page
from resguardo.api.schemas.custody import LicenceAttachIn
from resguardo.api.schemas.registry import (
    CredentialOut,
    FirearmOut,
    OfficerIn,
    OfficerOut,
    OfficerReasonIn,
    OverrideIn,
    RecordAssignIn,
    RecordWithdrawIn,
    RenewIn,
)
from resguardo.domain.codes import OfficerStatus
from resguardo.domain.policy import Action
from resguardo.domain.registry import OfficerInput
from resguardo.services import credential, custody, registry
from resguardo.services.credential import CredentialKey
from resguardo.storage import api_queries as q

officers = router("/officers", "officers")


@officers.get("", response_model=Page[OfficerOut], openapi_extra=needs(Action.READ))
def list_officers(caller: Reader, agency: AgencyFilter = None,
                  status: OfficerStatus | None = None,
                  q_: Annotated[str | None, Query(alias="q", max_length=100,
                                                  description="Text in badge, name or CUIP.")
                                ] = None,
                  offset: Offset = 0, limit: Limit = 100) -> Page[OfficerOut]:
    """Officers in your scope."""
    with caller.read(may_lag=True) as uow:
        may_read(uow)
        page = q.officers_matching(uow.repo, agency_id=org_id_filter(uow, agency),
                                   status=status.value if status else None, q=q_,
                                   offset=offset, limit=limit)
        return Page(items=render.officers(uow, page.items), total=page.total, offset=offset,
                    limit=limit)


@officers.get("/{officer_id}", response_model=OfficerOut, openapi_extra=needs(Action.READ))
def get_officer(officer_id: OfficerId, caller: Reader) -> OfficerOut:
    with caller.read(may_lag=True) as uow:
        may_read(uow)
        return render.officers(uow, [officer(uow, officer_id)])[0]


@officers.get("/{officer_id}/firearms", response_model=list[FirearmOut],
              openapi_extra=needs(Action.READ))
def officer_firearms(officer_id: OfficerId, caller: Reader) -> list[FirearmOut]:
    """Weapons issued to the officer right now."""
    with caller.read(may_lag=True) as uow:
        may_read(uow)
        held = uow.repo.weapons_held(officer(uow, officer_id).id)
        return render.firearms(uow, held)


@officers.post("", response_model=OfficerOut, status_code=201,
               openapi_extra=needs(Action.OFFICER_MANAGE))
def create_officer(body: OfficerIn, caller: Writer) -> object:
    """Register an officer in an agency."""
    def run(uow):  # type: ignore[no-untyped-def]
        data = OfficerInput(body.badge, body.name, cuip=body.cuip,
                            credential_folio=body.credential_folio,
                            credential_expiry=body.credential_expiry,
                            qualification_expiry=body.qualification_expiry)
        ev = registry.add_officer(uow, agency_of(uow, body.agency), data, body.licence)
        return uow.repo.officer_by_id(ev.position)
    return caller.write(run, lambda uow, o: render.officers(uow, [o])[0], body=body)


def _change_status(caller: Writer, officer_id: int, body: OfficerReasonIn,
                   change) -> object:  # type: ignore[no-untyped-def]
    def run(uow):  # type: ignore[no-untyped-def]
        found = officer(uow, officer_id)
        return change(uow, uow.repo.org_unscoped(found.agency_id).code, found.badge,
                      body.reason)
    return caller.write(run, render.event, body=body)


@officers.post("/{officer_id}/suspend", response_model=EventOut, status_code=201,
               openapi_extra=needs(Action.OFFICER_MANAGE))
def suspend_officer(officer_id: OfficerId, body: OfficerReasonIn, caller: Writer) -> object:
    """Suspend an officer: no weapon may be issued to them."""
    return _change_status(caller, officer_id, body, registry.suspend_officer)


@officers.post("/{officer_id}/reinstate", response_model=EventOut, status_code=201,
               openapi_extra=needs(Action.OFFICER_MANAGE))
def reinstate_officer(officer_id: OfficerId, body: OfficerReasonIn, caller: Writer) -> object:
    """Reinstate a suspended officer."""
    return _change_status(caller, officer_id, body, registry.reinstate_officer)


@officers.post("/{officer_id}/separate", response_model=EventOut, status_code=201,
               openapi_extra=needs(Action.OFFICER_MANAGE))
def separate_officer(officer_id: OfficerId, body: OfficerReasonIn, caller: Writer) -> object:
    """Separate an officer (refused while a weapon is still issued to them)."""
    return _change_status(caller, officer_id, body, registry.separate_officer)


@officers.post("/{officer_id}/renew", response_model=EventOut, status_code=201,
               openapi_extra=needs(Action.OFFICER_MANAGE))
def renew_officer(officer_id: OfficerId, body: RenewIn, caller: Writer) -> object:
    """Record a renewed carry credential or qualification; fields left out keep their value."""
    def run(uow):  # type: ignore[no-untyped-def]
        found = officer(uow, officer_id)
        code = uow.repo.org_unscoped(found.agency_id).code
        return registry.renew_officer(uow, code, found.badge,
                                      credential_folio=body.credential_folio,
                                      credential_expiry=body.credential_expiry,
                                      qualification_expiry=body.qualification_expiry,
                                      credential_issued=body.credential_issued)
    return caller.write(run, render.event, body=body)


@officers.post("/{officer_id}/licence", response_model=EventOut, status_code=201,
               openapi_extra=needs(Action.OFFICER_MANAGE))
def attach_officer_to_licence(officer_id: OfficerId, body: LicenceAttachIn,
                              caller: Writer) -> object:
    """Put the officer on a collective licence covering his agency, or take him off (null)."""
    def run(uow):  # type: ignore[no-untyped-def]
        found = officer(uow, officer_id)
        code = uow.repo.org_unscoped(found.agency_id).code
        return registry.attach_officer(uow, code, found.badge, body.licence, body.reason)
    return caller.write(run, render.event, body=body)


@officers.post("/{officer_id}/override", response_model=EventOut, status_code=201,
               openapi_extra=needs(Action.OVERRIDE_GRANT))
def grant_override(officer_id: OfficerId, body: OverrideIn, caller: Writer) -> object:
    """Allow one issue to an officer who is not eligible (chief; recorded, expires)."""
    def run(uow):  # type: ignore[no-untyped-def]
        found = officer(uow, officer_id)
        code = uow.repo.org_unscoped(found.agency_id).code
        return custody.grant_override(uow, code, found.badge, body.reason, body.hours)
    return caller.write(run, render.event, body=body)


# --- weapons of record (arma de cargo) and the credential --------------------------------


@officers.get("/{officer_id}/weapons-of-record", response_model=list[FirearmOut],
              openapi_extra=needs(Action.READ))
def weapons_of_record(officer_id: OfficerId, caller: Reader) -> list[FirearmOut]:
    """The officer's weapons of record (arma de cargo), apart from the pool weapons he
    holds now (``/firearms``)."""
    with caller.read() as uow:
        may_read(uow)
        return render.firearms(uow, uow.repo.weapons_of_record(officer(uow, officer_id).id))


@officers.post("/{officer_id}/weapons-of-record", response_model=EventOut, status_code=201,
               openapi_extra=needs(Action.RECORD_ASSIGN))
def assign_weapon_of_record(officer_id: OfficerId, body: RecordAssignIn,
                            caller: Writer) -> object:
    """Make a weapon the officer's weapon of record (a chief; refused for a weapon lost,
    stolen, held as evidence, decommissioned, in transit or issued to someone else)."""
    def run(uow):  # type: ignore[no-untyped-def]
        found = officer(uow, officer_id)
        return credential.assign(uow, found.badge, body.serial, make=body.make,
                                 reason=body.reason)
    return caller.write(run, render.event, body=body)


@officers.post("/{officer_id}/weapons-of-record/withdraw", response_model=EventOut,
               status_code=201, openapi_extra=needs(Action.RECORD_ASSIGN))
def withdraw_weapon_of_record(officer_id: OfficerId, body: RecordWithdrawIn,
                              caller: Writer) -> object:
    """Withdraw a weapon from the officer's weapons of record (a chief, with a reason)."""
    def run(uow):  # type: ignore[no-untyped-def]
        found = officer(uow, officer_id)
        return credential.unassign(uow, found.badge, body.serial, body.reason,
                                   make=body.make)
    return caller.write(run, render.event, body=body)


@officers.post("/{officer_id}/credential", response_model=CredentialOut, status_code=201,
               openapi_extra=needs(Action.OFFICER_MANAGE))
def sign_credential(officer_id: OfficerId, caller: Writer) -> object:
    """Sign the officer's credential statement (officer, weapons of record, today) for the
    QR of his printed credential; recorded as ``export.credential``."""
    key = CredentialKey.of(caller.app.settings)

    def run(uow):  # type: ignore[no-untyped-def]
        found = officer(uow, officer_id)
        return credential.credential(uow, key, found.badge,
                                     agency_code=uow.repo.org_unscoped(found.agency_id).code)

    def out(uow, card):  # type: ignore[no-untyped-def]
        return CredentialOut(
            badge=card.officer.badge, name=card.officer.name,
            credential_folio=card.officer.credential_folio,
            credential_expiry=card.officer.credential_expiry,
            weapons_of_record=render.firearms(uow, card.weapons),
            issued_now=render.firearms(uow, card.held), statement=card.statement,
            payload=card.payload, vkey=card.vkey)
    return caller.write(run, out)
