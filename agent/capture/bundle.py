"""A capture bundle: one folder with each screen's redacted DOM and ARIA snapshot, and a manifest.

Screens are held in memory as they are captured and written, redacted, by `write()` (or at the
end of the `with` block): by then every value the walk read is registered, so a name first read
on a later screen is replaced on the earlier ones too, and each value keeps one placeholder
across the bundle. Nothing unredacted reaches the disk; the folder is 0700 and each file 0600.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from html import escape
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

from playwright.async_api import Page

from agent.capture.dom import SCREEN_COPY, clean_html
from agent.capture.redact import (
    FIELD_LABELS,
    Kind,
    Redactor,
    normal,
    number_pattern,
    register_fields,
    url_without_query,
    value_key,
)
from agent.files import FOLDER_MODE, private_folder, write_private
from flows.models import OrderView
from pages.assign_dialog import AccountRow
from pages.base import sign_on_showing
from pages.labels import Labels, labels

FORMAT = 1
MANIFEST = "manifest.json"
# How a catalogue name was found on a screen, as the caller reports it in `found`.
HOW_FOUND = ("role", "label", "visible words", "substituted", "missing")

_URL_LINE = re.compile(r"^(?P<lead>\s*- /url: )(?P<url>.*)$", re.MULTILINE)
# A field's typed value in the snapshot (`- searchbox "Global Search": "110000001"`): dropped,
# like the DOM's form values. A combobox keeps its value: the option chosen, a portal word.
_TYPED_VALUE = re.compile(
    r'^(?P<control>\s*- (?:textbox|searchbox|spinbutton)(?: "(?:[^"\\]|\\.)*")?(?: \[[^\]]*\])*)'
    r"(?::[^\n]*)?$",
    re.MULTILINE,
)
_SAFE_NAME = re.compile(r"[^a-z0-9_-]+")


class CaptureError(Exception):
    """A capture bundle cannot be made or written as asked."""


class FolderNotEmpty(CaptureError):
    """The capture folder already holds files; a bundle is only written into an empty one."""


class ValueLeft(CaptureError):
    """A registered value was still found in an output after redaction; nothing was written."""


def agent_version() -> str:
    """The installed ccw-agent's version ("unknown" when run from a tree not installed)."""
    try:
        return version("ccw-agent")
    except PackageNotFoundError:
        return "unknown"


@dataclass
class Screen:
    """One screen as captured, before redaction (kept in memory only)."""

    step: int
    name: str
    html: str
    aria: str
    text: str
    pairs: list[tuple[str, str]]
    title: str
    path: str
    found: dict[str, str] = field(default_factory=dict)
    read: dict[str, Any] | None = None


class CaptureBundle:
    """The folder a capture is written to, and the Redactor every screen of it goes through.

    `CaptureBundle(folder, portal_url=..., locale=...)` refuses (FolderNotEmpty) a folder that
    holds anything, before any screen is visited; it makes a missing folder 0700. Register what
    the walk reads with `bundle.redactor.add(Kind.ACCOUNT, "Acme")`, or `register_view` and
    `register_accounts`; capture screens with `capture_screen`; `write()` (or leaving the `with`
    block) writes the bundle once.
    """

    def __init__(
        self,
        folder: Path,
        *,
        portal_url: str,
        locale: str = "en",
        words: Labels | None = None,
        fields: Mapping[str, Kind] = FIELD_LABELS,
    ) -> None:
        self.folder = folder
        check_empty(folder)
        private_folder(folder)
        os.chmod(folder, FOLDER_MODE)
        self.portal_url = url_without_query(portal_url)
        self.host = urlsplit(portal_url).hostname or ""
        self.locale = locale
        self.labels = words or labels(locale)
        self.fields = {
            normal(label).rstrip(":").strip(): Kind(kind) for label, kind in fields.items()
        }
        self.redactor = Redactor(portal_domains=("cisco.com", self.host))
        self.screens: list[Screen] = []
        self.notes: list[str] = []
        self.written = False

    def __enter__(self) -> CaptureBundle:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        if error is not None:
            self.notes.append(f"The walk ended early: {type(error).__name__}.")
        self.write()

    def restart(self) -> None:
        """Forget the screens captured so far (an attempt that failed and is made again); the
        values registered stay registered."""
        self.screens.clear()

    def note(self, text: str) -> None:
        """A sentence for the manifest's notes (redacted like everything else)."""
        self.notes.append(text)

    def write(self) -> Path:
        """Redact every screen and write the bundle; returns the manifest's path. Once only.

        Raises ValueLeft, writing nothing, when a registered value is found in an output.
        """
        manifest_path = self.folder / MANIFEST
        if self.written:
            return manifest_path
        self.written = True
        keep = portal_words(self.labels)
        for screen in self.screens:
            register_fields(self.redactor, screen.text, screen.pairs, self.fields, keep)
        files: dict[str, str] = {}
        entries = []
        for number, screen in enumerate(self.screens, start=1):
            stem = f"{number:02d}-{_SAFE_NAME.sub('-', screen.name.lower()).strip('-')}"
            files[f"{stem}.html"] = clean_html(screen.html, self.redactor)
            files[f"{stem}.aria.yml"] = self._redact_aria(screen.aria)
            entry: dict[str, Any] = {
                "step": screen.step,
                "name": screen.name,
                "html": f"{stem}.html",
                "aria": f"{stem}.aria.yml",
                "path": self.redactor.redact(url_without_query(screen.path)),
                "title": self.redactor.redact(screen.title),
                "found": screen.found,
            }
            if screen.read is not None:
                entry["read"] = self._redact_json(screen.read)
            entries.append(entry)
        manifest = {
            "format": FORMAT,
            "agent_version": agent_version(),
            "portal": {"host": self.host, "url": self.portal_url},
            "locale": self.locale,
            "captured_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "screens": entries,
            "placeholders": self.redactor.counts(),
            "notes": [self.redactor.redact(note) for note in self.notes],
        }
        files[MANIFEST] = json.dumps(manifest, indent=2, ensure_ascii=False) + "\n"
        left = values_in(files, [value for _, value in self.redactor.known()])
        if left:
            kinds = sorted({name for name, _ in left})
            raise ValueLeft(f"a registered value remained in {', '.join(kinds)}; nothing written")
        for name, text in files.items():
            write_private(self.folder / name, text.encode("utf-8"))
        return manifest_path

    def _redact_aria(self, snapshot: str) -> str:
        cut = _URL_LINE.sub(lambda m: m["lead"] + url_without_query(m["url"]), snapshot)
        cut = _TYPED_VALUE.sub(lambda m: m["control"], cut)
        return self.redactor.redact(cut) + ("\n" if not cut.endswith("\n") else "")

    def _redact_json(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.redactor.redact(value)
        if isinstance(value, Mapping):
            return {str(k): self._redact_json(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self._redact_json(v) for v in value]
        return value


def portal_words(words: Labels) -> frozenset[str]:
    """Every name of the catalogue, normalised as field values are: the portal's own words."""
    names: set[str] = set()
    for item in fields(words):
        value = getattr(words, item.name)
        for text in value if isinstance(value, tuple) else (value,):
            if isinstance(text, str):
                names.add(normal(text).rstrip(":").strip())
    return frozenset(names)


def check_empty(folder: Path) -> None:
    """Raise FolderNotEmpty unless `folder` is missing or an empty folder (a bundle is only ever
    written into one): for a command to check before it starts a browser."""
    if folder.is_symlink() or (folder.exists() and (not folder.is_dir() or any(folder.iterdir()))):
        raise FolderNotEmpty(f"{folder} is not an empty folder; give a new or empty one")


async def capture_screen(
    bundle: CaptureBundle,
    page: Page,
    step: int,
    name: str,
    *,
    found: Mapping[str, str] | None = None,
    read: Mapping[str, Any] | None = None,
) -> bool:
    """Capture the screen `page` shows as step `step` named `name` (see fixtures.READERS for the
    names whose reads become reader tests); False when it was not taken (a sign-on page, or a
    page on another host than the portal's), with a note in the manifest.

    `found` maps catalogue keys to how the walk found them on this screen (one of HOW_FOUND);
    `read` is what the agent's readers returned there (JSON types: strings, numbers, lists,
    dicts, None), redacted with the screen. One page.evaluate and one ARIA snapshot; the
    page is not changed. Playwright's errors pass through.
    """
    host = urlsplit(page.url).hostname or ""
    if bundle.host and host != bundle.host:
        bundle.note(f"Step {step} ({name}) not captured: the page was on another host.")
        return False
    if await sign_on_showing(page, bundle.labels):
        bundle.note(f"Step {step} ({name}) not captured: the sign-on page showed.")
        return False
    copied: dict[str, Any] = await page.evaluate(SCREEN_COPY, sorted(bundle.fields))
    aria = await page.locator("body").aria_snapshot()
    bundle.screens.append(
        Screen(
            step=step,
            name=name,
            html=str(copied["html"]),
            aria=aria,
            text=str(copied["text"]),
            pairs=[(str(label), str(value)) for label, value in copied["pairs"]],
            title=str(copied["title"]),
            path=str(copied["path"]),
            found=dict(found or {}),
            read=None if read is None else dict(read),
        )
    )
    return True


def register_view(redactor: Redactor, view: OrderView) -> None:
    """Register what steps 1-4 read: the order's numbers, and each line's Smart Account,
    Domain Identifier and Virtual Account."""
    redactor.add_all(Kind.ORDER, (view.order_number, view.sales_order))
    for line in view.lines:
        redactor.add(Kind.DOMAIN, line.domain)
        redactor.add(Kind.ACCOUNT, line.smart_account)
        redactor.add(Kind.VA, line.virtual_account)


def register_accounts(redactor: Redactor, accounts: Iterable[AccountRow]) -> None:
    """Register the Smart Accounts a dialog search listed (their names and domains)."""
    for account in accounts:
        redactor.add(Kind.DOMAIN, account.domain)
        redactor.add(Kind.ACCOUNT, account.account_name)


def value_pattern(value: str) -> re.Pattern[str]:
    """How a value is looked for in an output: whole (not inside a longer word), any case, any
    white space between its words; a number also with leading zeros."""
    if number := number_pattern(value):
        return re.compile(number)
    words = r"\s+".join(re.escape(word) for word in value.split())
    return re.compile(rf"(?<!\w){words}(?!\w)", re.IGNORECASE)


def values_in(texts: Mapping[str, str], values: Iterable[str]) -> list[tuple[str, str]]:
    """Every (name, value) where a value shows in a text, as written or HTML-escaped."""
    folded = {name: normal(text) for name, text in texts.items()}
    hits = []
    for value in {v for v in values if v and v.strip()}:
        forms = {value, escape(value, quote=True)}
        # The key drops an order number's leading zeros, which the pattern allows any of.
        needles = {value_key(form) for form in forms}
        for name, text in texts.items():
            # A plain substring search first: the pattern runs only where the words are.
            if any(needle in folded[name] for needle in needles) and any(
                value_pattern(form).search(text) for form in forms
            ):
                hits.append((name, value))
    return sorted(hits)


def find_values(folder: Path, values: Iterable[str]) -> list[tuple[str, str]]:
    """Every (file, value) where one of `values` shows in a file of the bundle folder.

    For a security officer's own list of customer names, domains and numbers, as well as the
    tests: whole values, any case, numbers with or without leading zeros.
    """
    texts = {
        path.name: path.read_text(encoding="utf-8", errors="replace")
        for path in sorted(folder.iterdir())
        if path.is_file()
    }
    return values_in(texts, values)
