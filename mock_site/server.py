"""HTTP server of the mock portal: sign-on, SPA shell, JSON API, control API and fault injection."""

from __future__ import annotations

import argparse
import json
import threading
import time
from collections.abc import Callable
from http import HTTPStatus
from http.cookies import CookieError, SimpleCookie
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, unquote, urlsplit

from mock_site.data import book_rows
from mock_site.faults import PROFILES, FaultEngine, Faults, Kind
from mock_site.portal import Portal, PortalError
from mock_site.releases import DEFAULT_RELEASE, RELEASES, Release, UnknownRelease, find_release
from mock_site.words import (
    DEFAULT_LOCALE,
    LOCALES,
    WORDS,
    WORDS_PLACEHOLDER,
    UnknownLocale,
    find_locale,
    localize_page,
)

STATIC_DIR = Path(__file__).parent / "static"
SESSION_COOKIE = "ccw_session"
HOME_PATH = "/ccw/home"
SURVEY_HEADER = "X-Survey"
# Every answer of the portal's JSON API names the release, so that the SPA renders the next screen
# as the release current at that moment (a switch at run time needs no reload).
RELEASE_HEADER = "X-Release"
# Where index.html receives every release's options and the current release's name.
RELEASES_PLACEHOLDER = b"<!--releases-->"
SERVER_ERROR = "Something went wrong, please try again"
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
}

Reply = tuple[int, Any]


class MockServer:
    """The mock CCW portal on a background thread; see docs/mock-site.md for the whole contract."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        seed: int = 0,
        control: bool = True,
        faults: Faults | None = None,
        release: str = DEFAULT_RELEASE,
        locale: str = DEFAULT_LOCALE,
    ) -> None:
        self.host, self.port, self.seed, self.control = host, port, seed, control
        self._initial_release = find_release(release)
        self._release = self._initial_release
        self._initial_locale = find_locale(locale)
        self._locale = self._initial_locale
        self.portal = Portal()
        self.engine = FaultEngine(seed, faults)
        self._requests = 0
        self._count_lock = threading.Lock()
        self._release_lock = threading.Lock()
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def home_url(self) -> str:
        return self.url + HOME_PATH

    def start(self) -> MockServer:
        """Bind (port 0 picks a free port) and serve on a daemon thread."""
        self._httpd = _HTTPServer((self.host, self.port), _Handler, self)
        self.port = self._httpd.server_address[1]
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"mock-portal-{self.port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def reset(self) -> None:
        """Orders, faults, counters, history, release and locale back to the start; sessions stay
        signed in."""
        self.portal.reset()
        self.engine.reset()
        with self._count_lock:
            self._requests = 0
        with self._release_lock:
            self._release = self._initial_release
            self._locale = self._initial_locale

    @property
    def release(self) -> Release:
        """The release the portal renders now."""
        with self._release_lock:
            return self._release

    def set_release(self, name: str) -> Release:
        """Switch the release; the SPA renders its next screen in it. UnknownRelease if no such."""
        new = find_release(name)
        with self._release_lock:
            self._release = new
        return new

    @property
    def locale(self) -> str:
        """The language the portal's pages are served in now."""
        with self._release_lock:
            return self._locale

    def set_locale(self, name: str) -> str:
        """Serve pages in another language from the next page load on. UnknownLocale if no such."""
        new = find_locale(name)
        with self._release_lock:
            self._locale = new
        return new

    def set_faults(self, faults: Faults | None = None, **changes: Any) -> Faults:
        """Install faults: a whole Faults, or keyword knobs merged onto the defaults."""
        new = faults if faults is not None else Faults.model_validate(changes)
        if self.engine.replace(new):
            self.portal.expire_all_sessions()
        return self.engine.faults

    def merge_faults(self, changes: dict[str, Any]) -> Faults:
        """Merge a partial Faults JSON onto the current faults (POST /__mock__/faults)."""
        return self.set_faults(self.engine.merge(changes))

    def order(self, number: str) -> dict[str, Any] | None:
        return self.portal.snapshot(number)

    def stats(self) -> dict[str, Any]:
        with self._count_lock:
            requests = self._requests
        return {
            **self.portal.counters(),
            "requests": requests,
            "imposed_latency_ms": self.engine.latency_totals(),
            "faults": self.engine.faults.model_dump(),
            "release": self.release.name,
        }

    def latency(self) -> list[dict[str, Any]]:
        return self.engine.latency_log()

    def count_request(self) -> None:
        with self._count_lock:
            self._requests += 1


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], handler: type[_Handler], mock: MockServer) -> None:
        self.mock = mock
        super().__init__(address, handler)


def _safe_next(target: str | None) -> str:
    """Only paths inside the portal: never an open redirect."""
    if target and target.startswith("/ccw/") and not target.startswith("//"):
        return target
    return HOME_PATH


class _Handler(BaseHTTPRequestHandler):
    server: _HTTPServer
    server_version = "MockCCW/1.0"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        """Silence the per-request log lines on stderr."""

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    # --- routing -------------------------------------------------------------------------------

    def _dispatch(self, method: str) -> None:
        mock = self.server.mock
        self._cookie = None
        self._headers: dict[str, str] = {}
        url = urlsplit(self.path)
        path, query = url.path, {k: v[-1] for k, v in parse_qs(url.query).items()}
        try:
            if path.startswith("/__mock__/"):
                if not mock.control:
                    self._send_json(404, {"error": "Not found"})
                else:
                    self._send_json(*self._control(method, path, query))
                return
            mock.count_request()
            if path.startswith("/static/") and method == "GET":
                self._static(path.removeprefix("/static/"))
            elif path == "/favicon.ico":
                self._send(HTTPStatus.NO_CONTENT, b"", "image/x-icon", {})
            elif path in ("/", "/ccw", "/ccw/"):
                self._redirect(HOME_PATH)
            elif path == "/signon" and method == "GET":
                self._delay("page", path)
                self._send_page("signon.html")
            elif path.startswith("/signon/api/") and method == "POST":
                self._json_call(path, lambda: self._signon(path), portal_api=False)
            elif path.startswith("/ccw/") and method == "GET":
                self._delay("page", path)
                if self._user() is None:
                    self._redirect("/signon?next=" + quote(self.path, safe="/"))
                else:
                    self._send_index()
            elif path.startswith("/api/"):
                self._api_call(method, path, query)
            else:
                self._send_json(404, {"error": "Not found"})
        except (BrokenPipeError, ConnectionResetError):
            pass  # the browser gave up on a slow answer; nothing to tell it

    def _delay(self, kind: Kind, path: str) -> None:
        ms = self.server.mock.engine.latency_ms(kind, path)
        if ms:
            time.sleep(ms / 1000)

    def _json_call(
        self, path: str, call: Callable[[], Reply], portal_api: bool, changes_state: bool = False
    ) -> None:
        """Run a JSON call under the faults: fail_next before/after, or json_error_rate.

        A json_error_rate error on a call that changes state applies the change first for
        json_error_applied_fraction of such errors.
        """
        engine = self.server.mock.engine
        when = engine.take_fail_rule(path)
        if when is None and portal_api and engine.random_error():
            when = "after" if changes_state and engine.error_applies_change() else "before"
        if when == "before":
            self._send_json(500, {"error": SERVER_ERROR})
            return
        try:
            status, body = call()
        except PortalError as exc:
            status, body = exc.status, {"error": exc.message}
        if when == "after":
            self._send_json(500, {"error": SERVER_ERROR})
            return
        survey = portal_api and status == 200 and self._renders_screen(path) and engine.survey()
        self._send_json(status, body, {SURVEY_HEADER: "1"} if survey else None)

    @staticmethod
    def _renders_screen(path: str) -> bool:
        return path not in ("/api/session", "/api/logout")

    def _api_call(self, method: str, path: str, query: dict[str, str]) -> None:
        self._delay("json", path)
        self._headers[RELEASE_HEADER] = self.server.mock.release.name
        email = self._user()
        if email is None:
            self._send_json(401, {"error": "Session expired", "signon": "/signon"})
            return
        body = self._read_body() if method == "POST" else {}
        changes_state = method == "POST" and path.endswith("/assign")
        self._json_call(
            path, lambda: self._api(method, path, query, body, email), True, changes_state
        )

    # --- sign-on (the imitation SSO host) ------------------------------------------------------

    def _signon(self, path: str) -> Reply:
        body = self._read_body()
        portal = self.server.mock.portal
        target = _safe_next(str(body.get("next") or ""))
        if path == "/signon/api/password":
            result, token = portal.sign_in(
                str(body.get("email", "")), str(body.get("password", ""))
            )
            if result == "fail":
                return 401, {"error": "Unable to sign in"}
            if result == "mfa":
                return 200, {"next_step": "code", "transaction": token}
        elif path == "/signon/api/code":
            token = portal.verify_code(str(body.get("transaction", "")), str(body.get("code", "")))
            if token is None:
                return 401, {"error": "Unable to sign in"}
        else:
            return 404, {"error": "Not found"}
        self._cookie = f"{SESSION_COOKIE}={token}; Path=/; HttpOnly; SameSite=Lax"
        return 200, {"next_step": "done", "location": target}

    # --- the portal's JSON API -----------------------------------------------------------------

    def _api(
        self, method: str, path: str, query: dict[str, str], body: dict[str, Any], email: str
    ) -> Reply:
        portal = self.server.mock.portal
        parts = [unquote(p) for p in path.removeprefix("/api/").split("/")]
        match method, parts:
            case "GET", ["session"]:
                return 200, {"email": email}
            case "GET", ["home"]:
                return 200, {"email": email}
            case "POST", ["logout"]:
                portal.sign_out(self._session_token())
                self._cookie = f"{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0"
                return 200, {"location": "/signon?next=" + quote(HOME_PATH, safe="/")}
            case "GET", ["search"]:
                results = portal.search(email, query.get("q", ""))
                found: dict[str, Any] = {"results": results}
                mock = self.server.mock
                opens = (
                    mock.release.single_match_opens_details
                    or mock.engine.faults.single_match_opens_details
                )
                if len(results) == 1 and opens:
                    found["open"] = results[0]["sales_order"]
                if not results and mock.engine.faults.no_orders_words:
                    found["empty_message"] = mock.engine.faults.no_orders_words
                return 200, found
            case "GET", ["orders", number]:
                return 200, portal.order_details(email, number)
            case "GET", ["orders", number, "assignments"]:
                late_by_s = self.server.mock.engine.assignment_delay_s()
                return 200, portal.assignments(email, number, late_by_s)
            case "POST", ["orders", number, "assign"]:
                result = portal.assign(
                    email,
                    number,
                    str(body.get("domain", "")),
                    str(body.get("virtual_account", "")),
                    body.get("terms_accepted") is True,
                )
                return 200, result
            case "GET", ["smart-accounts"]:
                by, value = query.get("by", ""), query.get("value", "")
                return 200, self._account_page(portal.search_accounts(by, value), query)
            case "GET", ["smart-accounts", domain, "virtual-accounts"]:
                return 200, {"virtual_accounts": portal.virtual_accounts(domain)}
        return 404, {"error": "Not found"}

    def _account_page(
        self, accounts: list[dict[str, str]], query: dict[str, str]
    ) -> dict[str, Any]:
        """One page of the accounts found, as the release pages them (all at once when it does
        not), with the portal's own words for an empty answer when a knob sets them."""
        mock = self.server.mock
        size = mock.release.account_page_size
        answer: dict[str, Any] = {"accounts": accounts, "total": len(accounts)}
        if not accounts and mock.engine.faults.no_accounts_words:
            answer["empty_message"] = mock.engine.faults.no_accounts_words
        if size is None:
            return answer
        # Longest names first: an exact match (the shortest name) tends to land on a later page.
        ordered = sorted(accounts, key=lambda a: (-len(a["name"]), a["name"], a["domain"]))
        pages = max(1, -(-len(ordered) // size))
        try:
            page = min(max(int(query.get("page", "1")), 1), pages)
        except ValueError:
            page = 1
        answer.update(accounts=ordered[(page - 1) * size : page * size], page=page, pages=pages)
        return answer

    # --- control API ---------------------------------------------------------------------------

    def _control(self, method: str, path: str, query: dict[str, str]) -> Reply:
        mock = self.server.mock
        name = path.removeprefix("/__mock__/")
        if method == "POST" and name == "reset":
            mock.reset()
            return 200, {"ok": True}
        if method == "GET" and name.startswith("orders/"):
            order = mock.order(unquote(name.removeprefix("orders/")))
            return (200, order) if order else (404, {"error": "Not found"})
        if method == "GET" and name == "stats":
            return 200, mock.stats()
        if method == "GET" and name == "latency":
            return 200, mock.latency()
        if name == "faults" and method in ("GET", "POST"):
            if method == "POST":
                try:
                    return 200, mock.merge_faults(self._read_body()).model_dump()
                except ValueError as exc:
                    return 400, {"error": str(exc)}
            return 200, mock.engine.faults.model_dump()
        if name == "release" and method in ("GET", "POST"):
            if method == "POST":
                try:
                    mock.set_release(str(self._read_body().get("release", "")))
                except UnknownRelease as exc:
                    return 400, {"error": str(exc), "known": list(RELEASES)}
            return 200, {"release": mock.release.name, "known": list(RELEASES)}
        if name == "locale" and method in ("GET", "POST"):
            if method == "POST":
                try:
                    mock.set_locale(str(self._read_body().get("locale", "")))
                except UnknownLocale as exc:
                    return 400, {"error": str(exc), "known": list(LOCALES)}
            return 200, {"locale": mock.locale, "known": list(LOCALES)}
        if method == "GET" and name == "book":
            limit = query.get("limit", "")
            return 200, book_rows(int(limit)) if limit.isdigit() else book_rows()
        return 404, {"error": "Not found"}

    # --- plumbing ------------------------------------------------------------------------------

    _cookie: str | None = None
    _headers: dict[str, str]

    def _session_token(self) -> str | None:
        try:
            cookie = SimpleCookie(self.headers.get("Cookie", ""))
        except CookieError:
            return None
        morsel = cookie.get(SESSION_COOKIE)
        return morsel.value if morsel else None

    def _user(self) -> str | None:
        mock = self.server.mock
        return mock.portal.session_user(self._session_token(), mock.engine.session_ttl_s())

    def _read_body(self) -> dict[str, Any]:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            return {}
        return body if isinstance(body, dict) else {}

    def _send(self, status: int, payload: bytes, content_type: str, extra: dict[str, str]) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("Cache-Control", "no-store")
        for key, value in {**self._headers, **extra}.items():
            self.send_header(key, value)
        if self._cookie:
            self.send_header("Set-Cookie", self._cookie)
        self.end_headers()
        self.wfile.write(payload)

    def _send_json(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        payload = json.dumps(body).encode()
        self._send(status, payload, "application/json", headers or {})

    def _send_file(self, file: Path) -> None:
        content_type = CONTENT_TYPES.get(file.suffix, "application/octet-stream")
        self._send(200, file.read_bytes(), content_type, {})

    def _send_index(self) -> None:
        """The SPA shell, with every release's options and the name of the current one."""
        options = {
            "current": self.server.mock.release.name,
            "releases": {name: r.model_dump() for name, r in RELEASES.items()},
        }
        # "</" cannot end the script early; json.dumps leaves it alone, so escape it here.
        script = json.dumps(options).replace("</", "<\\/")
        tag = f'<script id="releases" type="application/json">{script}</script>'.encode()
        self._send_page("index.html", {RELEASES_PLACEHOLDER: tag})

    def _send_page(self, name: str, inserts: dict[bytes, bytes] | None = None) -> None:
        """A static page in the current locale, with its words for the scripts to use."""
        locale = self.server.mock.locale
        words = json.dumps({"locale": locale, "words": WORDS[locale]}).replace("</", "<\\/")
        tag = f'<script id="words" type="application/json">{words}</script>'
        renamed = self.server.mock.release.renamed
        page = localize_page((STATIC_DIR / name).read_text("utf-8"), locale, renamed).encode()
        for placeholder, value in {WORDS_PLACEHOLDER: tag.encode(), **(inserts or {})}.items():
            page = page.replace(placeholder, value, 1)
        self._send(200, page, CONTENT_TYPES[".html"], {})

    def _static(self, name: str) -> None:
        files = {p.name: p for p in STATIC_DIR.iterdir() if p.is_file()}
        if name in files:
            self._send_file(files[name])
        else:
            self._send_json(404, {"error": "Not found"})

    def _redirect(self, location: str) -> None:
        self._send(HTTPStatus.FOUND, b"", "text/plain", {"Location": location})


def serve_forever(
    host: str,
    port: int,
    seed: int,
    profile: str,
    release: str = DEFAULT_RELEASE,
    locale: str = DEFAULT_LOCALE,
) -> None:
    """Serve the mock portal in the foreground (control API on) until interrupted."""
    server = MockServer(
        host=host,
        port=port,
        seed=seed,
        control=True,
        faults=PROFILES[profile],
        release=release,
        locale=locale,
    )
    server.start()
    print(
        f"Mock CCW portal: {server.home_url}  (release {release}, locale {locale},"
        f" profile {profile}, seed {seed}; Ctrl+C stops)",
        flush=True,
    )
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()


def main(argv: list[str] | None = None) -> None:
    """`python -m mock_site`: parse the options and serve."""
    parser = argparse.ArgumentParser(prog="python -m mock_site", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765, help="0 picks a free port")
    parser.add_argument("--seed", type=int, default=0, help="seeds faults and surveys")
    parser.add_argument("--profile", choices=sorted(PROFILES), default="none")
    parser.add_argument(
        "--release", choices=list(RELEASES), default=DEFAULT_RELEASE, help="layout variant"
    )
    parser.add_argument(
        "--locale", choices=list(LOCALES), default=DEFAULT_LOCALE, help="language of the pages"
    )
    args = parser.parse_args(argv)
    serve_forever(args.host, args.port, args.seed, args.profile, args.release, args.locale)
