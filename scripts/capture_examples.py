"""Capture a bundle on every reference release of the mock and make each one reader fixtures.

    .venv/bin/python scripts/capture_examples.py            # writes tests/screens/<release>/
    .venv/bin/python scripts/capture_examples.py --replace  # after a release changed

Each release's walk is `agent.capture.walk.capture_walk` on ORDER, as the demo user, searching
the account ACCOUNT_DOMAIN in the dialog; the bundle goes through `to_test`, so the fixtures are
exactly what a partner would send and a maintainer would add.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import tempfile
from pathlib import Path

from pydantic import SecretStr

from agent.browser import open_browser
from agent.capture import CaptureBundle, to_test
from agent.capture.walk import capture_walk
from flows.session import Credentials, PortalSession
from mock_site.data import USERS
from mock_site.releases import REFERENCE_RELEASES
from mock_site.server import MockServer

# On Pending Initech and on Smart Account Hold: a hold, an account with a domain, and a search.
ORDER = "110000015"
ACCOUNT_DOMAIN = "acme.example"
DEMO = next(user for user in USERS if user.email == "demo.partner@northwind.example")
TESTS_ROOT = Path(__file__).resolve().parent.parent / "tests" / "screens"


async def capture_release(release: str, folder: Path, *, executable: str | None = None) -> None:
    """Write a bundle of ORDER on the mock's `release` into the empty `folder`."""
    server = MockServer(host="127.0.0.1", port=0, release=release).start()
    try:
        async with open_browser(executable=executable) as browser:
            context = await browser.new_context()
            page = await context.new_page()
            session = PortalSession(
                page=page,
                base_url=server.home_url,
                credentials=Credentials(username=DEMO.email, password=SecretStr(DEMO.password)),
                timeout_ms=10_000,
            )
            with CaptureBundle(folder, portal_url=server.home_url) as bundle:
                await capture_walk(session, bundle, ORDER, search_domain=ACCOUNT_DOMAIN)
            await context.close()
    finally:
        server.stop()


async def main(
    releases: tuple[str, ...], root: Path, replace: bool, executable: str | None
) -> None:
    for release in releases:
        target = root / release
        if target.exists():
            if not replace:
                print(f"{target} exists; --replace to capture it again")
                continue
            shutil.rmtree(target)
        with tempfile.TemporaryDirectory() as scratch:
            bundle = Path(scratch) / "bundle"
            await capture_release(release, bundle, executable=executable)
            print(f"{release}: {to_test(bundle, release, root)}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replace", action="store_true", help="capture existing fixtures again")
    parser.add_argument("--root", type=Path, default=TESTS_ROOT, help="the fixtures' folder")
    parser.add_argument("--release", action="append", help="only these releases")
    parser.add_argument("--chromium", help="the Chromium to run (default: the agent's choice)")
    args = parser.parse_args()
    chosen = tuple(args.release or REFERENCE_RELEASES)
    asyncio.run(main(chosen, args.root, args.replace, args.chromium))
