"""Who may do what, where: permissions are data (role x action) plus scope.

The server enforces this for every operation, whatever the entry point; an
object outside the caller's scope is reported exactly as a missing one.
"""

from __future__ import annotations

from enum import StrEnum

from resguardo.domain.codes import Role
from resguardo.domain.entities import Actor
from resguardo.domain.errors import NotFound, PermissionDenied


class Action(StrEnum):
    READ = "read"
    FIREARM_REGISTER = "firearm.register"
    CUSTODY_ISSUE = "custody.issue"
    CUSTODY_RETURN = "custody.return"
    FIREARM_MOVE = "firearm.move"
    FIREARM_REPAIR = "firearm.repair"
    FIREARM_REPORT_LOSS = "firearm.report_loss"
    FIREARM_NOTIFY_LOSS = "firearm.notify_loss"
    FIREARM_RECOVER = "firearm.recover"
    FIREARM_RELEASE = "firearm.release"
    """Record that the authority holding a recovered weapon as evidence gave it back."""
    NEGLIGENCE_DETERMINE = "negligence.determine"
    RECORD_ASSIGN = "firearm.assign_of_record"
    """Assign or withdraw an officer's weapon of record (arma de cargo)."""
    DECOMMISSION_REQUEST = "decommission.request"
    DECOMMISSION_APPROVE = "decommission.approve"
    TRANSFER_REQUEST = "transfer.request"
    TRANSFER_APPROVE = "transfer.approve"
    TRANSFER_RECEIVE = "transfer.receive"
    CORRECT = "entry.correct"
    CORRECTION_APPROVE = "correction.approve"
    OVERRIDE_GRANT = "override.grant"
    OFFICER_MANAGE = "officer.manage"
    AMMO_MANAGE = "ammunition.manage"
    ALERT_ACK = "alert.ack"
    INSPECTION_ORDER = "inspection.order"
    INSPECTION_CONDUCT = "inspection.conduct"
    TRACE = "trace"
    LEDGER_READ = "ledger.read"
    """The log's shape: its size, checkpoints, consistency proofs (oversight roles)."""
    LEDGER_VERIFY = "ledger.verify"
    ACCESS_LOG_READ = "access_log.read"
    ORG_MANAGE = "organization.manage"
    LOCATION_MANAGE = "location.manage"
    LICENCE_MANAGE = "licence.manage"
    LICENCE_DECLARE = "licence.declare"
    """Put an agency's weapons on its collective licence or take them off (altas y bajas)."""
    USER_MANAGE = "user.manage"
    FINDING_ANSWER = "finding.answer"


A = Action
_ARMORER = {
    A.READ, A.FIREARM_REGISTER, A.CUSTODY_ISSUE, A.CUSTODY_RETURN, A.FIREARM_MOVE,
    A.FIREARM_REPAIR, A.FIREARM_REPORT_LOSS, A.FIREARM_NOTIFY_LOSS, A.FIREARM_RECOVER,
    A.DECOMMISSION_REQUEST, A.TRANSFER_REQUEST, A.TRANSFER_RECEIVE, A.CORRECT, A.AMMO_MANAGE,
    A.FINDING_ANSWER, A.LICENCE_DECLARE,
}

PERMISSIONS: dict[Role, frozenset[Action]] = {
    Role.ARMORER: frozenset(_ARMORER),
    Role.CHIEF: frozenset({
        A.READ, A.DECOMMISSION_APPROVE, A.TRANSFER_APPROVE, A.CORRECTION_APPROVE, A.ALERT_ACK,
        A.OVERRIDE_GRANT, A.OFFICER_MANAGE, A.FIREARM_NOTIFY_LOSS, A.LOCATION_MANAGE,
        A.FINDING_ANSWER, A.FIREARM_RELEASE, A.NEGLIGENCE_DETERMINE, A.LICENCE_DECLARE,
        A.RECORD_ASSIGN,
    }),
    Role.SUPERVISOR: frozenset({
        A.READ, A.TRANSFER_APPROVE, A.TRANSFER_RECEIVE, A.INSPECTION_ORDER, A.ALERT_ACK,
        A.LICENCE_MANAGE, A.LEDGER_READ,
    }),
    Role.INSPECTOR: frozenset({A.READ, A.INSPECTION_ORDER, A.INSPECTION_CONDUCT, A.LEDGER_READ}),
    Role.INVESTIGATOR: frozenset({A.READ, A.TRACE}),
    Role.AUDITOR: frozenset({A.READ, A.LEDGER_READ, A.LEDGER_VERIFY, A.ACCESS_LOG_READ, A.TRACE}),
    Role.ADMIN: frozenset({
        A.READ, A.ORG_MANAGE, A.LOCATION_MANAGE, A.LICENCE_MANAGE, A.USER_MANAGE,
        A.LEDGER_READ, A.LEDGER_VERIFY, A.OFFICER_MANAGE,
    }),
}

#: Roles whose scope must be a single agency (they act on its registry).
AGENCY_ROLES = frozenset({Role.ARMORER, Role.CHIEF})

#: Actions a service account (an integration) never takes, whatever its role: both
#: halves of every two-person rule (the report and its approval), and managing
#: accounts. A two-person rule needs two people; a token is nobody.
PEOPLE_ONLY = frozenset({
    A.DECOMMISSION_REQUEST, A.DECOMMISSION_APPROVE, A.TRANSFER_REQUEST, A.TRANSFER_APPROVE,
    A.FIREARM_REPORT_LOSS, A.CORRECT, A.OVERRIDE_GRANT, A.USER_MANAGE, A.NEGLIGENCE_DETERMINE,
    A.FIREARM_RELEASE, A.RECORD_ASSIGN,
})


def may(actor: Actor, action: Action) -> bool:
    if actor.is_service and action in PEOPLE_ONLY:
        return False
    return action in PERMISSIONS[actor.role]


def authorize(actor: Actor, action: Action, target_path: str | None = None,
              what: str = "object") -> None:
    """Refuse unless the role allows ``action`` and the target lies in the actor's scope.

    Out of scope answers ``NotFound``, as if the object did not exist, so a
    guess at an identifier reveals nothing.
    """
    if target_path is not None and not actor.in_scope(target_path):
        raise NotFound(f"{what} not found")
    if actor.is_service and action in PEOPLE_ONLY:
        raise PermissionDenied(
            f"a service account may not {action.value.replace('.', ' ').replace('_', ' ')}: "
            "a person must", role=actor.role.value, action=action.value, account="service")
    if action not in PERMISSIONS[actor.role]:
        raise PermissionDenied(
            f"role {actor.role.value} may not {action.value.replace('.', ' ').replace('_', ' ')}",
            role=actor.role.value, action=action.value)
