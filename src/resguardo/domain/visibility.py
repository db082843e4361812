"""Which entries of the log a reader may see: the one rule behind every look-up by position.

An entry the reader may not see is answered exactly as an entry that does not exist
(`storage.event_queries.EventQueries.event` raises the same `NotFound` for both), so a
guessed position tells nothing. The rule:

- the system itself (no actor) sees everything;
- an entry about no organization belongs to the national level: only readers whose
  scope is the whole country see it;
- an entry about an organization is seen only by readers whose scope contains it;
- two kinds are narrower still. Entries about inspections are for the roles that order,
  conduct or audit them (a sealed inspection must stay hidden from the inspected
  agency: its armorer and chief never see an `inspection.*` entry by position; they see
  an inspection, once it may be known, through the inspection itself). Reads of sealed
  inspections and traces (`access.*`) are for the roles that audit access. Entries about
  accounts, tokens and sign-ins are for those roles and for admins.

The ledger's shape (its size, checkpoints, consistency proofs, proofs of entries one may
not read) is for the oversight roles: see `may_see_log_shape`.
"""

from __future__ import annotations

from resguardo.domain.codes import Role
from resguardo.domain.entities import Actor
from resguardo.domain.events import Event
from resguardo.domain.policy import PERMISSIONS, Action

_RESTRICTED: tuple[tuple[tuple[str, ...], tuple[Action, ...]], ...] = (
    (("inspection.",), (Action.ACCESS_LOG_READ, Action.INSPECTION_ORDER,
                        Action.INSPECTION_CONDUCT)),
    (("access.",), (Action.ACCESS_LOG_READ,)),
    (("auth.", "token.", "user."), (Action.ACCESS_LOG_READ, Action.USER_MANAGE)),
)


def kind_visible_to(role: Role, national: bool, ev: Event) -> bool:
    """The part of the rule that does not depend on where the reader's scope lies: the
    entry's kind for this role, and national entries for national readers only."""
    if ev.org_id is None and not national:
        return False
    for prefixes, actions in _RESTRICTED:
        if ev.type.startswith(prefixes):
            return any(action in PERMISSIONS[role] for action in actions)
    return True


def is_national(actor: Actor) -> bool:
    """Whether the actor's scope is the whole country (the root of the tree)."""
    return actor.scope.parent_id is None


def entry_visible(actor: Actor | None, ev: Event, org_path: str | None) -> bool:
    """Whether `actor` may see entry `ev`, about the organization at `org_path` (None when
    the entry names no organization, or names one that does not exist)."""
    if actor is None:
        return True
    if not kind_visible_to(actor.role, is_national(actor), ev):
        return False
    if ev.org_id is None:
        return True
    return org_path is not None and actor.in_scope(org_path)


def may_see_log_shape(actor: Actor | None) -> bool:
    """Whether `actor` may learn how many entries the log holds: the log's size, its
    checkpoints, consistency proofs, proofs of entries it may not read. The oversight
    roles (supervisor, inspector, auditor) and admins may; agency roles (armorer, chief)
    and investigators get inclusion proofs of the entries they may read, nothing else."""
    return actor is None or Action.LEDGER_READ in PERMISSIONS[actor.role]
