"""Journeys through the interface in a real headless Chromium, one role at a time.

Each test walks what a person does, with the keyboard where the person would
(the armorer's desk uses no mouse at all), and saves a screenshot of every
main page under test-artifacts/web/ for a person to look at.
"""

from __future__ import annotations

import pytest

from conftest import set_pin, shot
from world import PASSWORD

pytestmark = pytest.mark.browser


def sign_in(page, base: str, username: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{base}/login")
    page.get_by_label("Usuario").fill(username)
    page.get_by_label("Contraseña").fill(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(f"{base}/")


def test_armorer_issues_and_returns_at_the_desk_with_the_keyboard_only(chromium, live,
                                                                        sqlite_world):
    set_pin(sqlite_world, "MUN1", "P1", "4821")
    context = chromium.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    sign_in(page, live.url, "armero1")
    shot(page, "dashboard-armorer")
    page.goto(f"{live.url}/desk")
    shot(page, "desk-1-badge")
    page.keyboard.type("P1")
    page.keyboard.press("Enter")
    page.get_by_label("Lea o escriba la matrícula del arma").wait_for()
    shot(page, "desk-2-serial")
    page.keyboard.type("GLK-A100")
    page.keyboard.press("Enter")
    page.get_by_label("El elemento escribe su NIP").wait_for()
    shot(page, "desk-3-pin")
    page.keyboard.type("4821")
    page.keyboard.press("Enter")
    page.get_by_text("Entregada. El elemento puede llevarse el arma.").wait_for()
    shot(page, "desk-4-issued")
    context.close()
