"""Refusals the services raise reach a Spanish page in Spanish: sentences built
around a name or a number are matched by shape and translated, and the ones a
page meets are checked here one by one."""

from __future__ import annotations

import pytest

from resguardo.domain.errors import (
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
    (InsufficientAmmunition("only 10 rounds of 9x19mm lot L1 at ARM1; cannot issue 1200",
                            balance=10),
     "Solo hay 10 cartuchos de 9x19mm lote L1 en ARM1."),
    (InsufficientAmmunition("officer P1 holds 1500 rounds of 9x19mm lot L1; cannot account "
                            "for 1600", outstanding=1500),
     "El elemento P1 solo tiene 1,500 cartuchos de 9x19mm lote L1."),
    (ValidationFailed("quantity must be a positive number of rounds", field="quantity"),
     "Cartuchos: escriba un número de cartuchos mayor que cero."),
    (ValidationFailed("returned is implausibly large", field="returned"),
     "Cartuchos devueltos es mucho mayor que cualquier conteo real; revise el número."),
    (ValidationFailed("nothing returned or consumed", field="returned"),
     "No se devolvió ni se justificó ningún cartucho."),
    (ValidationFailed("consumed rounds need a justification: training, duty_discharge, damaged",
                      field="justification"),
     "Los cartuchos no devueltos necesitan justificación: entrenamiento, disparo en servicio o "
     "dañados."),
    (ValidationFailed("lot is required", field="lot"), "Falta Lote."),
    (ValidationFailed("a transfer of GLK-A100 is already awaiting approval", field="serial"),
     "Ya hay una solicitud de GLK-A100 en espera de aprobación."),
    (InvalidTransition("firearm GLK-A100 is already at ARM1"), "GLK-A100 ya está en ARM1."),
    (InvalidTransition("inspection 12 is closed; only a planned inspection can be opened"),
     "Solo se puede abrir una revista programada."),
    (InvalidTransition("inspection 12 is planned; only an open inspection can be closed (a "
                       "closed one is never reopened: plan a new one)"),
     "Solo se puede cerrar una revista abierta."),
    (InvalidTransition("finding 3 is already answered"), "Este hallazgo ya tiene respuesta."),
    (OfficerNotEligible("officer P3 is separated: no override possible"),
     "El elemento P3 causó baja: no es posible una autorización excepcional."),
    (Conflict("alert loss:12 is already acknowledged"), "Esta alerta ya fue atendida."),
    (ValidationFailed("the military authority was already notified at 2025-03-02T10:00:00Z"),
     "El aviso a la autoridad militar ya está registrado."),
    (NotFound("no pending transfer request for this firearm"),
     "Esta arma no tiene una solicitud de transferencia pendiente."),
    (ValidationFailed("MUN9 is not an agency; locations belong to agencies"),
     "MUN9 no es una corporación: las ubicaciones pertenecen a corporaciones."),
    (ValidationFailed("max_distance must be between 0 and 3", field="max_distance"),
     "Distancia máxima debe estar entre 0 y 3."),
    (ValidationFailed("date must be YYYY-MM-DD or YYYY-MM-DDTHH:MM (UTC)", field="date"),
     "La fecha debe escribirse AAAA-MM-DD o AAAA-MM-DDTHH:MM (UTC)."),
    (Conflict("refusing to sign a checkpoint: entry 7 differs; run `resguardo ledger verify`"),
     "No se firmó el punto de control: la bitácora no es íntegra. Verifique la bitácora para "
     "ver qué no coincide."),
    (ValidationFailed("a missing finding needs no answer", field="finding"),
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
    error = InsufficientAmmunition("only 1200 rounds of 9x19mm lot L1 at ARM1; cannot issue "
                                   "1500", balance=1200)
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
