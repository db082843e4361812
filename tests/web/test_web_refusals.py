"""Refusals the services raise reach a Spanish page in Spanish: sentences built
around a name or a number are raised as a template and its parameters and
translated by template from the catalogue; the ones a page meets are checked
here one by one."""

from __future__ import annotations

import pytest

from resguardo.domain.errors import (
    T_,
    Conflict,
    InsufficientAmmunition,
    InvalidTransition,
    NotFound,
    OfficerNotEligible,
    SigningUnavailable,
    ValidationFailed,
)
from resguardo.web.i18n import Lang
from resguardo.web.refusals import explain

SPANISH = Lang("es")

CASES = [
    (InsufficientAmmunition(T_("only %(balance)s rounds of %(calibre)s lot %(lot)s at "
                               "%(location)s; cannot issue %(quantity)s"), balance=10,
                            calibre="9x19mm", lot="L1", location="ARM1", quantity=1200),
     "Solo hay 10 cartuchos de 9x19mm lote L1 en ARM1."),
    (InsufficientAmmunition(T_("officer %(badge)s holds %(outstanding)s rounds of %(calibre)s "
                               "lot %(lot)s; cannot account for %(quantity)s"),
                            outstanding=1500, badge="P1", calibre="9x19mm", lot="L1",
                            quantity=1600),
     "El elemento P1 solo tiene 1,500 cartuchos de 9x19mm lote L1."),
    (ValidationFailed(T_("%(field)s must be a positive number of rounds"), field="quantity"),
     "Cartuchos: escriba un número de cartuchos mayor que cero."),
    (ValidationFailed(T_("%(field)s is implausibly large"), field="returned"),
     "Cartuchos devueltos es mucho mayor que cualquier conteo real; revise el número."),
    (ValidationFailed("nothing returned or consumed", field="returned"),
     "No se devolvió ni se justificó ningún cartucho."),
    (ValidationFailed(T_("consumed rounds need a justification: %(accepted)s"),
                      field="justification", accepted=["training", "duty_discharge", "damaged"]),
     "Los cartuchos no devueltos necesitan justificación: entrenamiento, disparo en servicio o "
     "dañados."),
    (ValidationFailed(T_("%(field)s is required"), field="lot"), "Falta Lote."),
    (ValidationFailed(T_("a transfer of %(serial)s is already awaiting approval"), field="serial",
                      serial="GLK-A100"),
     "Ya hay una solicitud de GLK-A100 en espera de aprobación."),
    (InvalidTransition(T_("firearm %(serial)s is already at %(location)s"), serial="GLK-A100",
                       location="ARM1"), "GLK-A100 ya está en ARM1."),
    (InvalidTransition(T_("inspection %(n)s is %(state)s; only a planned inspection can be "
                          "opened"), n=12, state="closed"),
     "Solo se puede abrir una revista programada."),
    (InvalidTransition(T_("inspection %(n)s is %(state)s; only an open inspection can be "
                          "closed (a closed one is never reopened: plan a new one)"), n=12,
                       state="planned"),
     "Solo se puede cerrar una revista abierta."),
    (InvalidTransition(T_("finding %(n)s is already answered and awaits the inspector's "
                          "review"), n=3), "Este hallazgo ya tiene respuesta."),
    (OfficerNotEligible(T_("officer %(badge)s is separated: no override possible"), badge="P3"),
     "El elemento P3 causó baja: no es posible una autorización excepcional."),
    (Conflict(T_("alert %(key)s is already acknowledged"), key="loss:12"),
     "Esta alerta ya fue atendida."),
    (ValidationFailed(T_("the military authority was already notified at %(when)s"),
                      when="2025-03-02T10:00:00Z"),
     "El aviso a la autoridad militar ya está registrado."),
    (NotFound("no pending transfer request for this firearm"),
     "Esta arma no tiene una solicitud de transferencia pendiente."),
    (ValidationFailed(T_("%(code)s is not an agency; locations belong to agencies"),
                      code="MUN9"),
     "MUN9 no es una corporación: las ubicaciones pertenecen a corporaciones."),
    (ValidationFailed(T_("%(field)s must be between %(low)s and %(high)s"),
                      field="max_distance", low=0, high="3"),
     "Distancia máxima debe estar entre 0 y 3."),
    (ValidationFailed("date must be YYYY-MM-DD or YYYY-MM-DDTHH:MM (UTC)", field="date"),
     "La fecha debe escribirse AAAA-MM-DD o AAAA-MM-DDTHH:MM (UTC)."),
    (Conflict(T_("refusing to sign a checkpoint: %(reason)s; run `resguardo ledger verify`"),
              reason="entry 7 differs"),
     "No se firmó el punto de control: la bitácora no es íntegra. Verifique la bitácora para "
     "ver qué no coincide."),
    (ValidationFailed(T_("a %(kind)s finding needs no answer"), field="finding",
                      kind="missing"),
     "Este tipo de hallazgo no necesita respuesta."),
    (SigningUnavailable("writes are refused: no signing key at /srv/ledger.key",
                        reason="no_key"),
     "No se puede registrar nada: este servidor no tiene la llave de firma de su bitácora (una "
     "base de datos restaurada sin su llave). La consulta sigue funcionando. Avise al "
     "administrador."),
    (SigningUnavailable("writes are refused: the key did not sign checkpoint 4",
                        reason="wrong_key"),
     "No se puede registrar nada: la llave de firma de este servidor no es la que firmó la "
     "bitácora de este registro (una base de datos restaurada sin su propia llave). La consulta "
     "sigue funcionando. Avise al administrador."),
    (SigningUnavailable("writes are refused: the signer unix:/run/s.sock does not answer",
                        reason="signer_unreachable"),
     "No se puede registrar nada: el firmador que firma la bitácora no responde. La consulta "
     "sigue funcionando. Avise al administrador."),
]


@pytest.mark.parametrize(("error", "spanish"), CASES, ids=[c[0].message[:40] for c in CASES])
def test_a_refusal_reaches_a_spanish_page_in_spanish(error, spanish):
    assert explain(error, SPANISH) == spanish


def test_english_keeps_the_sense_of_the_refusal():
    error = InsufficientAmmunition(T_("only %(balance)s rounds of %(calibre)s lot %(lot)s at "
                                      "%(location)s; cannot issue %(quantity)s"), balance=1200,
                                   calibre="9x19mm", lot="L1", location="ARM1", quantity=1500)
    assert error.message == "only 1200 rounds of 9x19mm lot L1 at ARM1; cannot issue 1500"
    assert explain(error, Lang("en")) == "Only 1,200 rounds of 9x19mm lot L1 at ARM1."


@pytest.mark.parametrize(("text", "spanish"), [
    ("entries 35..35 are not covered by a checkpoint yet",
     "El asiento 35 aún no está cubierto por un punto de control."),
    ("entries 1000..1204 are not covered by a checkpoint yet",
     "Los asientos 1,000 a 1,204 aún no están cubiertos por un punto de control."),
    ("no checkpoint has been signed: nothing vouches for the log yet",
     "No se ha firmado ningún punto de control: nada respalda todavía la bitácora."),
    ("copia.txt could not be checked: an entry below 12 is gone from both the log and the tree",
     "No se pudo comprobar copia.txt: un asiento que cubre falta tanto en la bitácora como en "
     "el árbol."),
])
def test_the_ledger_verification_notes_are_said_in_spanish(text, spanish):
    from resguardo.web.pages.ledger import note

    assert note(text, SPANISH) == spanish


def test_a_ledger_note_not_known_to_the_page_is_shown_as_written():
    from resguardo.web.pages.ledger import note

    assert note("something new", SPANISH) == "something new"
    assert note("entries 3..9 are not covered by a checkpoint yet", Lang("en")) == (
        "Entries 3 to 9 are not covered by a checkpoint yet.")
