"""Required fields are marked the same way on every form: an asterisk after the label
(hidden from screen readers, which announce the control's ``required``), a note saying what
it means, no marks where every field is required."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from test_web_browser import new_page, sign_in

from resguardo.web.required import mark

from world import look

MIXED = ('<form><input type="hidden" name="csrf" value="t">'
         '<label>Matrícula <span class="hint">como está grabada</span>'
         '<input name="serial" required></label><label>Modelo<input name="model"></label>'
         '<button>Guardar</button></form>')


def test_a_form_that_mixes_required_and_optional_fields_marks_the_required_ones():
    html = mark(MIXED, "campo obligatorio")
    assert ('<label><span class="label-text">Matrícula<span class="required" '
            'aria-hidden="true"></span></span> <span class="hint">') in html
    assert "<label>Modelo<input" in html
    assert html.count('class="required"') == 2  # the label's and the note's
    assert '<p class="hint required-note"><span class="required" aria-hidden="true"></span> ' \
           'campo obligatorio</p>' in html


def test_a_form_of_required_fields_only_or_of_optional_ones_only_is_left_alone():
    only_required = '<form><label>Usuario<input name="u" required></label></form>'
    only_optional = '<form><label>Buscar<input name="q"></label></form>'
    assert mark(only_required, "x") == only_required
    assert mark(only_optional, "x") == only_optional
    # a hidden field never counts as optional
    hidden = ('<form><input type="hidden" name="csrf"><label>Placa<input name="b" required>'
              '</label><button>Ir</button></form>')
    assert mark(hidden, "x") == hidden


#: Marked labels and required controls agree on these pages (a form mixing both kinds).
PAGES = ("/firearms/new", "/officers/new", "/ammunition", "/inspections", "/import",
         "/firearm", "/officer")


@pytest.mark.browser
def test_every_form_marks_its_required_fields_and_only_those(chromium, live, sqlite_world):
    ids = look(sqlite_world, None, lambda uow: {
        "/firearm": f"/firearms/{uow.repo.firearm('GLK-A100').id}",
        "/officer": f"/officers/{uow.repo.officer(uow.repo.org('MUN1').id, 'P1').id}"})
    context, page = new_page(chromium)
    page.goto(f"{live.url}/login")
    assert page.locator(".required").count() == 0  # all required: nothing to tell apart
    sign_in(page, live, "armero1", "/firearms/new")
    form = page.locator("form", has=page.get_by_label("Matrícula", exact=True))
    expect(form.locator(".required-note")).to_have_text("campo obligatorio")
    star = "e => getComputedStyle(e, '::before').content"
    assert form.locator(".required-note .required").evaluate(star).startswith('"*"')
    for name in ("Matrícula", "Marca", "Calibre"):
        label = form.locator("label", has_text=name).first
        assert label.locator(".required").evaluate(star).startswith('"*"'), name
    assert form.locator("label", has_text="Modelo").locator(".required").count() == 0
    # the mark is seen, not heard: the field's accessible name is still its label
    expect(page.get_by_label("Matrícula", exact=True)).to_have_attribute("required", "")
    page.get_by_label("Marca", exact=True).fill("Glock")
    page.get_by_role("button", name="Registrar").first.click()
    assert page.url.endswith("/firearms/new")  # the browser holds the form: no serial
    checked = 0
    for path in PAGES:
        page.goto(f"{live.url}{ids.get(path, path)}")
        wrong = page.evaluate("""() => {
            const seen = c => !['hidden', 'submit', 'button', 'reset', 'image'].includes(c.type);
            const out = [];
            for (const form of document.querySelectorAll('main form')) {
              const controls = [...form.querySelectorAll('input, select, textarea')].filter(seen);
              const required = controls.filter(c => c.required);
              if (!required.length || required.length === controls.length) continue;
              for (const label of form.querySelectorAll('label')) {
                const c = label.querySelector('input, select, textarea');
                const first = label.firstChild;
                const texted = first && (first.nodeType === 3
                                         || (first.classList && first.classList.contains('label-text')));
                if (!c || !seen(c) || !texted) continue;
                const marked = !!label.querySelector(':scope > .label-text > .required');
                if (marked !== c.required) out.push(label.innerText.trim());
              }
            }
            return out;
        }""")
        checked += page.locator("main .required").count()
        assert not wrong, (path, wrong)
    assert checked > 20  # the pages do have forms with required fields
    assert not page.errors, page.errors
    context.close()
