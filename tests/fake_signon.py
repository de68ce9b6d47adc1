"""A stand-alone sign-on page on a local address, recording whatever reaches it.

It is not the bundled mock: it imitates the sign-on forms that went wrong (a Password field that
stays disabled, a page on a host credentials must not go to). Each field reports every change
to the server as it is typed, so `typed` lists anything the agent put into it.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sign In</title></head>
<body>
  <h1>Sign In</h1>
  <form id="step-email">
    <label for="email">Email</label><input id="email" type="email">
    <button type="submit">Next</button>
  </form>
  <form id="step-password" hidden>
    <label for="password">Password</label><input id="password" type="password" {disabled}>
    <button type="submit">Verify</button>
  </form>
  <script>
    for (const field of document.querySelectorAll("input")) {{
      field.addEventListener("input", () => fetch("/typed", {{
        method: "POST", body: JSON.stringify({{field: field.id, value: field.value}}),
      }}));
    }}
    document.getElementById("step-email").addEventListener("submit", (event) => {{
      event.preventDefault();
      document.getElementById("step-password").hidden = false;
    }});
    document.getElementById("step-password").addEventListener("submit", (event) => {{
      event.preventDefault();
      fetch("/verify", {{method: "POST", body: document.getElementById("password").value}});
    }});
  </script>
</body></html>
"""


class FakeSignOn:
    """A sign-on page at `/signon` on `host`; `/home` sends the browser to `home_redirect`."""

    def __init__(
        self, host: str = "127.0.0.1", *, password_disabled: bool = False, home_redirect: str = ""
    ) -> None:
        self.page = PAGE.format(disabled="disabled" if password_disabled else "").encode()
        self.home_redirect = home_redirect
        self.posts: list[tuple[str, str]] = []
        self.typed: list[dict[str, Any]] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path.startswith("/home") and owner.home_redirect:
                    self.send_response(302)
                    self.send_header("Location", owner.home_redirect)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(owner.page)))
                self.end_headers()
                self.wfile.write(owner.page)

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
                owner.posts.append((self.path, body))
                if self.path == "/typed":
                    owner.typed.append(json.loads(body))
                self.send_response(204)
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer((host, 0), Handler)
        self.host = host
        self.port = self.server.server_address[1]
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def url(self, path: str = "/home") -> str:
        return f"http://{self.host}:{self.port}{path}"

    def __enter__(self) -> FakeSignOn:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
