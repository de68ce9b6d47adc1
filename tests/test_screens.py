"""Reader tests made from capture bundles: every screen of tests/screens/*/ that a reader knows is
loaded without a server (`page.set_content`) and read by the page objects; what they return, with
the bundle's placeholders put back, must be what expected.json says.

A new folder comes from `to_test` (see README, "Learning a portal build from a capture"); the
examples are captures of the mock's releases made by scripts/capture_examples.py.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Page

from agent.capture import materialise, read_screen, restore
from agent.capture.fixtures import EXPECTED, READERS
from pages.labels import labels

SCREENS = Path(__file__).parent / "screens"
# A static page has nothing left to load: a reader that waits longer has not found its landmark.
READ_TIMEOUT_MS = 3_000


def cases(root: Path = SCREENS) -> list[Any]:
    """One case per screen with a reader in each fixtures folder under `root`."""
    found = []
    for expected_file in sorted(root.glob(f"*/{EXPECTED}")):
        expected = json.loads(expected_file.read_text(encoding="utf-8"))
        for screen in expected["screens"]:
            if screen["name"] in READERS:
                folder = expected_file.parent
                found.append(
                    pytest.param(
                        folder, expected["source"]["locale"], screen,
                        id=f"{folder.name}-{screen['html'].removesuffix('.html')}",
                    )
                )  # fmt: skip
    return found


def test_every_reference_release_has_example_fixtures() -> None:
    from mock_site.releases import REFERENCE_RELEASES

    shipped = {path.parent.name for path in SCREENS.glob(f"*/{EXPECTED}")}

    assert set(REFERENCE_RELEASES) <= shipped


async def read_captured(page: Page, folder: Path, locale: str, screen: dict[str, Any]) -> Any:
    """What the reader returns on a captured screen loaded into `page`, with placeholders."""
    html = (folder / screen["html"]).read_text(encoding="utf-8")
    await page.set_content(materialise(html))
    page.set_default_timeout(READ_TIMEOUT_MS)
    return restore(await read_screen(screen["name"], page, labels(locale)))


@pytest.mark.parametrize(("folder", "locale", "screen"), cases())
async def test_the_reader_reads_the_captured_screen(
    page: Page, folder: Path, locale: str, screen: dict[str, Any]
) -> None:
    read = await read_captured(page, folder, locale, screen)

    assert read == screen["expect"]
