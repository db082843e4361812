"""Which log entries a reader in scope may see through the API and webhooks.

Scope alone decides most: an entry about an organization is visible to anyone
whose scope contains it. Two kinds are narrower. Entries about inspections
(sealed ones must stay hidden from the inspected agency) and reads of them are
for the roles that audit access; entries about accounts, tokens and sign-ins
are for those roles and for admins. Entries about no organization belong to
the national level.
"""

from __future__ import annotations

from resguardo.domain.codes import Role
from resguardo.domain.events import Event
from resguardo.domain.policy import PERMISSIONS, Action

_RESTRICTED: tuple[tuple[tuple[str, ...], tuple[Action, ...]], ...] = (
    (("inspection.", "access."), (Action.ACCESS_LOG_READ,)),
    (("auth.", "token.", "user."), (Action.ACCESS_LOG_READ, Action.USER_MANAGE)),
)


def visible_to(role: Role, national: bool, ev: Event) -> bool:
    """True when a reader with this role (national scope or not) may see the entry."""
    if ev.org_id is None and not national:
        return False
    for prefixes, actions in _RESTRICTED:
        if ev.type.startswith(prefixes):
            return any(action in PERMISSIONS[role] for action in actions)
    return True
