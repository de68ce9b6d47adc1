"""The mock portal's visible words per locale: English is the source, other locales translate it.

Each table maps an English text of the pages, the SPA or the server's messages to its wording in
that locale; a text the table lacks is shown in English, as partly translated portals do. A key
may hold "{name}" slots: the SPA fills them, or reads them back out of a message the server wrote
("Order status is Shipped") and translates what it read in turn. Data (account, Virtual Account
and company names, order and account statuses) is not translated.

The French table leaves two controls in English on purpose, the "Search" buttons and the dialog's
"Submit", so that an agent's per-label fallback to the English name is exercised.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping

DEFAULT_LOCALE = "en"

FRENCH: dict[str, str] = {
    # sign-on page
    "Sign In": "Connexion",
    "Identity Services": "Services d'identité",
    "Email": "Adresse e-mail",
    "Next": "Suivant",
    "Password": "Mot de passe",
    "Verify": "Vérifier",
    "Enter the 6-digit code from your authenticator app.": (
        "Saisissez le code à 6 chiffres de votre application d'authentification."
    ),
    "Enter Code": "Saisir le code",
    "Need help signing in? Contact your administrator.": (
        "Besoin d'aide pour vous connecter\u00a0? Contactez votre administrateur."
    ),
    "Enter your email address.": "Saisissez votre adresse e-mail.",
    "Unable to sign in: the code is not valid or has expired.": (
        "Connexion impossible\u00a0: le code n'est pas valide ou a expiré."
    ),
    "Unable to sign in. Check your email and password and try again.": (
        "Connexion impossible. Vérifiez votre adresse e-mail et votre mot de passe, puis réessayez."
    ),
    "Loading": "Chargement",
    # everywhere
    "Something went wrong, please try again": "Une erreur s'est produite, veuillez réessayer",
    "Try again": "Réessayer",
    "Retry": "Réessayer",
    "Cookie preferences": "Préférences en matière de cookies",
    "We use cookies to keep you signed in, to remember your preferences and to understand how "
    "this site is used. You can accept all cookies or keep only the strictly necessary ones.": (
        "Nous utilisons des cookies pour vous garder connecté, mémoriser vos préférences et "
        "comprendre l'utilisation de ce site. Vous pouvez accepter tous les cookies ou ne garder "
        "que ceux strictement nécessaires."
    ),
    "Accept All Cookies": "Accepter tous les cookies",
    "Feedback": "Commentaires",
    "How is your experience with Commerce Workspace today? Tell us in a two-minute survey.": (
        "Comment se passe votre expérience avec Commerce Workspace aujourd'hui\u00a0? "
        "Dites-le-nous en deux minutes."
    ),
    "Give feedback": "Donner mon avis",
    "No thanks": "Non merci",
    "Page not found": "Page introuvable",
    "The page you asked for does not exist.": "La page demandée n'existe pas.",
    # header and navigation ("Search" stays English)
    "Global Search": "Recherche globale",
    "Search by Sales Order or Web Order number": (
        "Rechercher par numéro de commande client ou de commande électronique"
    ),
    "Log out": "Se déconnecter",
    "Signed in as {email}": "Connecté en tant que {email}",
    "Workspace": "Espace de travail",
    "Home": "Accueil",
    "Quotes": "Devis",
    "Orders": "Commandes",
    "Subscriptions": "Abonnements",
    "Reports": "Rapports",
    "Commerce Workspace demonstration portal. All companies and data are invented.": (
        "Portail de démonstration de Commerce Workspace. Toutes les sociétés et données sont "
        "inventées."
    ),
    # home
    "Welcome back, {email}. Search for an order by its Sales Order or Web Order number with the "
    "search box at the top of the page.": (
        "Bon retour, {email}. Recherchez une commande par son numéro de commande client ou de "
        "commande électronique dans le champ de recherche en haut de la page."
    ),
    "Recent activity": "Activité récente",
    "No recent activity.": "Aucune activité récente.",
    "Announcements": "Annonces",
    "Smart Account assignment is available from Order Details.": (
        "L'affectation de compte Smart est disponible depuis les détails de la commande."
    ),
    # search results
    "Search Results": "Résultats de la recherche",
    "Order Search": "Recherche de commandes",
    'Results for "{query}"': "Résultats pour «\u00a0{query}\u00a0»",
    "No results found": "Aucun résultat trouvé",
    "No results found. Check the Sales Order or Web Order number.": (
        "Aucun résultat trouvé. Vérifiez le numéro de commande client ou de commande électronique."
    ),
    "Orders found": "Commandes trouvées",
    "Download order summary": "Télécharger le récapitulatif de la commande",
    "Sales Order": "Commande client",
    "Web Order": "Commande électronique",
    "End customer: {name}": "Client final\u00a0: {name}",
    "Orders matching the search": "Commandes correspondant à la recherche",
    "Order Number": "Numéro de commande",
    "Order Type": "Type de commande",
    "Status": "Statut",
    "End Customer": "Client final",
    # order details (a French colon has a no-break space before it)
    "Order Details": "Détails de la commande",
    "Order Details: {number}": "Détails de la commande\u00a0: {number}",
    "Order Details \u2014 {number}": "Détails de la commande \u2014 {number}",
    "Sales Order {number} \u00b7 Order Details": (
        "Commande client {number} \u00b7 Détails de la commande"
    ),
    "No order {number} was found.": "Aucune commande {number} n'a été trouvée.",
    "Order notifications": "Notifications de commande",
    "Smart Account notice": "Avis de compte Smart",
    "Order alerts": "Alertes de commande",
    "This order is on Smart Account Hold until an active Smart Account is assigned. ": (
        "Cette commande est bloquée jusqu'à l'affectation d'un compte Smart actif. "
    ),
    "Licences of this order are delivered to the Smart Account of each line. ": (
        "Les licences de cette commande sont livrées dans le compte Smart de chaque ligne. "
    ),
    "Learn about Smart Account assignments": (
        "En savoir plus sur les affectations de comptes Smart"
    ),
    "View or change Smart Account Assignments": (
        "Afficher ou modifier les affectations de comptes Smart"
    ),
    "Summary": "Récapitulatif",
    "Sales Order:": "Commande client\u00a0:",
    "Web Order:": "Commande électronique\u00a0:",
    "Status:": "Statut\u00a0:",
    "Holds:": "Blocages\u00a0:",
    "Partner:": "Partenaire\u00a0:",
    "End Customer:": "Client final\u00a0:",
    "Lines:": "Lignes\u00a0:",
    "Sales Order Number": "Numéro de commande client",
    "Web Order Number": "Numéro de commande électronique",
    "Holds": "Blocages",
    "Partner": "Partenaire",
    "Order Lines": "Lignes de commande",
    "Customer": "Client",
    "Lines": "Lignes",
    "Web Order ID": "ID de commande électronique",
    "More information": "Plus d'informations",
    "New in Commerce Workspace": "Nouveau dans Commerce Workspace",
    "Smart Account assignments now show every line of the order.": (
        "Les affectations de compte Smart montrent désormais chaque ligne de la commande."
    ),
    "Got it": "J'ai compris",
    "Previous page": "Page précédente",
    "Next page": "Page suivante",
    "Page {page} of {pages} \u00b7 {total} Smart Accounts": (
        "Page {page} sur {pages} \u00b7 {total} comptes Smart"
    ),
    "Confirm": "Confirmer",
    "None": "Aucun",
    "{label}:": "{label}\u00a0:",
    # assignments
    "Smart Account Assignment": "Affectation de compte Smart",
    "Smart Account Assignments for {number}": (
        "Affectation de compte Smart pour la commande {number}"
    ),
    "Back to Order Details": "Retour aux détails de la commande",
    "Breadcrumb": "Fil d'Ariane",
    "Order {number}": "Commande {number}",
    "Sales Order {sales} \u00b7 Web Order {web} \u00b7 Status: {status}": (
        "Commande client {sales} \u00b7 Commande électronique {web} \u00b7 Statut\u00a0: {status}"
    ),
    "Smart Account assignment of each order line": (
        "Affectation de compte Smart de chaque ligne de commande"
    ),
    "Line": "Ligne",
    "Product": "Produit",
    "Smart Account": "Compte Smart",
    "Domain Identifier": "Identificateur de domaine",
    "Virtual Account": "Compte virtuel",
    "Eligibility": "Éligibilité",
    "Quantity": "Quantité",
    "Start date": "Date de début",
    "On shipment": "À l'expédition",
    "Eligible": "Éligible",
    "Active entitlement": "Droit actif",
    "Order status is {status}": "Le statut de la commande est {status}",
    "Not eligible: {reason}": "Non éligible\u00a0: {reason}",
    "Not assigned": "Non affecté",
    "Assign Smart Account": "Attribuer un compte Smart",
    "Export to CSV": "Exporter au format CSV",
    "Smart Account assignment is not available: {reason}": (
        "L'affectation de compte Smart n'est pas disponible\u00a0: {reason}"
    ),
    "the order status is {status}.": "le statut de la commande est {status}.",
    "Smart Account assignment submitted successfully": (
        "L'affectation de compte Smart a été soumise avec succès"
    ),
    "The Terms of Use must be accepted": "Les conditions d'utilisation doivent être acceptées",
    "Smart Account not found": "Compte Smart introuvable",
    "Virtual Account not found": "Compte virtuel introuvable",
    "Order not found": "Commande introuvable",
    "Unknown search parameter": "Paramètre de recherche inconnu",
    # assign dialog ("Search" and "Submit" stay English)
    "Select an Existing Account": "Sélectionner un compte existant",
    "Select": "Sélectionner",
    "Account Name": "Nom de compte",
    "Email ID": "ID d'e-mail",
    "Search Value": "Valeur de recherche",
    "Select a search parameter first.": "Sélectionnez d'abord un paramètre de recherche.",
    "Enter a search value.": "Saisissez une valeur de recherche.",
    "No Smart Accounts found": "Aucun compte Smart trouvé",
    'No Smart Accounts found for "{value}".': (
        "Aucun compte Smart trouvé pour «\u00a0{value}\u00a0»."
    ),
    "Smart Accounts found": "Comptes Smart trouvés",
    "Sales Order {number}: choose how to find the Smart Account, search for it, select it and "
    "choose a Virtual Account.": (
        "Commande client {number}\u00a0: choisissez comment trouver le compte Smart, "
        "recherchez-le, sélectionnez-le et choisissez un compte virtuel."
    ),
    "Virtual Account Name": "Nom du compte virtuel",
    "Select a Virtual Account": "Sélectionnez un compte virtuel",
    "Select a Smart Account first": "Sélectionnez d'abord un compte Smart",
    "Assign": "Affecter",
    "Cancel": "Annuler",
    "Close": "Fermer",
    "Terms of Use": "Conditions d'utilisation",
    "By assigning this order you confirm that you are authorised to place the licences of its "
    "eligible lines in the selected Smart Account and Virtual Account, and that the account "
    "holder agrees to the Smart Account Terms of Use.": (
        "En affectant cette commande, vous confirmez être autorisé à placer les licences de ses "
        "lignes éligibles dans le compte Smart et le compte virtuel sélectionnés, et que le "
        "titulaire du compte accepte les conditions d'utilisation des comptes Smart."
    ),
    "I accept the Terms of Use": "J'accepte les conditions d'utilisation",
    # confirmation
    "Confirm Smart Account Assignment": "Confirmer l'affectation de compte Smart",
    "Please confirm": "Veuillez confirmer",
    "Are you sure?": "Êtes-vous sûr\u00a0?",
    "Assign the eligible lines of order {number} to {account} / {virtual}?": (
        "Affecter les lignes éligibles de la commande {number} à {account} / {virtual}\u00a0?"
    ),
    "Yes": "Oui",
    "No": "Non",
}

WORDS: dict[str, dict[str, str]] = {DEFAULT_LOCALE: {}, "fr": FRENCH}
LOCALES = tuple(WORDS)

# Where a page receives its locale's words.
WORDS_PLACEHOLDER = b"<!--words-->"


class UnknownLocale(ValueError):
    """A locale the mock has no words for; the message lists the known ones."""

    def __init__(self, name: str) -> None:
        super().__init__(f"unknown locale {name!r}; known locales: {', '.join(LOCALES)}")


def find_locale(name: str) -> str:
    """The locale of that name, or UnknownLocale listing the known ones."""
    if name not in WORDS:
        raise UnknownLocale(name)
    return name


def localize_page(page: str, locale: str, renamed: Mapping[str, str] | None = None) -> str:
    """A static page in a locale: its element texts and its aria-label, placeholder and title
    attributes translated where the table has them, and its lang set. `renamed` (a release's
    English name -> its own) applies first; a renamed text without a translation stays as named."""
    words = WORDS[locale]
    names = renamed or {}

    def word(english: str) -> str:
        named = names.get(english, english)
        return words.get(named, named)

    def text(found: re.Match[str]) -> str:
        english = html.unescape(found.group(2))
        return found.group(1) + html.escape(word(english), quote=False) + "<"

    def attribute(found: re.Match[str]) -> str:
        english = html.unescape(found.group(2))
        return f'{found.group(1)}"{html.escape(word(english))}"'

    page = re.sub(r"(>\s*)([^<>]*?\S)\s*<", text, page)
    page = re.sub(r'((?:aria-label|placeholder|title)=)"([^"]*)"', attribute, page)
    return page.replace('<html lang="en">', f'<html lang="{locale}">', 1)
