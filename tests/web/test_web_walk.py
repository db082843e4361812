"""A real headless Chromium walks every page as every role, and the new
journeys: a transfer received by the receiving agency, rounds received, issued
and taken back. Screenshots go under test-artifacts/web/ (walk-<role>-<page>)
for a person to look at; the walk asserts what a person would notice at once:
an error page, a raw code or identifier, English on a Spanish page."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date

import pytest
from test_web_browser import new_page, sign_in
from web_support import set_pin, shot

from resguardo.services import ammunition, custody, inspections

from world import USERS, do, look

pytestmark = pytest.mark.browser

#: Stored codes and internal names that must never reach a page's text.
RAW = re.compile(r"\b(in_storage|in_transit|in_repair|custody\.\w+|firearm\.\w+|ammunition\.\w+|"
                 r"officer\.\w+|duty_discharge|permission_denied|not_found|None|Traceback|"
                 r"undefined)\b")
#: English words that would betray an untranslated sentence on a Spanish page.
ENGLISH = re.compile(r"\b(the|and|with|weapon|officer|agency|rounds|found|must|cannot|"
                     r"should|page)\b", re.IGNORECASE)


#: What the walks read of the page a browser shows, in one call (each call to the browser
#: costs, and the first that finds elements by a selector costs more on every page):
#: ``links``, the paths of its links (downloads aside); ``plain``, what its main part says;
#: ``text``, the same in the interface's words, literal spellings a person types (the
#: headers an import accepts, in both languages: ``data-literal``) left out (``said``);
#: ``said``, that again without the codes shown on purpose (technical details, serials,
#: keys, header spellings), with what a person reads but the text omits (buttons' values,
#: placeholders, titles and labels for screen readers); ``explained``, whether a refusal or
#: an empty list says something; ``headings``, how many <h1>. ``plain`` and ``text`` are
#: null without a main part. The page is left as it was (a screenshot after shows it whole).
LOOK = """() => {
    const hidden = [];
    const hide = (root, selector) => root.querySelectorAll(selector).forEach(e => {
        hidden.push([e, e.style.display]);
        e.style.display = 'none';
    });
    const links = [...document.querySelectorAll('a[href]:not([download])')]
        .map(e => e.getAttribute('href'));
    const main = document.querySelector('main');
    const plain = main ? main.innerText : null;
    hide(document, 'main [data-literal]');
    const text = main ? main.innerText : null;
    const area = main || document.body;
    const extra = [...area.querySelectorAll('[placeholder],[title],[aria-label]')]
        .map(e => [e.getAttribute('placeholder'), e.getAttribute('title'),
                   e.getAttribute('aria-label')].filter(Boolean).join(' '));
    hide(area, '[lang=en], [data-literal], .mono, .serial, pre');
    const said = area.innerText + '\\n' + extra.join('\\n');
    hidden.reverse().forEach(([e, display]) => { e.style.display = display; });
    return {links, plain, text, said,
            explained: document.querySelectorAll('.refusal, .empty').length > 0,
            headings: document.querySelectorAll('h1').length};
}"""


def look_at(page) -> dict:  # type: ignore[no-untyped-def,type-arg]
    """``LOOK`` at the page ``page`` shows."""
    return dict(page.evaluate(LOOK))


def said(page) -> str:  # type: ignore[no-untyped-def]
    """What the page's main part says in the interface's words (``LOOK``'s ``text``)."""
    text = look_at(page)["text"]
    assert text is not None, f"{page.url}: the page has no main part"
    return str(text)


def lived_in(app, clock) -> dict[str, int]:  # type: ignore[no-untyped-def]
    """The small world with a day of work in it: custody, a loss, a transfer, rounds."""
    set_pin(app, "MUN1", "P1", "4821")
    do(app, "armero1", custody.issue, "GLK-A100", "P1")
    do(app, "armero1", custody.issue, "GLK-A200", "P2")
    clock.advance(hours=2)
    do(app, "armero1", custody.return_, "GLK-A200", "ARM1")
    do(app, "armero1", custody.report_missing, "GLK-A300", stolen=False,
       occurred_on=clock.now.date(), place="Patrulla 12", on_duty=True, complaint_number="FGE/1/2025",
       complaint_authority="FGE Jalisco")
    do(app, "armero1", custody.request_transfer, "GLK-A500", "MUN2", "Reasignación")
    do(app, "jefe1", custody.approve_transfer, "GLK-A500")
    do(app, "armero1", ammunition.receive, "MUN1", "ARM1", "9x19mm", "L-2025-01", 500)
    do(app, "armero1", ammunition.issue, "MUN1", "ARM1", "P1", "9x19mm", "L-2025-01", 30)
    number = do(app, "inspector", inspections.plan, "MUN2", date(2025, 3, 20)).position
    ids = look(app, None, lambda uow: {
        "firearm": uow.repo.firearm("GLK-A100").id,
        "officer": uow.repo.officer(uow.repo.org("MUN1").id, "P1").id,
        "theirs": uow.repo.firearm("BER-B100").id,
        "theirs_officer": uow.repo.officer(uow.repo.org("MUN2").id, "Q1").id})
    ids["inspection"] = number
    return ids


def pages_for(ids: dict[str, int]) -> list[tuple[str, str]]:
    return [
        ("dashboard", "/"), ("desk", "/desk"), ("firearms", "/firearms"),
        ("firearm", f"/firearms/{ids['firearm']}"), ("firearm-mun2", f"/firearms/{ids['theirs']}"),
        ("firearm-new", "/firearms/new"), ("officers", "/officers"),
        ("officer", f"/officers/{ids['officer']}"),
        ("officer-mun2", f"/officers/{ids['theirs_officer']}"), ("officer-new", "/officers/new"),
        ("transfers", "/transfers"), ("ammunition", "/ammunition"),
        ("inspections", "/inspections"), ("inspection", f"/inspections/{ids['inspection']}"),
        ("alerts", "/alerts"), ("losses", "/losses"), ("trace", "/trace"), ("import", "/import"),
        ("ledger", "/ledger"), ("admin-users", "/admin/users"),
        ("admin-locations", "/admin/locations"), ("no-such-page", "/no/such/page"),
    ]


def looks_finished(page, seen: dict, username: str, name: str, path: str,  # type: ignore[no-untyped-def,type-arg]
                   status: int) -> list[str]:
    """What a person would notice at once on a listed page (``page`` shows it, ``seen`` is
    what ``LOOK`` read of it): an error page, a refusal that does not say why, a raw code,
    English, no heading. Saves a screenshot (walk-<role>-<page>)."""
    problems = []
    shot(page, f"walk-{username}-{name}")
    where = f"{username} {path} ({status})"
    if seen["text"] is None:
        return [f"{where}: no main part"]
    text = seen["text"]
    if status >= 500:
        problems.append(f"{where}: server error")
    if status in (403, 404) and not seen["explained"]:
        problems.append(f"{where}: refused without saying why")
    found = RAW.search(text)
    if found:
        problems.append(f"{where}: raw text {found.group(0)!r}")
    english = ENGLISH.findall(text)
    if english:
        problems.append(f"{where}: English on a Spanish page: {sorted(set(english))}")
    if seen["headings"] == 0:
        problems.append(f"{where}: no heading")
    return problems


def test_a_transfer_is_asked_approved_and_received_in_the_browser(chromium, live,
                                                                  sqlite_world):
    fid = look(sqlite_world, None, lambda uow: uow.repo.firearm("GLK-A400").id)
    context, page = new_page(chromium)
    sign_in(page, live, "armero1", f"/firearms/{fid}")
    page.locator("summary", has_text="Otros movimientos").click()
    page.get_by_label("Corporación que recibe (clave)").fill("MUN2")
    form = page.locator("form", has=page.get_by_label("Corporación que recibe (clave)"))
    form.get_by_label("Motivo por escrito").fill("Reasignación a zona sur")
    page.get_by_role("button", name="Solicitar la transferencia").click()
    page.get_by_text("Transferencia solicitada: un jefe o supervisor debe aprobarla.").wait_for()

    sign_in(page, live, "jefe1", "/transfers")
    page.get_by_role("link", name="GLK-A400").click()
    page.get_by_role("button", name="Aprobar").click()
    page.get_by_text("Transferencia aprobada").wait_for()
    shot(page, "transfer-1-sent")

    sign_in(page, live, "armero2")
    page.get_by_text("1 arma en tránsito espera que la reciban.").wait_for()
    page.get_by_role("link", name="Vea la página Transferencias").click()
    page.get_by_role("heading", name="En camino a su corporación").wait_for()
    shot(page, "transfer-2-incoming")
    page.get_by_label("Guardarla en").select_option("ARM1")
    page.get_by_role("button", name="Recibir GLK-A400").click()
    page.get_by_text("Transferencia recibida").wait_for()
    page.get_by_text("Ningún arma viene en camino a su corporación.").wait_for()
    shot(page, "transfer-3-received")
    page.goto(f"{live.url}/firearms/{fid}")
    page.get_by_text("Policía Municipal 2").first.wait_for()
    assert not page.errors, page.errors
    context.close()
    moved = look(sqlite_world, None, lambda uow: uow.repo.firearm("GLK-A400"))
    assert moved.status.value == "in_storage"


def test_the_armorer_receives_issues_and_takes_back_rounds_in_the_browser(chromium, live, sqlite_world):
    context, page = new_page(chromium)
    sign_in(page, live, "armero1")
    page.get_by_role("link", name="Cartuchos").click()
    page.get_by_role("heading", name="Cartuchos").first.wait_for()
    shot(page, "ammunition-1-empty")
    receive = page.locator("form[action='/ammunition/receive']")
    receive.get_by_label("Calibre").fill("9x19mm")
    receive.get_by_label("Lote").fill("L-2025-01")
    receive.get_by_label("Cartuchos").fill("500")
    receive.get_by_label("Cartuchos").press("Enter")
    page.get_by_text("Cartuchos recibidos en existencia.").wait_for()
    page.locator("summary", has_text="Entregar cartuchos a un elemento").click()
    issue = page.locator("form[action='/ammunition/issue']")
    issue.get_by_label("Placa del elemento").fill("P1")
    issue.get_by_label("Calibre").fill("9x19mm")
    issue.get_by_label("Lote").fill("L-2025-01")
    issue.get_by_label("Cartuchos").fill("600")
    issue.get_by_label("Cartuchos").press("Enter")
    refusal = page.locator(".refusal", has_text="Solo hay 500 cartuchos de 9x19mm")
    refusal.wait_for()
    shot(page, "ammunition-2-refused")
    issue = page.locator("form[action='/ammunition/issue']")
    issue.get_by_label("Cartuchos").fill("50")
    issue.get_by_label("Cartuchos").press("Enter")
    page.get_by_text("Cartuchos entregados al elemento.").wait_for()
    page.locator("summary", has_text="Recibir cartuchos de un elemento").click()
    back = page.locator("form[action='/ammunition/return']")
    back.get_by_label("Placa del elemento").fill("P1")
    back.get_by_label("Calibre").fill("9x19mm")
    back.get_by_label("Lote").fill("L-2025-01")
    back.get_by_label("Cartuchos devueltos", exact=True).fill("48")
    back.get_by_label("Cartuchos no devueltos", exact=True).fill("2")
    back.get_by_label("Justificación").select_option("training")
    back.get_by_role("button", name="Registrar la devolución").click()
    page.get_by_text("Cartuchos conciliados.").wait_for()
    shot(page, "ammunition-3-movements")
    stock = page.locator("section", has=page.get_by_role("heading", name="En existencia"))
    assert "498" in stock.inner_text()
    assert not page.errors, page.errors
    context.close()


#: Words of the Spanish interface that an English page must not show (data may be Spanish).
SPANISH = re.compile(r"\b(Tablero|Elementos|Corporación|Ubicación|Cuándo|Motivo|Estatus|"
                     r"Guardar|Recibir|Entregar|Cartuchos|Transferencias|Revistas|Alertas|"
                     r"Extravíos|Bitácora|Registrar|Solicitar|Aún|Ningún|Ninguna|Página|"
                     r"armería|elemento)\b")


def test_every_page_in_english_for_the_armorer_and_the_supervisor(chromium, live, sqlite_world,
                                                                  clock):
    ids = lived_in(sqlite_world, clock)
    problems: list[str] = []
    context, page = new_page(chromium)
    for username in ("armero2", "supervisor"):
        sign_in(page, live, username)
        page.get_by_role("button", name="English").click()
        page.get_by_role("heading", name="Dashboard").wait_for()
        for name, path in pages_for(ids):
            page.goto(f"{live.url}{path}")
            if name in ("transfers", "ammunition", "officer", "dashboard"):
                shot(page, f"walk-english-{username}-{name}")
            text = said(page)
            # "None" is an English word here (no location chosen), not a raw Python value
            found = SPANISH.findall(text) + [w for w in RAW.findall(text) if w != "None"]
            if found:
                problems.append(f"{username} {path}: {sorted(set(found))}")
        assert not page.errors, (username, page.errors)
    context.close()
    assert not problems, "\n".join(problems)


#: Common English words of an interface: any of them on a Spanish page is a sentence or a
#: label left untranslated (data in the world is Spanish or a code: a make, a serial).
ENGLISH_UI = re.compile(
    r"\b(the|and|with|without|from|into|your|you|this|that|these|there|here|which|who|"
    r"when|where|what|weapon|weapons|firearm|firearms|officer|officers|agency|agencies|"
    r"rounds|found|must|cannot|should|page|pages|next|previous|back|search|save|submit|"
    r"cancel|delete|edit|open|closed|none|yes|no|new|add|remove|show|hide|more|less|all|"
    r"list|entry|entries|ledger|issued|returned|missing|stolen|recovered|pending|approved|"
    r"status|location|locations|inspection|inspections|alert|alerts|loss|losses|transfer|"
    r"transfers|import|report|download|upload|sign|signed|system|user|users|role|date|"
    r"time|today|yesterday|since|until|before|after|of|for|by|on|at|to|in|is|are|was|"
    r"were|not|no longer|please|error|warning|failed|success)\b")
#: Codes and values of the program shown as they are stored: a snake_case or dotted event
#: kind ("custody.issued"), Python's None/True/False, a template left unfilled.
RAW_CODE = re.compile(r"\b([a-z]+_[a-z_]+|[a-z]+\.[a-z_]+ed|None|True|False|nan|"
                      r"Traceback|undefined)\b|\{\{|\}\}|%\(\w+\)s")
#: Links not to follow: leaving, switching language, files to download.
SKIP = re.compile(r"^/(logout|lang|static/)|\.(csv|txt|pdf|xlsx|png|json|zip)(\?|$)|/receipt|"
                  r"/label")
#: Pages of one kind (a weapon, an officer, an inspection) are looked at this many times.
SAME_KIND = 2


def _kind(path: str) -> str:
    return re.sub(r"\d+", "N", path.split("?", 1)[0]) + ("?" if "?" in path else "")


def crawl(page, base: str, limit: int = 80) -> Iterator[tuple[str, int, dict]]:  # type: ignore[no-untyped-def,type-arg]
    """Every page reachable from the dashboard by links (a couple of each kind): (path,
    status, what ``LOOK`` read of it) in the order visited, each given while ``page`` shows
    it (its links already taken, so what the caller does to the page does not change the
    walk)."""
    queue, taken, kinds, visited = ["/"], {"/"}, {}, 0
    while queue and visited < limit:
        path = queue.pop(0)
        kind = _kind(path)
        if kinds.get(kind, 0) >= SAME_KIND:
            continue
        kinds[kind] = kinds.get(kind, 0) + 1
        response = page.goto(f"{base}{path}")
        status = response.status if response else 0
        visited += 1
        seen = look_at(page)
        for href in seen["links"]:
            if not href or not href.startswith("/") or href.startswith("//"):
                continue
            href = href.split("#", 1)[0]
            if href in taken or SKIP.search(href):
                continue
            taken.add(href)
            queue.append(href)
        yield path, status, seen


def spanish_problems(text: str) -> list[str]:
    """English words and raw codes in what a Spanish page says."""
    found = []
    english = sorted({w for w in ENGLISH_UI.findall(text) if w not in ("no",)})
    if english:
        found.append(f"English {english}")
    raw = sorted({m.group(0) for m in RAW_CODE.finditer(text)})
    if raw:
        found.append(f"raw {raw}")
    return found


@pytest.mark.long
def test_every_page_as_every_role_looks_finished_and_what_it_reaches_is_spanish(
        chromium, live, sqlite_world, clock):
    """Two walks, one signed-in page per role. The listed pages (``pages_for``: another
    agency's, a missing one) each look finished (``looks_finished``). And not a list: what
    each role can reach by following links from the dashboard, each kind of page twice (two
    weapons, two officers...), is Spanish and shows no raw code. A listed page the crawl
    reaches is looked at there, not loaded twice."""
    ids = lived_in(sqlite_world, clock)
    listed = {path: name for name, path in pages_for(ids)}
    problems: list[str] = []
    walked = 0
    context, page = new_page(chromium)
    for username in ("admin", *USERS):
        if username in ("armero3", "jefe2", "investigador2"):
            continue  # the same roles as others, in another scope
        sign_in(page, live, username, None)  # the crawl starts at the dashboard
        looked = set()
        # the zone's inspector is the listed walk's only: the crawl's is the state's
        crawled = crawl(page, live.url) if username != "inspector_zm" else iter(())
        for path, status, seen in crawled:
            walked += 1
            if path in listed and path not in looked:
                looked.add(path)
                problems += looks_finished(page, seen, username, listed[path], path, status)
            # what the page says, with what a person reads but the text omits (``LOOK``)
            said = seen["said"]
            where = f"{username} {path} ({status})"
            if status >= 500:
                problems.append(f"{where}: server error")
            for name in sorted(USERS, key=len, reverse=True):  # usernames are data
                said = said.replace(name, "")
            for found in spanish_problems(said):
                problems.append(f"{where}: {found}")
        for name, path in pages_for(ids):
            if path in looked:
                continue
            response = page.goto(f"{live.url}{path}")
            assert response is not None
            problems += looks_finished(page, look_at(page), username, name, path,
                                       response.status)
            looked.add(path)
        assert looked == set(listed), (username, set(listed) - looked)
        assert not page.errors, (username, page.errors)
    context.close()
    assert walked > 100, walked  # the walk went through the site, not one page per role
    assert not problems, "\n".join(problems)
