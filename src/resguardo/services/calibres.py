"""The calibres stored on weapons, checked against the vocabulary (``domain.calibres``).

Weapons registered before calibres were a list keep the text they were recorded with:
nothing rewrites the log. ``check`` reports each stored value that is not a canonical
name: the ones the vocabulary knows (``9mm`` is ``9x19mm``; trace already matches them
as their calibre) and the ones it does not (with the closest names), so an armorer
corrects them (``resguardo correct ENTRY calibre=...``).
"""

from __future__ import annotations

from typing import Any

from resguardo.domain import calibres
from resguardo.domain.policy import Action, authorize
from resguardo.storage.uow import UnitOfWork


def check(uow: UnitOfWork) -> dict[str, Any]:
    """Stored calibre values in the caller's scope that are not canonical names."""
    if uow.actor is not None:
        authorize(uow.actor, Action.READ)
    known, unknown, canonical = [], [], 0
    for value, count in uow.repo.calibre_counts():
        code = calibres.known(value)
        if code == value:
            canonical += count
        elif code is not None:
            known.append({"value": value, "weapons": count, "calibre": code})
        else:
            unknown.append({"value": value, "weapons": count,
                            "closest": calibres.closest(value)})
    return {"canonical_weapons": canonical, "known_spellings": known, "unknown": unknown}
