"""An officer's custody history, transfers received by the receiving agency,
and ammunition: stock, movements and the armorer's forms, over HTTP."""

from __future__ import annotations

from test_web_firearms import queries_for
from web_support import shown

from resguardo.services import ammunition, custody

from world import do, look


def officer_id(app, badge: str, agency: str = "MUN1") -> int:  # type: ignore[no-untyped-def]
    return look(app, None, lambda uow: uow.repo.officer(uow.repo.org(agency).id, badge).id)


def firearm_id(app, serial: str) -> int:  # type: ignore[no-untyped-def]
    return look(app, None, lambda uow: uow.repo.firearm(serial).id)


# --- an officer's custody history -----------------------------------------------------------


def test_the_officers_record_lists_every_issue_and_return_with_weapon_time_and_armorer(
        sqlite_world, signed_in, clock):
    do(sqlite_world, "armero1", custody.issue, "GLK-A100", "P1")
    clock.advance(hours=8)
    do(sqlite_world, "armero1", custody.return_, "GLK-A100", "ARM2")
    do(sqlite_world, "armero1", custody.issue, "GLK-A200", "P1")
    do(sqlite_world, "armero1", custody.issue, "GLK-A300", "P2")  # someone else's
    page = signed_in("jefe1").get(f"/officers/{officer_id(sqlite_world, 'P1')}").text
    history = page.split("Historial de resguardo")[1].split("</section>")[0]
    rows = history.split("<tbody>")[1].split("</tr>")[:-1]
    assert len(rows) == 3
    assert "Asignada a elemento" in rows[0] and "GLK-A200" in rows[0]  # newest first
    assert "Devuelta a la armería" in rows[1] and "GLK-A100" in rows[1] and "ARM2" in rows[1]
    assert "Asignada a elemento" in rows[2] and "GLK-A100" in rows[2]
    assert all("armero1" in row for row in rows)
    assert f'href="/firearms/{firearm_id(sqlite_world, "GLK-A200")}"' in rows[0]
    assert "GLK-A300" not in history


def test_a_long_custody_history_comes_in_pages_and_takes_the_same_queries(sqlite_world,
                                                                          signed_in):
    chief = signed_in("jefe1")
    url = f"/officers/{officer_id(sqlite_world, 'P1')}"
    assert "Aún no se ha asignado ningún arma a este elemento." in chief.get(url).text
    do(sqlite_world, "armero1", custody.issue, "GLK-A100", "P1")
    do(sqlite_world, "armero1", custody.return_, "GLK-A100", "ARM1")
    few, _ = queries_for(sqlite_world, chief, url)
    for _ in range(13):  # 28 entries in all: more than one page
        do(sqlite_world, "armero1", custody.issue, "GLK-A100", "P1")
        do(sqlite_world, "armero1", custody.return_, "GLK-A100", "ARM1")
    many, first = queries_for(sqlite_world, chief, url)
    assert many == few
    history = first.split("Historial de resguardo")[1].split("</section>")[0]
    assert history.count("<tr>") == 1 + 25 and 'rel="next"' in history
    second = chief.get(f"{url}?page=2").text.split("Historial de resguardo")[1]
    assert second.split("</section>")[0].count("<tr>") == 1 + 3
    assert 'rel="prev"' in second and 'rel="next"' not in second.split("</section>")[0]


def test_another_agencys_officer_stays_out_of_reach(sqlite_world, signed_in):
    response = signed_in("jefe2").get(f"/officers/{officer_id(sqlite_world, 'P1')}")
    assert response.status_code == 404 and "Ana Ruiz" not in response.text


# --- transfers ------------------------------------------------------------------------------


def send(app, serial: str = "GLK-A500", to: str = "MUN2") -> int:  # type: ignore[no-untyped-def]
    do(app, "armero1", custody.request_transfer, serial, to, "Reasignación a zona sur")
    do(app, "jefe1", custody.approve_transfer, serial)
    return firearm_id(app, serial)


def test_the_receiving_armorer_receives_a_weapon_in_transit_from_the_transfers_page(
        sqlite_world, signed_in):
    fid = send(sqlite_world)
    receiver = signed_in("armero2")
    assert "1 arma en tránsito espera que la reciban." in receiver.get("/").text
    listing = receiver.get("/transfers").text
    incoming = listing.split("En camino a su corporación")[1].split("</section>")[0]
    assert "GLK-A500" in incoming and "Policía Municipal 1" in incoming
    assert 'action="/transfers/receive"' in incoming
    assert receiver.get(f"/firearms/{fid}").status_code == 404  # still on the sender's books
    sender = signed_in("armero1").get("/transfers").text
    assert "GLK-A500" in sender.split("Enviadas, sin recibir")[1].split("</section>")[0]
    assert "Nada en tránsito desde su corporación" not in sender
    done = receiver.post("/transfers/receive", {"firearm": str(fid), "location": "ARM1"},
                         page="/transfers")
    assert "Transferencia recibida" in done.text
    assert "Ningún arma viene en camino a su corporación." in done.text
    assert "en tránsito espera" not in receiver.get("/").text
    record = receiver.get(f"/firearms/{fid}")
    assert record.status_code == 200 and "En armería" in record.text
    moved = look(sqlite_world, None, lambda uow: uow.repo.firearm("GLK-A500"))
    assert moved.status.value == "in_storage"
    assert look(sqlite_world, None, lambda uow: uow.repo.org_unscoped(moved.agency_id).code) \
        == "MUN2"


def test_a_supervisor_receives_from_the_weapons_page(sqlite_world, signed_in):
    fid = send(sqlite_world)
    supervisor = signed_in("supervisor")
    record = supervisor.get(f"/firearms/{fid}").text
    assert "En tránsito a Policía Municipal 2" in record
    done = supervisor.post("/transfers/receive", {"firearm": str(fid), "location": "ARM1",
                                                  "back": "firearm"}, page=f"/firearms/{fid}")
    assert done.url.path == f"/firearms/{fid}" and "Transferencia recibida" in done.text


def test_receiving_is_refused_to_the_sender_to_a_chief_and_to_a_third_agency(sqlite_world,
                                                                            signed_in):
    fid = send(sqlite_world)
    sender = signed_in("armero1")
    assert 'action="/transfers/receive"' not in sender.get(f"/firearms/{fid}").text
    refused = sender.post("/transfers/receive", {"firearm": str(fid), "location": "ARM1"},
                          page="/transfers")
    assert refused.status_code == 422 and 'class="refusal"' in refused.text
    chief = signed_in("jefe2")
    page = chief.get("/transfers").text
    assert "GLK-A500" in page and 'action="/transfers/receive"' not in page
    denied = chief.post("/transfers/receive", {"firearm": str(fid), "location": "ARM1"},
                        page="/transfers")
    assert denied.status_code == 403 and "no puede recibir una transferencia" in denied.text
    third = signed_in("armero3")
    assert "GLK-A500" not in third.get("/transfers").text
    assert third.post("/transfers/receive", {"firearm": str(fid), "location": "ARM1"},
                      page="/transfers").status_code == 422
    assert look(sqlite_world, None, lambda uow: uow.repo.firearm("GLK-A500").status.value) \
        == "in_transit"


def test_a_location_of_another_agency_is_refused_in_words(sqlite_world, signed_in):
    fid = send(sqlite_world)
    refused = signed_in("armero2").post("/transfers/receive", {
        "firearm": str(fid), "location": "ARM9"}, page="/transfers")
    assert refused.status_code == 422
    assert "No existe la ubicación ARM9 en esta corporación." in refused.text


def test_pending_transfers_wait_on_the_page_with_a_link_for_the_sender_only(sqlite_world,
                                                                           signed_in):
    do(sqlite_world, "armero1", custody.request_transfer, "GLK-A400", "MUN2", "Préstamo")
    fid = firearm_id(sqlite_world, "GLK-A400")
    chief = signed_in("jefe1").get("/transfers").text
    waiting = chief.split("En espera de aprobación")[1].split("</section>")[0]
    assert f'href="/firearms/{fid}"' in waiting and "Préstamo" in waiting
    receiver = signed_in("jefe2")
    listing = receiver.get("/transfers").text
    assert "GLK-A400" in listing and f'href="/firearms/{fid}"' not in listing
    dashboard = receiver.get("/").text.split("En espera de una segunda persona")[1]
    assert "GLK-A400" in dashboard and f'href="/firearms/{fid}"' not in dashboard
    sender = signed_in("jefe1").get("/").text.split("En espera de una segunda persona")[1]
    assert f'href="/firearms/{fid}"' in sender


# --- ammunition -----------------------------------------------------------------------------


def test_the_armorer_receives_issues_takes_back_and_uses_rounds(sqlite_world, signed_in):
    armorer = signed_in("armero1")
    empty = armorer.get("/ammunition").text
    assert "No hay cartuchos en existencia." in empty
    got = armorer.post("/ammunition/receive", {"location": "ARM1", "calibre": "9x19mm",
                                               "lot": "L-2025-01", "quantity": "500",
                                               "source": "Remisión 88"}, page="/ammunition")
    assert "Cartuchos recibidos en existencia." in got.text
    out = armorer.post("/ammunition/issue", {"location": "ARM1", "badge": "p1",
                                             "calibre": "9x19mm", "lot": "L-2025-01",
                                             "quantity": "50"}, page="/ammunition")
    assert "Cartuchos entregados al elemento." in out.text
    back = armorer.post("/ammunition/return", {
        "location": "ARM1", "badge": "P1", "calibre": "9x19mm", "lot": "L-2025-01",
        "returned": "45", "consumed": "5", "justification": "duty_discharge",
        "incident": "INC-7"}, page="/ammunition")
    assert "Cartuchos conciliados." in back.text
    used = armorer.post("/ammunition/consume", {
        "location": "ARM1", "calibre": "9x19mm", "lot": "L-2025-01", "quantity": "20",
        "justification": "training"}, page="/ammunition")
    assert "Uso de cartuchos de existencia registrado." in used.text
    stock = used.text.split("En existencia")[1].split("</section>")[0]
    assert "L-2025-01" in stock and ">475<" in stock  # 500 - 50 + 45 - 20
    moves = used.text.split("Movimientos")[1].split("</section>")[0]
    assert moves.count("<tr>") == 1 + 4
    assert "Disparo en servicio" in moves and "INC-7" in moves and "Remisión 88" in moves
    assert "Entrenamiento" in moves and "Ana Ruiz" in moves
    stock_rows = look(sqlite_world, "armero1", lambda uow: uow.repo.ammo_stock())
    assert [r["quantity"] for r in stock_rows] == [475]


def test_ammunition_refusals_are_in_spanish_and_change_nothing(sqlite_world, signed_in):
    do(sqlite_world, "armero1", ammunition.receive, "MUN1", "ARM1", "9x19mm", "L1", 10)
    armorer = signed_in("armero1")
    short = armorer.post("/ammunition/issue", {"location": "ARM1", "badge": "P1",
                                               "calibre": "9x19mm", "lot": "L1",
                                               "quantity": "11"}, page="/ammunition")
    assert short.status_code == 422
    assert "Solo hay 10 cartuchos de 9x19mm lote L1 en ARM1." in short.text
    words = armorer.post("/ammunition/receive", {"location": "ARM1", "calibre": "9x19mm",
                                                 "lot": "L1", "quantity": "diez"},
                         page="/ammunition")
    assert words.status_code == 422
    assert "Cartuchos: escriba un número entero de cartuchos." in words.text
    why = armorer.post("/ammunition/consume", {"location": "ARM1", "calibre": "9x19mm",
                                               "lot": "L1", "quantity": "2",
                                               "justification": "duty_discharge"},
                       page="/ammunition")
    assert why.status_code == 422
    assert "Un disparo en servicio necesita el número de incidente." in why.text
    assert 'value="2"' in why.text  # the form keeps what was typed
    assert look(sqlite_world, "armero1", lambda uow: uow.repo.ammo_stock())[0]["quantity"] == 10


def test_ammunition_forms_are_only_for_the_armorer_and_stay_in_scope(sqlite_world, signed_in):
    do(sqlite_world, "armero1", ammunition.receive, "MUN1", "ARM1", "9x19mm", "L1", 10)
    do(sqlite_world, "armero2", ammunition.receive, "MUN2", "ARM1", "5.56x45mm", "R7", 30)
    supervisor = signed_in("supervisor")
    page = supervisor.get("/ammunition").text
    assert "L1" in page and "R7" in page and 'action="/ammunition/receive"' not in page
    assert 'action="/ammunition/receive"' not in signed_in("inspector").get("/ammunition").text
    denied = supervisor.post("/ammunition/receive", {"location": "ARM1", "calibre": "9x19mm",
                                                     "lot": "L1", "quantity": "5",
                                                     "agency": "MUN1"}, page="/ammunition")
    assert denied.status_code == 403 and "no puede administrar cartuchos" in denied.text
    armorer = signed_in("armero1")
    mine = shown(armorer.get("/ammunition").text)  # a CSRF token may hold "R7"
    assert "L1" in mine and "R7" not in mine
    theirs = armorer.post("/ammunition/receive", {"agency": "MUN2", "location": "ARM1",
                                                  "calibre": "9x19mm", "lot": "X",
                                                  "quantity": "5"}, page="/ammunition")
    assert theirs.status_code == 422 and "No existe la dependencia MUN2 en su ámbito." in theirs.text
    assert sorted(r["lot"] for r in look(sqlite_world, None,
                                         lambda uow: uow.repo.ammo_stock())) == ["L1", "R7"]


def test_the_ammunition_page_takes_the_same_queries_for_few_and_many_movements(sqlite_world,
                                                                              signed_in):
    armorer = signed_in("armero1")
    do(sqlite_world, "armero1", ammunition.receive, "MUN1", "ARM1", "9x19mm", "L1", 1000)
    do(sqlite_world, "armero1", ammunition.issue, "MUN1", "ARM1", "P1", "9x19mm", "L1", 3)
    few, _ = queries_for(sqlite_world, armorer, "/ammunition")
    for i in range(30):
        do(sqlite_world, "armero1", ammunition.issue, "MUN1", "ARM1", ("P1", "P2")[i % 2],
           "9x19mm", "L1", 3)
        do(sqlite_world, "armero1", ammunition.give_back, "MUN1", "ARM1", ("P1", "P2")[i % 2],
           "9x19mm", "L1", 3)
    many, html = queries_for(sqlite_world, armorer, "/ammunition")
    assert many == few
    moves = html.split("Movimientos")[1].split("</section>")[0]
    assert moves.count("<tr>") == 1 + 50 and 'rel="next"' in moves


def test_the_officers_other_entries_are_bounded_to_the_latest(sqlite_world, signed_in):
    do(sqlite_world, "armero1", ammunition.receive, "MUN1", "ARM1", "9x19mm", "L1", 1000)
    for _ in range(30):  # 60 entries about the officer
        do(sqlite_world, "armero1", ammunition.issue, "MUN1", "ARM1", "P3", "9x19mm", "L1", 2)
        do(sqlite_world, "armero1", ammunition.give_back, "MUN1", "ARM1", "P3", "9x19mm", "L1",
           2)
    page = signed_in("jefe1").get(f"/officers/{officer_id(sqlite_world, 'P3')}").text
    others = page.split("Otros registros")[1].split("</section>")[0]
    assert others.count("<li") == 50
    assert "Se muestran los 50 registros más recientes" in others
    assert "Cartuchos devueltos" in others and "2 devueltos, 0 no" in others


def test_the_new_pages_speak_english_when_asked(sqlite_world, signed_in):
    send(sqlite_world)
    do(sqlite_world, "armero2", ammunition.receive, "MUN2", "ARM1", "9x19mm", "L1", 10)
    armorer = signed_in("armero2")
    armorer.post("/lang", {"lang": "en", "next": "/"}, page="/")
    transfers = armorer.get("/transfers").text.split("<main")[1]
    assert "On their way to you" in transfers and "Receive GLK-A500" in transfers
    assert "corporación" not in transfers and "Recibir" not in transfers
    rounds = armorer.get("/ammunition").text.split("<main")[1]
    assert "In stock" in rounds and "Rounds received" in rounds
    assert "Cartuchos" not in rounds and "existencia" not in rounds
    refused = armorer.post("/ammunition/issue", {"location": "ARM1", "badge": "Q1",
                                                 "calibre": "9x19mm", "lot": "L1",
                                                 "quantity": "11"}, page="/ammunition")
    assert "Only 10 rounds of 9x19mm lot L1 at ARM1." in refused.text


def test_the_transfer_form_offers_the_other_agencies_by_code(sqlite_world, signed_in):
    fid = firearm_id(sqlite_world, "GLK-A400")
    page = signed_in("armero1").get(f"/firearms/{fid}").text
    choices = page.split('<datalist id="agency-codes">')[1].split("</datalist>")[0]
    assert 'value="MUN2">Policía Municipal 2<' in choices and 'value="MUN3"' in choices
    assert 'value="MUN1"' not in choices and 'value="SSP"' not in choices
    assert "agency-codes" not in signed_in("supervisor").get(f"/firearms/{fid}").text


# --- a weapon's timeline ----------------------------------------------------------------------


def test_a_long_weapon_timeline_comes_in_pages_newest_first_with_the_same_queries(
        sqlite_world, signed_in):
    chief = signed_in("jefe1")
    fid = firearm_id(sqlite_world, "GLK-A100")
    url = f"/firearms/{fid}"
    do(sqlite_world, "armero1", custody.issue, "GLK-A100", "P1")
    do(sqlite_world, "armero1", custody.return_, "GLK-A100", "ARM1")
    few, _ = queries_for(sqlite_world, chief, url)
    for _ in range(29):  # 60 custody entries, and the registration: two pages
        do(sqlite_world, "armero1", custody.issue, "GLK-A100", "P1")
        do(sqlite_world, "armero1", custody.return_, "GLK-A100", "ARM1")
    total = look(sqlite_world, None, lambda uow: len(uow.repo.firearm_history(fid)))
    many, first = queries_for(sqlite_world, chief, url)
    assert many == few

    def timeline(text: str) -> str:
        return text.split('id="timeline-h"')[1].split("</section>")[0]

    page1 = timeline(first)
    assert page1.count('<li class="') == 50 and 'rel="next"' in page1 and 'rel="prev"' not in page1
    assert page1.index("Devuelta a la armería") < page1.index("Asignada a elemento")  # newest first
    page2 = timeline(chief.get(f"{url}?view=both&page=2").text)
    assert page2.count('<li class="') == total - 50
    assert 'rel="prev"' in page2 and 'rel="next"' not in page2
    registered = '<span class="tl-what">Alta</span>'
    assert registered in page2 and registered not in page1
    page3 = timeline(chief.get(f"{url}?page=3").text)
    assert "No hay registros anteriores." in page3 and "Volver a los más recientes" in page3
    assert chief.get(f"{url}?page=99999999999999999999").status_code == 200
