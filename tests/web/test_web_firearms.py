"""Firearms pages: the list stays a fixed number of queries whatever it shows;
record, timeline, PDFs; losses, notifications, recoveries and alerts."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from pypdf import PdfReader
from sqlalchemy import event

from resguardo.domain.registry import FirearmInput
from resguardo.services import accounts, custody, registry

from world import do, look


class QueryCounter:
    """Counts the statements a request sends to the database."""

    def __init__(self, engine) -> None:  # type: ignore[no-untyped-def]
        self.engine = engine
        self.count = 0

    def __enter__(self) -> QueryCounter:
        event.listen(self.engine, "before_cursor_execute", self._seen)
        return self

    def __exit__(self, *exc: object) -> None:
        event.remove(self.engine, "before_cursor_execute", self._seen)

    def _seen(self, *args: object) -> None:
        self.count += 1


def register_many(app, n: int, start: int = 0) -> None:  # type: ignore[no-untyped-def]
    with app.work("armero1") as uow:
        for i in range(start, start + n):
            registry.register_firearm(uow, "MUN1", "ARM2", FirearmInput(
                serial=f"QC-{i:05d}", make="Beretta", calibre="9x19mm", kind="pistol",
                model="92FS"))
        uow.commit()
    with app.work("armero1") as uow:
        for i, badge in zip(range(start, start + n, 7), ("P1", "P2", "P3"), strict=False):
            custody.issue(uow, f"QC-{i:05d}", badge)
        uow.commit()


def queries_for(app, browser, url: str) -> tuple[int, str]:  # type: ignore[no-untyped-def]
    with QueryCounter(app.engine) as counter:
        response = browser.get(url)
    assert response.status_code == 200
    return counter.count, response.text


def test_the_firearms_list_takes_the_same_queries_for_5_rows_as_for_50(sqlite_world, signed_in):
    do(sqlite_world, "armero1", custody.issue, "GLK-A100", "P1")
    browser = signed_in("supervisor")
    few, html = queries_for(sqlite_world, browser, "/firearms")
    assert html.count('class="serial"') == 6  # five weapons of MUN1 and one of MUN2
    register_many(sqlite_world, 120)
    many, html = queries_for(sqlite_world, browser, "/firearms")
    assert html.count('href="/firearms/') >= 50
    assert many == few
    filtered, _ = queries_for(sqlite_world, browser,
                              "/firearms?status=issued&agency=MUN1&sort=-since&page=1")
    assert filtered <= few + 1
    assert few <= 12


def test_search_filter_sort_and_pages(sqlite_world, signed_in):
    register_many(sqlite_world, 120)
    browser = signed_in("armero1")
    first = browser.get("/firearms?sort=serial").text
    assert "1–50 de 125" in first and 'rel="next"' in first
    last = browser.get("/firearms?sort=serial&page=3").text
    assert "101–125 de 125" in last and 'rel="next"' not in last
    assert "QC-00119" in last and "GLK-A500" not in last
    desc = browser.get("/firearms?sort=-serial").text
    assert desc.index("QC-00119") < desc.index("QC-00118")
    found = browser.get("/firearms?q=qc0004").text
    assert "QC-00042" in found and "1–10 de 10" in found
    issued = browser.get("/firearms?status=issued").text
    assert "Ana Ruiz" in issued and ">GLK-A100</a>" not in issued
    none = browser.get("/firearms?q=nothing").text
    assert "Ninguna arma coincide con estos filtros." in none


def test_an_exact_serial_goes_straight_to_the_weapon_in_scope(sqlite_world, signed_in):
    armorer = signed_in("armero1")
    weapon = look(sqlite_world, None, lambda uow: uow.repo.firearm("GLK-A100"))
    # typed as read: case, spaces and separators do not matter
    page = armorer.get("/firearms?q=glk a100")
    assert page.url.path == f"/firearms/{weapon.id}"
    assert page.history and page.history[0].status_code == 303
    # a part of a serial still lists
    part = armorer.get("/firearms?q=glk-a")
    assert part.url.path == "/firearms" and "1–5 de 5" in part.text
    # within the other filters only: a stored weapon is not found among issued ones
    issued = armorer.get("/firearms?q=GLK-A100&status=issued")
    assert issued.url.path == "/firearms"
    assert "Ninguna arma coincide con estos filtros." in issued.text
    # another agency's weapon is out of the armorer's scope: no page to go to
    other = armorer.get("/firearms?q=BER-B100")
    assert other.url.path == "/firearms" and not other.history
    # one serial under two makes: the list, to choose
    do(sqlite_world, "armero1", registry.register_firearm, "MUN1", "ARM1", FirearmInput(
        serial="GLK A100", make="Taurus", calibre="9x19mm", kind="pistol"))
    both = armorer.get("/firearms?q=GLK-A100")
    assert both.url.path == "/firearms" and "1–2 de 2" in both.text


def test_the_record_shows_the_timeline_as_recorded_and_as_corrected(sqlite_world, signed_in,
                                                                     clock):
    do(sqlite_world, "armero1", custody.issue, "GLK-A100", "P1")
    ev = do(sqlite_world, "armero1", custody.report_missing, "GLK-A100", stolen=False,
            occurred_on=clock.now.date(), place="Patrulla 12", on_duty=True,
            complaint_number="FGE/1/2025", complaint_authority="FGE Jalisco")
    do(sqlite_world, "armero1", custody.correct, ev.position, {"place": "Patrulla 21"},
       "se capturó mal el número de patrulla")
    browser = signed_in("armero1")
    fid = look(sqlite_world, None, lambda uow: uow.repo.firearm("GLK-A100").id)
    both = browser.get(f"/firearms/{fid}").text
    timeline = both.split("Historial de resguardo")[1]
    assert "Asignada a elemento" in timeline and "P1 Ana Ruiz" in timeline
    assert "Reportada extraviada" in timeline and "Alta" in timeline
    assert "se capturó mal el número de patrulla" in timeline
    assert "<del>Patrulla 12</del>" in timeline and "<ins>Patrulla 21</ins>" in timeline
    corrected = browser.get(f"/firearms/{fid}?view=corrected").text.split(
        "Historial de resguardo")[1]
    assert "Lugar: Patrulla 21" in corrected
    recorded = browser.get(f"/firearms/{fid}?view=recorded").text.split(
        "Historial de resguardo")[1]
    assert "Lugar: Patrulla 12" in recorded and "Patrulla 21" not in recorded


def pdf_text(body: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(body)).pages)


def test_a_qr_label_and_a_batch_of_labels(sqlite_world, signed_in):
    browser = signed_in("armero1")
    fid = look(sqlite_world, None, lambda uow: uow.repo.firearm("GLK-A100").id)
    one = browser.get(f"/firearms/{fid}/label.pdf")
    assert one.headers["content-type"] == "application/pdf"
    assert "GLK-A100" in pdf_text(one.content)
    register_many(sqlite_world, 30)
    batch = browser.get("/firearms/labels.pdf?make=Beretta")
    reader = PdfReader(io.BytesIO(batch.content))
    assert len(reader.pages) == 2  # 30 labels, 24 a sheet
    assert "QC-00029" in pdf_text(batch.content)


def test_the_label_size_is_chosen_per_print_and_remembered(sqlite_world, signed_in):
    browser = signed_in("armero1")
    register_many(sqlite_world, 30)
    page = browser.get("/firearms/labels?make=Beretta")
    assert page.status_code == 200
    assert "30 etiquetas, una por cada arma de la lista." in page.text
    assert 'name="make" value="Beretta"' in page.text
    assert "Rollo, una etiqueta de 62 x 29 mm por página (impresora térmica)" in page.text
    assert 'value="a4-3x8" checked' in page.text  # nothing printed yet: the A4 sheet
    roll = browser.get("/firearms/labels.pdf?make=Beretta&size=roll-62x29")
    reader = PdfReader(io.BytesIO(roll.content))
    assert len(reader.pages) == 30  # one label a page on a roll
    assert round(float(reader.pages[0].mediabox.width) * 25.4 / 72) == 62
    again = browser.get("/firearms/labels?make=Beretta")
    assert 'value="roll-62x29" checked' in again.text  # the stock printed last
    fid = look(sqlite_world, None, lambda uow: uow.repo.firearm("GLK-A100").id)
    one = browser.get(f"/firearms/{fid}/label")
    assert "Una etiqueta para GLK-A100" in one.text
    letter = browser.get(f"/firearms/{fid}/label.pdf?size=letter-3x10")
    box = PdfReader(io.BytesIO(letter.content)).pages[0].mediabox
    assert round(float(box.height) * 25.4 / 72, 1) == 279.4
    bad = browser.get(f"/firearms/{fid}/label.pdf?size=a5")
    assert bad.status_code == 422 and "a4-3x8" in bad.text


def test_the_custody_receipt_names_the_officer_the_weapon_and_the_entry(sqlite_world, signed_in):
    ev = do(sqlite_world, "armero1", custody.issue, "GLK-A100", "P1")
    browser = signed_in("armero1")
    fid = look(sqlite_world, None, lambda uow: uow.repo.firearm("GLK-A100").id)
    receipt = browser.get(f"/firearms/{fid}/receipt.pdf")
    text = pdf_text(receipt.content)
    for part in ("Resguardo de arma de fuego asignada", "GLK-A100", "Ana Ruiz", "P1", "armero1",
                 str(ev.position), "Elemento que recibe"):
        assert part in text, part
    browser.post("/lang", {"lang": "en", "next": "/"}, page="/")
    english = pdf_text(browser.get(f"/firearms/{fid}/receipt.pdf").content)
    assert "Custody receipt for an issued firearm" in english
    not_issued = browser.get(f"/firearms/{look(sqlite_world, None, lambda uow: uow.repo.firearm('GLK-A200').id)}/receipt.pdf")
    assert not_issued.status_code == 422


def test_the_receipt_names_who_issued_by_full_name_and_post_in_the_agencys_time(
        sqlite_world, signed_in):
    do(sqlite_world, "admin", accounts.set_profile, "armero1", name="Juan Pérez López",
       post="Armero de la Policía Municipal 1")
    do(sqlite_world, "admin", registry.set_place, "SSP", time_zone="America/Hermosillo")
    do(sqlite_world, "armero1", custody.issue, "GLK-A100", "P1")  # 08:00 UTC: 01:00 in Sonora
    fid = look(sqlite_world, None, lambda uow: uow.repo.firearm("GLK-A100").id)
    text = " ".join(pdf_text(signed_in("armero1").get(f"/firearms/{fid}/receipt.pdf")
                             .content).split())
    assert "Juan Pérez López, Armero de la Policía Municipal 1 (armero1)" in text
    assert "2025-03-03 01:00 (America/Hermosillo, UTC-07:00)" in text


def test_report_a_loss_notify_it_and_recover_the_weapon(sqlite_world, signed_in, clock):
    browser = signed_in("armero1")
    fid = look(sqlite_world, None, lambda uow: uow.repo.firearm("GLK-A300").id)
    page = f"/firearms/{fid}"
    form = browser.get(page).text
    assert 'name="complaint_authority" required' in form
    refused = browser.post(f"{page}/loss", {"what": "lost", "occurred_on": "2025-03-02",
                                            "place": "Av. Juárez", "on_duty": "yes"}, page=page)
    assert refused.status_code == 422
    assert "Un extravío o robo necesita el número de denuncia." in refused.text
    refused = browser.post(f"{page}/loss", {"what": "stolen", "occurred_on": "2025-03-02",
                                            "place": "Av. Juárez", "on_duty": "yes",
                                            "complaint_number": "FGE/1/2025"}, page=page)
    assert "la autoridad ante la que se presentó la denuncia" in refused.text
    done = browser.post(f"{page}/loss", {"what": "lost", "occurred_on": "2025-03-02",
                                         "place": "Patrulla 12", "on_duty": "yes",
                                         "complaint_number": "FGE/1/2025",
                                         "complaint_authority": "FGE Jalisco"}, page=page)
    assert "Reporte registrado." in done.text and "Reporte de extravío" in done.text
    assert look(sqlite_world, None, lambda uow: uow.repo.firearm("GLK-A300").status.value) \
        == "lost"
    clock.advance(hours=30)  # sessions end after a shift: sign in again
    browser = signed_in("armero1")
    chief = signed_in("jefe1")
    alerts = chief.get("/alerts").text
    assert "Extravío sin aviso" in alerts and "GLK-A300" in alerts
    notified = browser.post(f"{page}/notify", {"notified_at": "", "reference": "OF-1/2025"},
                            page=page)
    assert "Aviso a la autoridad militar registrado." in notified.text
    assert "OF-1/2025" in notified.text
    recovered = browser.post(f"{page}/recover", {"held_by": "FGE Jalisco",
                                                 "circumstances": "Entregada por un vecino"},
                             page=page)
    assert "Recuperación registrada: queda asegurada" in recovered.text
    assert "Asegurada (resguardo ministerial)" in recovered.text
    assert f'action="{page}/release"' not in recovered.text   # the armorer may not release
    losses = browser.get("/losses").text
    assert "GLK-A300" in losses
    # what happened, in the status words of the one vocabulary
    assert '<span class="badge st-lost">Extraviada</span>' in losses
    chief = signed_in("jefe1")
    decided = chief.post(f"{page}/negligence", {"negligent": "yes",
                                                "reason": "Dejada sin custodia"}, page=page)
    assert "Determinación de negligencia registrada." in decided.text
    assert "Sí, hubo negligencia" in decided.text
    released = chief.post(f"{page}/release", {"location": "ARM1",
                                              "reference": "Oficio FGE/LIB/1/2025"}, page=page)
    assert "Liberación registrada" in released.text
    assert look(sqlite_world, None, lambda uow: uow.repo.firearm("GLK-A300").status.value) \
        == "in_storage"


def test_a_chief_acknowledges_an_alert_with_a_note(sqlite_world, signed_in, clock):
    do(sqlite_world, "armero1", custody.report_missing, "GLK-A400", stolen=False,
       occurred_on=clock.now.date(), place="Base norte", on_duty=True, complaint_number="FGE/1/2025",
       complaint_authority="FGE Jalisco")
    clock.advance(hours=25)
    chief = signed_in("jefe1")
    page = chief.get("/alerts").text
    assert "GLK-A400" in page
    key = page.split('name="key" value="')[1].split('"')[0]
    empty = chief.post("/alerts/ack", {"key": key, "note": " "}, page="/alerts")
    assert empty.status_code == 422
    assert "Indique qué se hizo respecto a la alerta." in empty.text
    done = chief.post("/alerts/ack", {"key": key, "note": "Oficio enviado a la zona militar"},
                      page="/alerts")
    assert "Alerta atendida." in done.text
    assert "No hay alertas abiertas." in done.text
    everything = chief.get("/alerts?all=1").text
    assert "GLK-A400" in everything and "atendida" in everything


def test_an_armorer_registers_a_firearm_and_a_duplicate_is_refused(signed_in):
    browser = signed_in("armero1")
    values = {"location": "ARM1", "serial": "NEW-0001", "make": "Glock", "model": "19",
              "calibre": "9x19mm", "kind": "pistol"}
    done = browser.post("/firearms/new", values)
    assert "Arma registrada." in done.text and "NEW-0001" in done.text
    again = browser.post("/firearms/new", values)
    assert again.status_code == 422
    assert "Glock NEW-0001 ya está registrada." in again.text


@pytest.mark.parametrize("language", ["es", "en"])
def test_the_dashboard_draws_its_charts(sqlite_world, signed_in, clock, language):
    do(sqlite_world, "armero1", custody.issue, "GLK-A100", "P1")
    do(sqlite_world, "armero2", custody.report_missing, "BER-B100", stolen=True,
       occurred_on=clock.now.date() - timedelta(days=40), place="Centro", on_duty=False,
       complaint_number="FGE/1", complaint_authority="FGE Jalisco")
    browser = signed_in("supervisor")
    if language == "en":
        browser.post("/lang", {"lang": "en", "next": "/"}, page="/")
    html = browser.get("/").text
    assert html.count("<svg class=\"chart\"") == 3
    assert ("Armas por corporación y estatus" if language == "es"
            else "Weapons by agency and status") in html
    assert "Policía Municipal 1" in html and "Policía Municipal 2" in html


def test_forms_a_role_may_not_use_are_not_offered_and_refused_when_posted(sqlite_world,
                                                                          signed_in, clock):
    do(sqlite_world, "armero1", custody.report_missing, "GLK-A400", stolen=False,
       occurred_on=clock.now.date(), place="Base norte", on_duty=True, complaint_number="FGE/1/2025",
       complaint_authority="FGE Jalisco")
    clock.advance(hours=25)
    armorer = signed_in("armero1")
    alerts = armorer.get("/alerts").text
    assert "GLK-A400" in alerts and 'action="/alerts/ack"' not in alerts
    key = look(sqlite_world, "jefe1", lambda uow: [
        a.key for a in __import__("resguardo.services.alerts", fromlist=["x"]).open_alerts(
            uow, loss_deadline=sqlite_world.settings.loss_notify_deadline,
            shift_length=sqlite_world.settings.shift_length)][0])
    refused = armorer.post("/alerts/ack", {"key": key, "note": "yo lo atiendo"}, page="/alerts")
    assert refused.status_code == 403
    assert "Su rol (Armero) no puede atender alertas." in refused.text
    supervisor = signed_in("supervisor")
    fid = look(sqlite_world, None, lambda uow: uow.repo.firearm("GLK-A100").id)
    record = supervisor.get(f"/firearms/{fid}").text
    assert f'action="/firearms/{fid}/loss"' not in record
    posted = supervisor.post(f"/firearms/{fid}/loss", {
        "what": "lost", "occurred_on": "2025-03-02", "place": "X", "on_duty": "no"},
        page=f"/firearms/{fid}")
    assert posted.status_code == 403
    assert look(sqlite_world, None, lambda uow: uow.repo.firearm("GLK-A100").status.value) \
        == "in_storage"


def test_movements_and_the_two_person_rule_from_the_weapons_page(sqlite_world, signed_in):
    armorer = signed_in("armero1")
    fid = look(sqlite_world, None, lambda uow: uow.repo.firearm("GLK-A300").id)
    page = f"/firearms/{fid}"
    moved = armorer.post(f"{page}/movement", {"action": "move", "location": "ARM2"}, page=page)
    assert "Trasladada a su nueva ubicación." in moved.text
    sent = armorer.post(f"{page}/movement", {"action": "repair_send", "shop": "Taller SEDENA"},
                        page=page)
    assert "Enviada a reparación." in sent.text
    back = armorer.post(f"{page}/movement", {"action": "repair_return", "location": "ARM1"},
                        page=page)
    assert "De regreso de reparación" in back.text
    asked = armorer.post(f"{page}/movement", {"action": "decommission_request",
                                              "reason": "Corredera fracturada"}, page=page)
    assert "Baja solicitada" in asked.text and "Baja en espera de aprobación" in asked.text
    own = armorer.post(f"{page}/movement", {"action": "decommission_approve"}, page=page)
    assert own.status_code == 403
    chief = signed_in("jefe1")
    assert "GLK-A300" in chief.get("/").text.split("En espera de una segunda persona")[1]
    approved = chief.post(f"{page}/movement", {"action": "decommission_approve"}, page=page)
    assert "Dada de baja." in approved.text
    assert look(sqlite_world, None, lambda uow: uow.repo.firearm("GLK-A300").status.value) \
        == "decommissioned"


def test_the_officers_list_also_takes_the_same_queries_whatever_it_shows(sqlite_world,
                                                                         signed_in):
    from datetime import date

    from resguardo.domain.registry import OfficerInput
    browser = signed_in("supervisor")
    few, _ = queries_for(sqlite_world, browser, "/officers")
    with sqlite_world.work("jefe1") as uow:
        for i in range(60):
            registry.add_officer(uow, "MUN1", OfficerInput(
                f"X{i:03d}", f"Elemento {i}", credential_expiry=date(2030, 1, 1),
                qualification_expiry=date(2030, 1, 1)))
        uow.commit()
    do(sqlite_world, "armero1", custody.issue, "GLK-A100", "X001")
    many, html = queries_for(sqlite_world, browser, "/officers")
    assert html.count('href="/officers/') >= 50
    assert many == few
