"""A capture bundle as reader-test fixtures: tests/screens/NAME/ with the screens and expected.json.

expected.json lists each screen with the reader that reads it and what that reader should
return, written with the bundle's placeholders ("<ORDER-1>", "<ACCOUNT-2>"); `to_test` fills it
from what the agent read when the screen was captured, and a maintainer corrects it where the
agent read wrong. The test loads each screen with its placeholders turned into values of the same
shape (`materialise`: "<ORDER-1>" becomes a 9-digit number, "<DOMAIN-1>" a domain name) so that
readers which look for numbers and domains work, and turns what the reader returns back into
placeholders (`restore`) before comparing.
"""

from __future__ import annotations

import json
import re
import shutil
from dataclasses import asdict
from pathlib import Path
from typing import Any

from playwright.async_api import Page

from agent.capture.bundle import MANIFEST
from agent.capture.redact import PLACEHOLDER, Kind
from pages.assign_dialog import AssignDialog
from pages.assignments import SmartAccountAssignmentPage
from pages.errors import PageError
from pages.labels import Labels
from pages.order_details import OrderDetailsPage

EXPECTED = "expected.json"
# The screen names whose reads become tests, the reader for each, and what it returns.
READERS: dict[str, tuple[str, ...]] = {
    "order_details": ("sales_order", "web_order", "order_status", "holds"),
    "assignments": ("lines", "assign_disabled_reason"),
    "account_results": ("accounts",),
}
ABOUT = (
    "Reader-test fixtures made from a capture bundle by `to_test`. Each screen with a reader is "
    "loaded and read by tests/test_screens.py; 'expect' is what the reader must return, with "
    "the bundle's placeholders. Correct 'expect' to what the screen shows, then fix the reader."
)
_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")

# Each kind's stand-in: a value of the shape the readers look for, and the pattern that finds
# it again in what they return.
_SAMPLES: dict[Kind, tuple[str, str]] = {
    Kind.ORDER: ("7{n:08d}", r"(?<!\d)7(\d{8})(?!\d)"),
    Kind.NUMBER: ("6{n:08d}", r"(?<!\d)6(\d{8})(?!\d)"),
    Kind.EMAIL: ("email-{n}@mail.test", r"(?<![\w.-])email-(\d+)@mail\.test(?!\w)"),
    Kind.DOMAIN: ("domain-{n}.test", r"(?<![\w.@-])domain-(\d+)\.test(?!\w)"),
    Kind.ACCOUNT: ("Account-{n}", r"(?<![\w-])Account-(\d+)(?!\w)"),
    Kind.VA: ("VA-{n}", r"(?<![\w-])VA-(\d+)(?!\w)"),
    Kind.PERSON: ("Person-{n}", r"(?<![\w-])Person-(\d+)(?!\w)"),
    Kind.TOKEN: ("token-{n}", r"(?<![\w-])token-(\d+)(?!\w)"),
}
_NUMBERS = (Kind.ORDER, Kind.NUMBER)  # their stand-ins start with a digit that is not n
_ESCAPED = re.compile(r"&lt;(?P<kind>[A-Z]+)-(?P<n>\d+)&gt;")
_RESTORE = re.compile(
    "|".join(f"(?P<{kind}>{pattern})" for kind, (_, pattern) in _SAMPLES.items()), re.IGNORECASE
)


def _sample(found: re.Match[str]) -> str:
    kind = found["kind"]
    if kind not in Kind.__members__:
        return found.group(0)
    return _SAMPLES[Kind(kind)][0].format(n=int(found["n"]))


def materialise(text: str) -> str:
    """`text` (HTML or plain) with each placeholder replaced by a value of its kind's shape."""
    return PLACEHOLDER.sub(_sample, _ESCAPED.sub(_sample, text))


def restore(value: Any) -> Any:
    """`value` (a reader's result: strings, lists, dicts) with the stand-ins made placeholders
    again."""
    if isinstance(value, str):

        def back(found: re.Match[str]) -> str:
            kind = next(k for k in _SAMPLES if found.group(str(k)) is not None)
            number = re.search(r"\d+", found.group(0)[1:] if kind in _NUMBERS else found.group(0))
            assert number is not None  # every stand-in holds its number
            return f"<{kind}-{int(number.group(0))}>"

        return _RESTORE.sub(back, value)
    if isinstance(value, dict):
        return {key: restore(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [restore(item) for item in value]
    return value


async def read_screen(name: str, page: Page, words: Labels) -> dict[str, Any]:
    """What the page objects read on the screen `page` shows, for a screen name of READERS."""
    if name == "order_details":
        details = OrderDetailsPage(page, words)
        return {
            "sales_order": await details.sales_order(),
            "web_order": await details.web_order(),
            "order_status": await details.order_status(),
            "holds": list(await details.holds()),
        }
    if name == "assignments":
        screen = SmartAccountAssignmentPage(page, words)
        lines = []
        for row in await screen.lines():
            try:
                eligible: bool | str = screen.line_is_eligible(row)
            except PageError as exc:
                eligible = f"unreadable: {exc}"
            lines.append(asdict(row) | {"eligible": eligible})
        return {"lines": lines, "assign_disabled_reason": await screen.assign_disabled_reason()}
    if name == "account_results":
        return {"accounts": [asdict(row) for row in await AssignDialog(page, words).accounts()]}
    raise ValueError(f"no reader for a screen named {name!r}; known: {', '.join(READERS)}")


def to_test(bundle: Path, name: str, tests_root: Path) -> Path:
    """Write `tests_root/NAME/`: the bundle's screens (HTML and ARIA snapshots) and an
    expected.json for every screen READERS knows. Refuses a NAME that exists or is not a plain
    lower-case name. Returns the folder."""
    if not _NAME.fullmatch(name):
        raise ValueError(f"{name!r} is not a fixture name: lower-case letters, digits, - and _")
    target = tests_root / name
    if target.exists():
        raise FileExistsError(f"{target} exists; choose another name or remove it first")
    manifest = json.loads((bundle / MANIFEST).read_text(encoding="utf-8"))
    target.mkdir(parents=True)
    screens = []
    shutil.copyfile(bundle / MANIFEST, target / MANIFEST)
    for screen in manifest["screens"]:
        for key in ("html", "aria"):
            shutil.copyfile(bundle / screen[key], target / screen[key])
        entry: dict[str, Any] = {
            "html": screen["html"],
            "aria": screen["aria"],
            "step": screen["step"],
            "name": screen["name"],
        }
        keys = READERS.get(screen["name"])
        if keys is not None:
            read = screen.get("read") or {}
            entry["expect"] = {key: read.get(key) for key in keys}
        screens.append(entry)
    expected = {
        "about": ABOUT,
        "source": {
            "portal_host": manifest["portal"]["host"],
            "agent_version": manifest["agent_version"],
            "locale": manifest["locale"],
            "captured_at": manifest["captured_at"],
        },
        "screens": screens,
    }
    (target / EXPECTED).write_text(
        json.dumps(expected, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    return target
