"""The shift desk in a real Chromium, as an armorer and a chief run it: the
officer card says when a credential expired; officers set their first PIN at the
desk with the armorer's or chief's confirmation."""

from __future__ import annotations

from datetime import date

import pytest
from playwright.sync_api import expect
from test_web_browser import new_page, sign_in

from resguardo.services import registry

from world import do

pytestmark = pytest.mark.browser


def test_the_desk_card_says_an_expired_credential_expired(chromium, live, sqlite_world, clock):
    do(sqlite_world, "jefe1", registry.renew_officer, "MUN1", "P1",
       credential_expiry=date(2025, 3, 31))
    clock.advance(days=30)
    context, page = new_page(chromium)
    sign_in(page, live.url, "armero1")
    page.goto(f"{live.url}/desk")
    page.keyboard.type("P1")
    page.keyboard.press("Enter")
    card = page.get_by_role("region", name="Elemento")
    expect(card).to_contain_text("venció el 31 mar 2025")
    expect(card).not_to_contain_text("vigente hasta el 31 mar 2025")
    assert not page.errors
    context.close()
