"""The label catalogue as data: loading, checks, overrides and the per-label English fallback."""

from __future__ import annotations

import re
from dataclasses import asdict, fields
from pathlib import Path

import pytest

from pages.base import text_after
from pages.labels import (
    CatalogueError,
    Label,
    Labels,
    any_of,
    labels,
    locales,
    name_matcher,
    read_label_file,
    same_text,
)

# The English catalogue as it was written in code before it became data: not a word may change.
ENGLISH = {
    "sign_in_heading": "Sign In",
    "email": "Email",
    "next": "Next",
    "password": "Password",
    "verify": "Verify",
    "one_time_code": "Enter Code",
    "cookie_preferences": "Cookie preferences",
    "accept_cookies": "Accept All Cookies",
    "feedback": "Feedback",
    "no_thanks": "No thanks",
    "dismiss": ("Got it", "Dismiss", "Close", "No thanks", "Not now", "\u00d7"),
    "server_error": "Something went wrong",
    "try_again": ("Try again", "Retry"),
    "global_search": "Global Search",
    "search": "Search",
    "signed_in_as": "Signed in as",
    "search_results_heading": "Search Results",
    "no_results": "No results found",
    "sales_order": "Sales Order",
    "web_order": "Web Order",
    "order_details_heading": "Order Details",
    "status_prefix": "Status:",
    "holds_prefix": "Holds:",
    "no_holds": "None",
    "view_assignments": "View or change Smart Account Assignments",
    "assignment_heading": "Smart Account Assignment",
    "column_line": "Line",
    "column_product": "Product",
    "column_smart_account": "Smart Account",
    "column_virtual_account": "Virtual Account",
    "column_domain": "Domain",
    "column_eligibility": "Eligibility",
    "eligible": "Eligible",
    "ineligible_markers": ("Not eligible", "Active entitlement", "Order status is"),
    "not_assigned": ("\u2014", "-", "Not assigned", "None"),
    "assign_smart_account": "Assign Smart Account",
    "assignment_unavailable": "Smart Account assignment is not available",
    "assign_dialog": "Assign Smart Account",
    "select_existing_account": "Select an Existing Account",
    "by_domain": "Domain Identifier",
    "by_account_name": "Account Name",
    "by_email": "Email ID",
    "search_value": "Search Value",
    "column_account_name": "Account Name",
    "column_domain_identifier": "Domain Identifier",
    "column_status": "Status",
    "no_smart_accounts": "No Smart Accounts found",
    "next_page": ("Next page", "Next", "More", "Show more", "Load more", "\u203a", "\u00bb"),
    "list_counts": (
        "Page {page} of {pages}",
        "{total} Smart Accounts",
        "{total} accounts",
        "{total} results",
        "{total} matches",
    ),
    "status_active": "Active",
    "account_statuses": ("Active", "Pending", "Pending Activation", "Inactive"),
    "virtual_account_name": "Virtual Account Name",
    "assign": "Assign",
    "accept_terms": "I accept the Terms of Use",
    "submit": "Submit",
    "cancel": "Cancel",
    "close": "Close",
    "yes": "Yes",
    "no": "No",
    "submitted_successfully": "submitted successfully",
}


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "labels.toml"
    path.write_text(text, encoding="utf-8")
    return path


# --- the catalogues ------------------------------------------------------------------------------


def test_english_is_word_for_word_what_it_was_and_plain_strings() -> None:
    english = labels("en")
    assert asdict(english) == ENGLISH
    assert all(type(getattr(english, key)) in (str, tuple) for key in ENGLISH)


def test_english_patterns_are_the_ones_built_before_the_fallback() -> None:
    english = labels()
    assert name_matcher(english.assign_smart_account).pattern == (
        r"(?<!\w)Assign\s+Smart\s+Accounts?(?!\w)"
    )
    assert name_matcher(english.no, whole=True).pattern == r"^\s*No\s*$"


def test_both_locales_ship_and_the_locale_name_ignores_case() -> None:
    assert locales() == ("en", "fr")
    assert labels("FR") is labels("fr")


def test_unknown_locale_is_refused_naming_the_known_ones() -> None:
    with pytest.raises(CatalogueError, match=r"no labels for locale 'xx' \(known: en, fr\)"):
        labels("xx")


def test_french_uses_the_procedure_wording_and_keeps_the_english_name() -> None:
    french = labels("fr")
    assert french.view_assignments == "Afficher ou modifier les affectations de comptes Smart"
    assert french.select_existing_account == "Sélectionner un compte existant"
    assert (french.by_domain, french.by_account_name, french.by_email) == (
        "Identificateur de domaine",
        "Nom de compte",
        "ID d'e-mail",
    )
    assert (french.assign, french.submit, french.yes) == ("Affecter", "Envoyer", "Oui")
    assert isinstance(french.submit, Label) and french.submit.fallbacks == ("Submit",)
    assert french.try_again == ("Réessayer", "Try again", "Retry")


def test_every_french_label_also_holds_its_english_wording() -> None:
    french = labels("fr")
    for field in fields(Labels):
        value = getattr(french, field.name)
        if isinstance(value, tuple):
            assert set(ENGLISH[field.name]) <= set(value), field.name
        else:
            assert isinstance(value, Label) and value.fallbacks == (ENGLISH[field.name],)


# --- matchers ------------------------------------------------------------------------------------


@pytest.mark.parametrize("shown", ["Rechercher", "Search", "  search "])
def test_a_french_matcher_accepts_the_french_or_the_english_name(shown: str) -> None:
    assert name_matcher(labels("fr").search, whole=True).search(shown)


def test_english_does_not_accept_the_french_name() -> None:
    assert not name_matcher(labels("en").search, whole=True).search("Rechercher")
    assert not same_text("Rechercher", labels("en").search)


def test_whole_names_stay_whole_with_a_fallback() -> None:
    french = labels("fr")
    assert not name_matcher(french.no, whole=True).search("Non merci")
    assert not name_matcher(french.assign, whole=True).search("Attribuer un compte Smart")
    assert any_of((french.cancel, french.close)).search("Close")


def test_same_text_compares_against_either_wording() -> None:
    french = labels("fr")
    assert same_text("ACTIVE", french.status_active)
    assert same_text("actif", french.status_active)
    assert not same_text("Pending", french.status_active)


def test_apostrophes_straight_or_curly_are_the_same_letter() -> None:
    assert name_matcher(labels("fr").by_email, whole=True).search("ID d\u2019e-mail")


@pytest.mark.parametrize(
    "screen",
    [
        "Statut : Réservée\nBlocages : Aucun",
        "Statut\u00a0: Réservée\nBlocages\u00a0: Aucun",
        "Statut\u202f:\nRéservée\nBlocages:\nAucun",
        "Statut:Réservée\nBlocages :Aucun",
    ],
)
def test_french_prefixes_read_with_any_space_before_the_colon(screen: str) -> None:
    french = labels("fr")
    assert text_after(screen, french.status_prefix) == "Réservée"
    assert text_after(screen, french.holds_prefix) == "Aucun"


@pytest.mark.parametrize(
    "shown", ["Statut : Réservée", "Statut\u00a0: Réservée", "Statut: Réservée"]
)
def test_the_french_status_prefix_is_found_with_any_space(shown: str) -> None:
    assert name_matcher(labels("fr").status_prefix).search(shown)


def test_french_prefixes_read_an_english_screen() -> None:
    assert text_after("Status: Booked\nHolds: None", labels("fr").status_prefix) == "Booked"


# --- label files ---------------------------------------------------------------------------------


def test_a_label_file_replaces_single_labels_of_the_locale(tmp_path: Path) -> None:
    path = write(tmp_path, 'search = "Find"\ntry_again = ["Reload"]\n')
    custom = labels("en", path)
    assert (custom.search, custom.try_again) == ("Find", ("Reload",))
    assert custom.submit == "Submit"


def test_a_french_override_still_falls_back_to_english(tmp_path: Path) -> None:
    custom = labels("fr", write(tmp_path, 'submit = "Soumettre"\n'))
    assert custom.submit == "Soumettre"
    assert name_matcher(custom.submit, whole=True).search("Submit")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('serach = "Find"\n', r"'serach' is not a label of the catalogue"),
        ("search = 3\n", r"search must be a string, not an integer"),
        ('search = ["Find"]\n', r"search must be a string, not an array"),
        ('try_again = "Reload"\n', r"try_again must be an array of strings, not a string"),
        ("try_again = [1]\n", r"try_again must be an array of strings, not an array holding"),
        ('search = "  "\n', r"search is empty"),
        ("try_again = []\n", r"try_again is empty or holds an empty wording"),
        ('try_again = ["Reload", ""]\n', r"try_again is empty or holds an empty wording"),
        ("[search]\nname = 1\n", r"search must be a string, not a table"),
        ("search = \n", r"not valid TOML"),
    ],
)
def test_a_bad_label_file_names_the_file_and_the_key(
    tmp_path: Path, text: str, message: str
) -> None:
    path = write(tmp_path, text)
    with pytest.raises(CatalogueError, match=re.escape(f"label file {path}: ") + message):
        read_label_file(path)


def test_a_missing_label_file_is_named(tmp_path: Path) -> None:
    missing = tmp_path / "nope.toml"
    with pytest.raises(CatalogueError, match=re.escape(f"label file {missing}: cannot be read")):
        labels("en", missing)
