"""Calibres as a vocabulary: each one with the names people write for it.

A weapon's calibre is stored as its canonical name (``9x19mm``, ``.223 Rem``). People
write ``9 mm Luger``, ``9mm Parabellum`` or ``9 X 19 MM`` for the same cartridge, and
``.223 Remington`` and ``5.56x45 NATO`` for two different ones (close, not the same
chamber pressure: they are kept apart). ``parse_calibre`` maps every known spelling
to its canonical name and refuses an unknown one naming the closest names.

Matching ignores case, accents, spaces, hyphens, underscores, a leading dot, the
decimal comma and the multiplication sign (``5,56 × 45`` is ``5.56x45``), so each
alias below stands for its variants too.
"""

from __future__ import annotations

import difflib
import unicodedata
from dataclasses import dataclass

from resguardo.domain.errors import T_, ValidationFailed


@dataclass(frozen=True, slots=True)
class Calibre:
    code: str
    """The canonical name, as stored and exported."""
    es: str
    """Its name in Spanish, for lists and forms."""
    en: str
    aliases: tuple[str, ...] = ()


CALIBRES: tuple[Calibre, ...] = (
    Calibre("9x19mm", "9 × 19 mm (9 mm Luger, Parabellum)", "9×19mm (9mm Luger, Parabellum)",
            ("9mm", "9 mm", "9x19", "9mm Luger", "9 mm Luger", "9mm Parabellum",
             "9 mm Parabellum", "9mm Para", "9mm NATO", "9 mm OTAN", "9 milímetros",
             "9 mm Luger Parabellum")),
    Calibre(".380 ACP", ".380 ACP (9 mm corto)", ".380 ACP (9mm short)",
            (".380", ".380 Auto", "380 ACP", "9x17mm", "9x17", "9mm corto", "9 mm corto",
             "9mm Kurz", "9mm short")),
    Calibre("9x18mm", "9 × 18 mm Makarov", "9×18mm Makarov",
            ("9x18", "9mm Makarov", "9 mm Makarov", "9x18 Makarov")),
    Calibre(".38 Special", ".38 Especial", ".38 Special",
            (".38 Spl", ".38 Especial", "38 Special", "38 especial", ".38 Esp", ".38 SPL")),
    Calibre(".38 Super", ".38 Súper", ".38 Super", (".38 Super Auto", "38 super", ".38 Súper")),
    Calibre(".357 Magnum", ".357 Magnum", ".357 Magnum", (".357", ".357 Mag", "357 Magnum")),
    Calibre(".40 S&W", ".40 S&W", ".40 S&W", (".40", ".40 SW", "40 S&W", ".40 Smith & Wesson",
                                            "10x22mm")),
    Calibre(".45 ACP", ".45 ACP", ".45 ACP", (".45", ".45 Auto", "45 ACP", "11.43x23mm",
                                            "11.43 mm")),
    Calibre("10mm Auto", "10 mm Auto", "10mm Auto", ("10mm", "10 mm", "10x25mm")),
    Calibre(".22 LR", ".22 LR", ".22 LR", (".22", ".22 Long Rifle", "22 LR", ".22 largo")),
    Calibre("5.7x28mm", "5.7 × 28 mm", "5.7×28mm", ("5.7x28", "5.7 mm", "5.7mm FN")),
    Calibre("4.6x30mm", "4.6 × 30 mm", "4.6×30mm", ("4.6x30", "4.6 mm")),
    Calibre("5.56x45mm", "5.56 × 45 mm OTAN", "5.56×45mm NATO",
            ("5.56x45", "5.56 NATO", "5.56 OTAN", "5.56x45 NATO", "5.56x45 OTAN",
             "5.56x45mm NATO", "5.56 mm", "5.56mm", "5.56")),
    Calibre(".223 Rem", ".223 Remington", ".223 Remington",
            (".223", ".223 Remington", "223 Rem", "223 Remington", ".223 Rem.")),
    Calibre("7.62x39mm", "7.62 × 39 mm", "7.62×39mm", ("7.62x39", "7.62 x 39 mm")),
    Calibre("7.62x51mm", "7.62 × 51 mm OTAN", "7.62×51mm NATO",
            ("7.62x51", "7.62 NATO", "7.62 OTAN", "7.62x51 NATO", "7.62x51 OTAN",
             "7.62x51mm NATO")),
    Calibre(".308 Win", ".308 Winchester", ".308 Winchester",
            (".308", ".308 Winchester", "308 Win")),
    Calibre("12 ga", "Calibre 12 (escopeta)", "12 gauge",
            ("12 gauge", "12GA", "12 G", "cal. 12", "calibre 12", "12/70", "12/76", "12")),
    Calibre("20 ga", "Calibre 20 (escopeta)", "20 gauge",
            ("20 gauge", "20GA", "cal. 20", "calibre 20", "20")),
    Calibre(".50 BMG", ".50 BMG", ".50 BMG", (".50", "12.7x99mm", "12.7x99")),
)


def fold_calibre(text: str) -> str:
    """The form calibres are matched in: ``' 5,56 × 45 MM '`` -> ``'5.56x45mm'``."""
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()
    bare = bare.replace("×", "x").replace(",", ".").replace("milimetros", "mm")
    bare = "".join(ch for ch in bare if not ch.isspace() and ch not in "-_")
    for word in ("calibre", "cal."):  # "calibre 12", "cal. .38 especial"
        if bare.startswith(word) and len(bare) > len(word):
            bare = bare[len(word):]
            break
    return bare.lstrip(".").rstrip(".")


def _index() -> dict[str, str]:
    index: dict[str, str] = {}
    for calibre in CALIBRES:
        for name in (calibre.code, calibre.es, calibre.en, *calibre.aliases):
            key = fold_calibre(name)
            other = index.setdefault(key, calibre.code)
            if other != calibre.code:  # a spelling of two calibres would be a silent error
                raise ValueError(f"{name!r} names both {other} and {calibre.code}")
    return index


BY_NAME: dict[str, str] = _index()
BY_CODE: dict[str, Calibre] = {c.code: c for c in CALIBRES}


def known(text: str) -> str | None:
    """The canonical name of ``text``, or None when it names no calibre of the list."""
    return BY_NAME.get(fold_calibre(text or ""))


def closest(text: str, n: int = 3) -> list[str]:
    """The canonical names whose spellings come closest to ``text`` (difflib)."""
    names = difflib.get_close_matches(fold_calibre(text or ""), list(BY_NAME), n=12, cutoff=0.5)
    out: list[str] = []
    for name in names:
        code = BY_NAME[name]
        if code not in out:
            out.append(code)
    return out[:n]


def parse_calibre(text: str, field: str = "calibre") -> str:
    """The canonical calibre ``text`` means; ``ValidationFailed`` naming the closest names."""
    code = known(text)
    if code is None:
        near = closest(text)
        if near:
            raise ValidationFailed(T_("unknown calibre %(given)s; closest: %(closest)s"),
                                   field=field, value=text, closest=near, given=repr(text))
        raise ValidationFailed(T_("unknown calibre %(given)s; see `resguardo calibres` for "
                                  "the list"), field=field, value=text, closest=near,
                               given=repr(text))
    return code


def label(code: str, language: str = "es") -> str:
    """The calibre's name in ``language``; an unknown stored value as it was written."""
    found = BY_CODE.get(code)
    if found is None:
        return code
    return found.es if language == "es" else found.en
