"""Kept traces without credentials: cookie and authorization values and known secrets blanked.

A Playwright trace records every request and response the page made after the sign-in, each with
the session cookie; its snapshots record the values of input fields; its action log records the
parameters and results of API calls (storage states, cookies added). Before a trace is kept, its
archive is rewritten: in the network log the values of the `Cookie`, `Set-Cookie`,
`Authorization` and `Proxy-Authorization` headers and of every listed cookie become REDACTED, and
in every text entry (action log, network log, response bodies, snapshots) each registered secret
value does too (pages.secrets). Screenshots and other binary entries are kept as they are: a
password field shows dots, and sign-ins run with the trace stopped.
"""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path
from typing import Any

from agent.files import write_private
from pages.secrets import REDACTED, redact

SECRET_HEADERS = frozenset({"cookie", "set-cookie", "authorization", "proxy-authorization"})


def scrub_trace(path: Path) -> None:
    """Rewrite the trace archive at `path` without credentials (mode 0600)."""
    out = io.BytesIO()
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            data = source.read(info)
            try:
                text = data.decode("utf-8")
            except UnicodeDecodeError:
                target.writestr(info, data)  # an image or another binary resource
                continue
            if info.filename.endswith((".trace", ".network")):
                text = "".join(_scrub_line(line) for line in text.splitlines(keepends=True))
            target.writestr(info, redact(text).encode("utf-8"))
    write_private(path, out.getvalue())


def _scrub_line(line: str) -> str:
    """One JSON event of the action or network log, with header and cookie values blanked."""
    try:
        event = json.loads(line)
    except ValueError:
        return line
    ending = line[len(line.rstrip("\r\n")) :]
    return json.dumps(_scrub(event), ensure_ascii=False, separators=(",", ":")) + ending


def _scrub(value: Any) -> Any:
    if isinstance(value, list):
        return [_scrub(item) for item in value]
    if not isinstance(value, dict):
        return value
    if (
        isinstance(value.get("name"), str)
        and value["name"].lower() in SECRET_HEADERS
        and "value" in value
    ):
        return {**value, "value": REDACTED}
    scrubbed = {key: _scrub(item) for key, item in value.items()}
    cookies = scrubbed.get("cookies")
    if isinstance(cookies, list):
        scrubbed["cookies"] = [
            {**cookie, "value": REDACTED}
            if isinstance(cookie, dict) and "value" in cookie
            else cookie
            for cookie in cookies
        ]
    return scrubbed
