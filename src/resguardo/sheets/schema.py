"""What a sheet's columns mean: fields, whether they are required, and header aliases.

Headers match without regard to case, accents, spaces, dots or underscores,
so ``No. de serie``, ``NO_DE_SERIE`` and ``nodeserie`` are one header.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

_DROPPED = str.maketrans("", "", " \t\r\n\u00a0._")


def fold_header(text: str) -> str:
    """Comparable form of a header: no case, accents, spaces, dots or underscores."""
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return bare.casefold().translate(_DROPPED)


@dataclass(frozen=True, slots=True)
class Field:
    """One column a sheet may have. ``aliases`` are written as people write them."""

    name: str
    required: bool
    aliases: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class SheetSchema:
    """The columns of one kind of sheet (registry, count, ...)."""

    name: str
    fields: tuple[Field, ...]

    def field(self, name: str) -> Field:
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(name)

    def match(self, header: str) -> str | None:
        """The field a header names, or None when it is not one of ours (a note)."""
        return self._by_alias().get(fold_header(header))

    def _by_alias(self) -> dict[str, str]:
        table = _ALIAS_TABLES.get(self)
        if table is None:
            table = {}
            for f in self.fields:
                for alias in (f.name, *f.aliases):
                    table.setdefault(fold_header(alias), f.name)
            _ALIAS_TABLES[self] = table
        return table


_ALIAS_TABLES: dict[SheetSchema, dict[str, str]] = {}

_SERIAL = (
    "serial",
    "serial number",
    "serie",
    "no. de serie",
    "número de serie",
    "matrícula",
    "matricula",
)
_MAKE = ("make", "manufacturer", "marca", "fabricante")
_LOCATION = ("location", "ubicación", "ubicacion", "armería", "depósito")

#: The agency's inventory: one row per firearm.
REGISTRY_SHEET = SheetSchema(
    "registry",
    (
        Field("serial", True, _SERIAL),
        Field("make", True, _MAKE),
        Field("model", False, ("model", "modelo")),
        Field("calibre", True, ("calibre", "caliber", "cal.")),
        Field("kind", True, ("kind", "type", "tipo", "clase")),
        Field("folio", False, ("folio", "registration", "folio de registro", "registro",
                                "registration folio")),
        Field("status", False, ("status", "estatus", "estado", "situación")),
        Field("location", False, _LOCATION),
        Field("custodian", False, ("custodian", "badge", "placa", "resguardante", "no. de placa",
                                   "en resguardo de (placa)", "held by (badge)")),
        Field("agency", False, ("agency", "corporación", "dependencia")),
        Field(
            "acquired",
            False,
            ("acquired", "acquisition date", "fecha de alta", "fecha de adquisición",
             "acquired on"),
        ),
        Field("barrel_serial", False, ("barrel serial", "serie del cañón", "matrícula del cañón")),
        Field("ballistic_id", False, ("ballistic id", "huella balística", "cihb",
                                      "identificación balística", "ballistic identification")),
        Field(
            "licence",
            False,
            ("licence", "license", "licencia", "loc", "licencia oficial colectiva"),
        ),
        Field("supplier", False, ("supplier", "proveedor")),
        Field(
            "purchase_ref",
            False,
            ("purchase reference", "purchase ref", "referencia de compra", "factura"),
        ),
    ),
)

#: An inspection count: one row per observation.
COUNT_SHEET = SheetSchema(
    "count",
    (
        Field("serial", True, _SERIAL),
        Field("location", False, _LOCATION),
        Field(
            "holder",
            False,
            ("holder", "custodian", "badge", "placa", "portador", "resguardante"),
        ),
        Field("make", False, _MAKE),
        Field("observed_at", False, ("observed at", "time", "hora", "fecha y hora")),
        Field("note", False, ("note", "notes", "observaciones")),
    ),
)
