"""The mock in French: its pages and messages by the French names, a few controls left in English,
and the locale chosen on the command line, in Python or through the control API."""

from __future__ import annotations

import subprocess
import sys

import pytest
from helpers import DEMO, MockClient, run_mock_module
from playwright.async_api import Page, expect

from mock_site.server import MockServer
from mock_site.words import FRENCH, UnknownLocale


def test_the_sign_on_page_is_served_in_the_current_locale(mock: MockServer) -> None:
    mock.set_locale("fr")
    _, page = MockClient(mock).get("/signon")
    text = page.decode()
    assert '<html lang="fr">' in text
    assert "<h1>Connexion</h1>" in text and '<label for="password">Mot de passe</label>' in text
    assert '<script id="words" type="application/json">{"locale": "fr"' in text


def test_reset_returns_to_the_locale_the_server_was_built_with() -> None:
    server = MockServer(locale="fr").start()
    try:
        server.set_locale("en")
        server.reset()
        assert server.locale == "fr"
        status, body = MockClient(server).post("/__mock__/locale", {"locale": "en"})
        assert status == 200 and body["locale"] == "en"
    finally:
        server.stop()


def test_an_unknown_locale_is_refused_with_the_known_ones(mock: MockServer) -> None:
    with pytest.raises(UnknownLocale, match="known locales: en, fr"):
        MockServer(locale="de")
    with pytest.raises(ValueError, match="en, fr"):
        mock.set_locale("de")
    status, body = MockClient(mock).post("/__mock__/locale", {"locale": "de"})
    assert status == 400 and body["known"] == ["en", "fr"]
    assert mock.locale == "en"


def test_the_french_table_leaves_search_and_submit_in_english() -> None:
    assert "Search" not in FRENCH and "Submit" not in FRENCH
    assert FRENCH["Status:"] == "Statut\u00a0:"


def test_python_dash_m_takes_a_locale_and_refuses_an_unknown_one() -> None:
    bad = subprocess.run(
        [sys.executable, "-m", "mock_site", "--locale", "de"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert bad.returncode == 2 and "'en', 'fr'" in bad.stderr

    line, current = run_mock_module("--locale", "fr", ask="/__mock__/locale")
    assert "locale fr" in line and current["locale"] == "fr"


async def test_the_portal_speaks_french_by_role_and_name(page: Page, mock: MockServer) -> None:
    # Given the mock in French
    mock.set_locale("fr")
    # When a person signs in and opens an order by the French names
    await page.goto(mock.home_url)
    await page.get_by_role("textbox", name="Adresse e-mail").fill(DEMO.email)
    await page.get_by_role("button", name="Suivant").click()
    await page.get_by_role("textbox", name="Mot de passe").fill(DEMO.password)
    await page.get_by_role("button", name="Vérifier").click()
    await page.get_by_role("button", name="Accepter tous les cookies").click()
    await page.get_by_role("searchbox", name="Recherche globale").fill("110000001")
    # the search button is one of the controls left in English
    await page.get_by_role("button", name="Search", exact=True).click()
    await page.get_by_role("link", name="110000001").click()
    # Then Order Details reads in French, with a no-break space before each colon
    await expect(page.get_by_role("heading", name="Détails de la commande")).to_be_visible()
    await expect(page.get_by_text("Statut\u00a0:", exact=True)).to_be_visible()
    await page.get_by_role(
        "link", name="Afficher ou modifier les affectations de comptes Smart"
    ).click()
    await expect(page.get_by_role("heading", name="Affectation de compte Smart")).to_be_visible()
    await expect(page.get_by_role("columnheader", name="Compte virtuel")).to_be_visible()
    await page.get_by_role("button", name="Attribuer un compte Smart").click()
    dialog = page.get_by_role("dialog", name="Attribuer un compte Smart")
    await expect(
        dialog.get_by_role("combobox", name="Sélectionner un compte existant")
    ).to_be_visible()
    await expect(dialog.get_by_role("combobox", name="Nom du compte virtuel")).to_be_visible()
    await expect(dialog.get_by_role("button", name="Affecter")).to_be_disabled()
