"""The people present at a revista, as an acta circunstanciada names them: full name,
post (cargo) and the identification they showed (``INE IDMEX1234567890``,
``Credencial SEDENA A-123456``).

Typed as one line per person, ``name | post | identification`` (command line, the web's
text box), or as an object (API). Revistas recorded before this was structured hold
plain names; they read as a person with only a name.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from resguardo.domain.errors import T_, ValidationFailed

#: Longest name, post or identification accepted.
LIMIT = 200
#: Most people an acta names as present: each signs in the margin of every page, and the
#: margin holds twenty boxes a person can sign in.
MOST = 20
FIELDS = ("name", "post", "identification")


@dataclass(frozen=True, slots=True)
class Person:
    name: str
    post: str = ""
    identification: str = ""

    def as_dict(self) -> dict[str, str]:
        return {"name": self.name, "post": self.post, "identification": self.identification}

    def line(self) -> str:
        """The person as typed: ``name | post | identification``."""
        return " | ".join(x for x in (self.name, self.post, self.identification) if x)


def _clean(value: Any, field: str, n: int) -> str:
    text = " ".join(str(value or "").split())
    if not text:
        raise ValidationFailed(T_("person %(person)s present has no %(part)s; give each person "
                                  "as 'name | post | identification'"),
                               field=f"people[{n}].{field}", person=n, part=field)
    if len(text) > LIMIT:
        raise ValidationFailed(T_("the %(part)s of person %(person)s present is longer than "
                                  "%(limit)s characters"), field=f"people[{n}].{field}",
                               person=n, part=field, limit=LIMIT)
    return text


def parse_person(value: str | dict[str, Any], n: int) -> Person:
    """One person present (``n`` counts from 1, for the error): all three parts required."""
    if isinstance(value, dict):
        unknown = set(value) - set(FIELDS)
        if unknown:
            raise ValidationFailed(T_("person %(person)s present has unknown field(s) "
                                      "%(unknown)s"), field=f"people[{n}]", person=n,
                                   unknown=sorted(unknown))
        parts = [value.get(k) for k in FIELDS]
    else:
        parts = [p for p in str(value).split("|")]
        if len(parts) != 3:
            raise ValidationFailed(
                T_("person %(person)s present (%(given)s) must be written "
                   "'name | post | identification', e.g. 'Cap. Juan Ruiz Soto | Inspector de "
                   "la 15/a. Zona Militar | Credencial SEDENA A-123456'"), field=f"people[{n}]",
                person=n, given=repr(str(value).strip()[:60]))
    name, post, ident = (_clean(v, f, n) for v, f in zip(parts, FIELDS, strict=True))
    return Person(name, post, ident)


def parse_people(values: Iterable[str | dict[str, Any]]) -> list[Person]:
    """Every person given (blank lines skipped), numbered from 1 in errors."""
    given = [v for v in values if not (isinstance(v, str) and not v.strip())]
    if len(given) > MOST:
        raise ValidationFailed(T_("at most %(most)s people present can sign the acta; "
                                  "%(given)s were given"), field="people", most=MOST,
                               given=len(given))
    return [parse_person(v, n) for n, v in enumerate(given, 1)]


def stored(value: Any) -> Person:
    """A person as a revista's record holds it (a plain name before people had posts)."""
    if isinstance(value, dict):
        return Person(str(value.get("name") or ""), str(value.get("post") or ""),
                      str(value.get("identification") or ""))
    return Person(str(value))
