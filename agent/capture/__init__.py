"""Redacted captures of the portal's screens, and reader tests made from them.

The API the doctor and the CLI call:

    bundle = CaptureBundle(folder, portal_url=session.base_url, locale="en")  # refuses non-empty
    with bundle:                                      # writes the bundle when the block ends
        bundle.redactor.add(Kind.ORDER, "110000001")  # what the walk read, by kind
        register_view(bundle.redactor, view)          # an OrderView: numbers, accounts, VAs
        register_accounts(bundle.redactor, rows)      # a dialog search's AccountRows
        await capture_screen(bundle, page, 3, "order_details",
                             found={"order_details_heading": "role"}, read={...})
    to_test(folder, "acme-2025-06", Path("tests/screens"))  # a bundle becomes reader fixtures
    find_values(folder, ["Acme Corporation", "acme.com"])   # check a bundle for given values

`python -m agent.capture to-test BUNDLE NAME` and `python -m agent.capture check BUNDLE FILE`
do the last two from a shell.
"""

from agent.capture.bundle import (
    CaptureBundle,
    CaptureError,
    FolderNotEmpty,
    ValueLeft,
    capture_screen,
    find_values,
    register_accounts,
    register_view,
)
from agent.capture.fixtures import READERS, materialise, read_screen, restore, to_test
from agent.capture.redact import Kind, Redactor

__all__ = [
    "READERS",
    "CaptureBundle",
    "CaptureError",
    "FolderNotEmpty",
    "Kind",
    "Redactor",
    "ValueLeft",
    "capture_screen",
    "find_values",
    "materialise",
    "read_screen",
    "register_accounts",
    "register_view",
    "restore",
    "to_test",
]
