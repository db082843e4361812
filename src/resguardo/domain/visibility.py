"""Which entries of the log a reader may see: the kinds and places behind every read of them.

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
  inspections and traces (`access.*`) are for the roles that audit access, and a trace's
  record for the investigator who ran it (`OWN_RECORDS`). Entries about accounts, tokens
  and sign-ins are for those roles and for admins.

Every read of entries from the database starts from ``storage.scoped.entries``, which
builds this rule in SQL from `hidden_kinds` and `OWN_RECORDS` and adds what only the
database knows: a weapon's entries follow the weapon to the agency that holds it now, and
an inspection's entries are there only for whom may know the inspection
(``storage.scoped.inspections``: a sealed revista stays hidden from the inspected agency's
own accounts until it opens). The webhooks read through it as their owner
(``api.webhooks.owner_reads``). `kind_visible_to` states the kind part of the rule for
one entry: the tests check `hidden_kinds` against it.

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
    # an officer's desk PIN history (set, wrong, unlocked: never the PIN itself) is part of
    # the officer's record for those who keep the desk and the roster (the officer's page)
    (("auth.pin_",), (Action.ACCESS_LOG_READ, Action.USER_MANAGE, Action.CUSTODY_ISSUE,
                      Action.OFFICER_MANAGE)),
    (("auth.", "token.", "user."), (Action.ACCESS_LOG_READ, Action.USER_MANAGE)),
)


#: Kinds (prefixes) a reader always reads when the reader recorded them, whatever the role:
#: an investigator reads the record of their own traces (`services.trace.trace_log`).
OWN_RECORDS: tuple[str, ...] = ("access.trace",)


def hidden_kinds(role: Role) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """The prefixes of the entry kinds closed to ``role``, each with the prefixes inside it
    that an earlier row of the table opens to the role (the first row a kind matches
    decides): `storage.scoped.entries` turns them into SQL."""
    hidden: list[tuple[str, tuple[str, ...]]] = []
    opened: list[str] = []
    for prefixes, actions in _RESTRICTED:
        allowed = any(action in PERMISSIONS[role] for action in actions)
        for prefix in prefixes:
            if allowed:
                opened.append(prefix)
            else:
                hidden.append((prefix, tuple(o for o in opened if o.startswith(prefix))))
    return tuple(hidden)


def kind_hidden(role: Role, kind: str) -> bool:
    """Whether ``hidden_kinds`` closes ``kind`` to ``role`` (what the SQL says of it)."""
    return any(kind.startswith(prefix) and not kind.startswith(opened)
               for prefix, opened in hidden_kinds(role))


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


def may_see_log_shape(actor: Actor | None) -> bool:
    """Whether `actor` may learn how many entries the log holds: the log's size, its
    checkpoints, consistency proofs, proofs of entries it may not read. The oversight
    roles (supervisor, inspector, auditor) and admins may; agency roles (armorer, chief)
    and investigators get inclusion proofs of the entries they may read, nothing else."""
    return actor is None or Action.LEDGER_READ in PERMISSIONS[actor.role]
