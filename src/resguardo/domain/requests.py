"""Requests that wait for a second person: a decommission, a transfer, an identity
correction. One of each kind may wait per weapon at a time; a chief (or, for a
transfer, a supervisor) approves it or rejects it with a written reason.

Approving is the decision of the change itself (``custody.decommission``,
``custody.send_transfer``, ``corrections.approve_identity``, each with the
two-person rule of ``custody.approve``); what is common to every kind lives here.
"""

from __future__ import annotations

from resguardo.domain.entities import Firearm, NewEvent
from resguardo.domain.errors import T_, ValidationFailed

#: The kinds of request a weapon may have waiting, and how a twin of each is refused.
_ALREADY_WAITING = {
    "decommission": T_("a decommission of %(serial)s is already awaiting approval"),
    "transfer": T_("a transfer of %(serial)s is already awaiting approval"),
    "correction": T_("a correction of %(serial)s is already awaiting approval"),
}
KINDS = tuple(_ALREADY_WAITING)


def refuse_if_pending(kind: str, serial: str, pending: bool) -> None:
    """A second request of a kind while one is waiting is refused: the approver decides
    the one on record, and a rejection cannot be side-stepped by a twin request that
    another approver signs. Once decided (approved or rejected), a new one may be made;
    it is a new request, with the two-person rule of its own."""
    if pending:
        raise ValidationFailed(_ALREADY_WAITING[kind], field="serial", serial=serial)


def reject(request_id: int, firearm: Firearm, kind: str, reason: str) -> NewEvent:
    """Close a pending request without doing what it asked, saying why."""
    if not reason.strip():
        raise ValidationFailed("say why the request is rejected", field="reason")
    return NewEvent("request.rejected", {"request_id": request_id,
                                         "firearm_id": firearm.id, "kind": kind},
                    reason=reason.strip(), org_id=firearm.agency_id,
                    subject_type="firearm", subject_id=firearm.id)
