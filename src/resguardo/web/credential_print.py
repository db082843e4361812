"""The printed credential of an officer, in a reader's language (web page and command line)."""

from __future__ import annotations

from resguardo.reports.credential import CredentialData, CredentialWeapon, credential_pdf
from resguardo.services.credential import Credential
from resguardo.web import labels
from resguardo.web.i18n import Lang


def credential_document(card: Credential, lang: Lang, licence: str | None,
                        printed_at: str) -> bytes:
    """The PDF of ``card`` (signed already), its sentences and dates in ``lang``."""
    officer = card.officer
    weapons = [CredentialWeapon(serial=w.serial, make=w.make, model=w.model,
                                kind=lang.gettext(labels.label(labels.KIND, w.kind.value)),
                                calibre=w.calibre, folio=w.folio) for w in card.weapons]
    data = CredentialData(
        agency=card.agency.name, badge=officer.badge, officer_name=officer.name,
        cuip=officer.cuip, folio=officer.credential_folio,
        valid_until=lang.date(officer.credential_expiry) if officer.credential_expiry else None,
        licence=licence, weapons=weapons, payload=card.payload,
        statement_date=lang.date(card.statement["d"]), vkey=card.vkey, printed_at=printed_at)
    return credential_pdf(data, lang.gettext)
