"""The mock portal at the HTTP level: rules, access, search, sign-in, faults and the control API."""

from __future__ import annotations

import time

import pyotp
import pytest
from helpers import DEMO, MFA, MockClient, run_mock_module

from mock_site.data import BOOK_SIZE, SMART_ACCOUNTS, book_rows
from mock_site.faults import PROFILES, Faults
from mock_site.server import MockServer

# --- assignment rules -------------------------------------------------------------------------


def test_assigning_an_active_account_moves_every_line_and_releases_the_hold(
    mock: MockServer, client: MockClient
) -> None:
    status, _ = client.assign("110000001", "acme.example", "Campus-Network")

    assert status == 200
    order = mock.order("110000001")
    assert order is not None
    assert order["holds"] == []
    assert {(ln["smart_account"], ln["virtual_account"]) for ln in order["lines"]} == {
        ("Acme Corporation", "Campus-Network")
    }
    assert order["submissions"][0]["lines"] == ["1.0", "2.0"]


def test_a_pending_account_leaves_the_hold_and_export_hold_stays(
    mock: MockServer, client: MockClient
) -> None:
    client.assign("110000007", "initech.example", "DEFAULT")
    client.assign("110000006", "acme.example", "DEFAULT")

    pending, export = mock.order("110000007"), mock.order("110000006")
    assert pending is not None and export is not None
    assert pending["holds"] == ["Smart Account Hold"]
    assert pending["lines"][0]["smart_account"] == "Initech"
    assert export["holds"] == ["Export Hold"]


def test_entitled_lines_are_left_untouched(mock: MockServer, client: MockClient) -> None:
    status, body = client.assign("110000014", "globex.example", "Production")

    assert status == 200 and body["lines"] == ["2.0", "3.0"]
    order = mock.order("110000014")
    assert order is not None
    assert [ln["smart_account"] for ln in order["lines"]] == [
        "Northwind Holding",
        "Globex Industries",
        "Globex Industries",
    ]


@pytest.mark.parametrize(
    ("order", "reason"),
    [
        ("110000004", "the order status is Shipped."),
        ("110000005", "the order status is Closed."),
        ("110000016", "every line has an active entitlement."),
    ],
)
def test_assignment_is_refused_when_not_allowed(
    mock: MockServer, client: MockClient, order: str, reason: str
) -> None:
    _, view = client.get(f"/api/orders/{order}/assignments")
    status, body = client.assign(order, "globex.example", "DEFAULT")

    assert view["can_assign"] is False
    assert view["reason"] == f"Smart Account assignment is not available: {reason}"
    assert status == 409
    snapshot = mock.order(order)
    assert snapshot is not None and snapshot["submissions"] == []


def test_assignment_needs_terms_and_a_real_virtual_account(client: MockClient) -> None:
    no_terms = client.post(
        "/api/orders/110000002/assign", {"domain": "globex.example", "virtual_account": "DEFAULT"}
    )
    wrong_va = client.assign("110000002", "globex.example", "Nowhere")

    assert no_terms[0] == 400 and wrong_va[0] == 400


def test_history_counts_every_submission(mock: MockServer, client: MockClient) -> None:
    client.assign("110000002", "globex.example", "Production")
    client.assign("110000002", "globex.example", "DEFAULT")

    order = mock.order("80000002")
    assert order is not None
    assert [s["virtual_account"] for s in order["submissions"]] == ["Production", "DEFAULT"]
    assert order["submissions"][0]["user"] == DEMO.email
    assert mock.stats()["submissions"] == 2


# --- access -----------------------------------------------------------------------------------


def test_a_forbidden_order_answers_exactly_like_a_missing_one(client: MockClient) -> None:
    forbidden = client.call("GET", "/api/orders/110000011")
    missing = client.call("GET", "/api/orders/110000099")

    assert forbidden[0] == missing[0] == 404
    assert forbidden[2] == missing[2]
    assert client.get("/api/search?q=110000011")[1]["results"] == []
    assert client.assign("110000011", "globex.example", "DEFAULT")[0] == 404


@pytest.mark.parametrize(
    ("email", "password", "visible", "hidden"),
    [
        ("ops@fabrikam-partners.example", "Fabrikam-Ops-1", "110000011", "110000001"),
        ("buyer@acme.example", "Acme-Buyer-1", "110000003", "110000002"),
        ("licensing.support@cisco.com", "Internal-Support-1", "110000011", None),
    ],
)
def test_users_see_only_the_orders_they_may(
    mock: MockServer, email: str, password: str, visible: str, hidden: str | None
) -> None:
    user = MockClient(mock).sign_in(email, password)

    assert user.get(f"/api/orders/{visible}")[0] == 200
    if hidden:
        assert user.get(f"/api/orders/{hidden}")[0] == 404


def test_a_page_without_a_session_redirects_to_sign_on_with_next(mock: MockServer) -> None:
    status, head, _ = MockClient(mock).call("GET", "/ccw/orders/110000001?tab=1")

    assert status == 302
    assert head["location"] == "/signon?next=/ccw/orders/110000001%3Ftab%3D1"


def test_json_without_a_session_is_401(mock: MockServer) -> None:
    assert MockClient(mock).get("/api/orders/110000001")[0] == 401


# --- search semantics -------------------------------------------------------------------------


def test_a_web_order_number_finds_its_sales_order(client: MockClient) -> None:
    _, body = client.get("/api/search?q=80000012")
    _, by_so = client.get("/api/search?q=110000012")

    assert body["results"][0]["type"] == "Web Order"
    assert body["results"][0]["sales_order"] == "110000012"
    assert by_so["results"][0]["type"] == "Sales Order"


@pytest.mark.parametrize(
    ("by", "value", "domains"),
    [
        ("domain", "ACME.example", ["acme.example"]),
        ("domain", "acme", []),
        ("name", "umbrella corp", ["umbrella.example", "emea.umbrella.example"]),
        ("name", "Stark Industries", ["stark.example", "stark-industries.example"]),
        ("email", "IT-admin@umbrella.example", ["umbrella.example", "emea.umbrella.example"]),
        ("email", "licensing@acme.example", ["acme.example"]),
    ],
)
def test_smart_account_search_semantics(
    client: MockClient, by: str, value: str, domains: list[str]
) -> None:
    _, body = client.get(f"/api/smart-accounts?by={by}&value={value.replace(' ', '%20')}")

    found = [a["domain"] for a in body["accounts"]]
    if by == "name" and value == "umbrella corp":
        assert found[:2] == domains and "labs.umbrella.example" in found
    else:
        assert found == domains


def test_virtual_accounts_keep_their_spelling(client: MockClient) -> None:
    _, body = client.get("/api/smart-accounts/acme.example/virtual-accounts")

    assert body["virtual_accounts"] == ["DEFAULT", "Campus-Network", "DC West", "lab Sandbox"]


def test_book_rows_name_real_accounts_and_virtual_accounts(mock: MockServer) -> None:
    accounts = {sa.domain: sa for sa in SMART_ACCOUNTS}
    rows = book_rows()

    assert len(rows) == BOOK_SIZE and rows[0]["order_number"] == "2000000001"
    assert all(r["virtual_account"] in accounts[r["domain"]].virtual_accounts for r in rows)
    assert MockClient(mock).get("/__mock__/book?limit=3")[1] == rows[:3]
    assert mock.order("9000000001") == mock.order("2000000001")


# --- sign-in ----------------------------------------------------------------------------------


def test_logins_are_counted_per_user_and_failures_are_not(mock: MockServer) -> None:
    MockClient(mock).sign_in()
    MockClient(mock).sign_in()
    status, body = MockClient(mock).post(
        "/signon/api/password", {"email": DEMO.email, "password": "wrong"}
    )
    unknown = MockClient(mock).post(
        "/signon/api/password", {"email": "x@y.example", "password": "z"}
    )

    assert status == 401 and body == {"error": "Unable to sign in"} and unknown[1] == body
    assert mock.stats()["logins_by_user"] == {DEMO.email: 2}
    assert mock.stats()["logins"] == 2


def test_totp_sign_in_accepts_one_step_of_drift_and_returns_to_next(mock: MockServer) -> None:
    assert MFA.totp_secret is not None
    user = MockClient(mock)
    totp = pyotp.TOTP(MFA.totp_secret)
    _, step = user.post("/signon/api/password", {"email": MFA.email, "password": MFA.password})
    cookie_before_code = user.cookie
    old = totp.at(time.time() - 120)
    rejected = user.post("/signon/api/code", {"transaction": step["transaction"], "code": old})
    status, done = user.post(
        "/signon/api/code",
        {
            "transaction": step["transaction"],
            "code": totp.at(time.time() - 30),
            "next": "/ccw/orders/110000001",
        },
    )

    assert step["next_step"] == "code" and not cookie_before_code
    assert rejected[0] == 401
    assert status == 200 and done["location"] == "/ccw/orders/110000001"
    assert user.get("/api/session")[1] == {"email": MFA.email}
    assert mock.stats()["logins_by_user"] == {MFA.email: 1}


def test_sign_on_never_redirects_outside_the_portal(mock: MockServer) -> None:
    _, body = MockClient(mock).post(
        "/signon/api/password",
        {"email": DEMO.email, "password": DEMO.password, "next": "https://elsewhere.example/"},
    )
    assert body["location"] == "/ccw/home"


def test_the_session_cookie_is_http_only(mock: MockServer) -> None:
    _, head, _ = MockClient(mock).call(
        "POST", "/signon/api/password", {"email": DEMO.email, "password": DEMO.password}
    )
    assert "HttpOnly" in head["set-cookie"]


# --- faults -----------------------------------------------------------------------------------


def test_latency_is_imposed_and_recorded_per_request(mock: MockServer, client: MockClient) -> None:
    mock.set_faults(json_latency_ms=40, json_jitter_ms=10, page_latency_ms=20)
    started = time.monotonic()
    client.get("/api/orders/110000001")
    elapsed_ms = (time.monotonic() - started) * 1000
    client.call("GET", "/ccw/home")

    log = mock.latency()[-2:]
    assert [(e["path"], e["kind"]) for e in log] == [
        ("/api/orders/110000001", "json"),
        ("/ccw/home", "page"),
    ]
    assert 30 <= log[0]["ms"] <= 50 and log[1]["ms"] == 20
    assert elapsed_ms >= log[0]["ms"]
    assert mock.stats()["imposed_latency_ms"] == {"page": 20, "json": log[0]["ms"]}


def test_the_error_rate_is_reproducible_with_the_seed(mock: MockServer, client: MockClient) -> None:
    def statuses() -> list[int]:
        mock.set_faults(json_error_rate=0.5)
        return [client.get("/api/search?q=110000001")[0] for _ in range(16)]

    first = statuses()
    mock.reset()
    second = statuses()

    assert first == second
    assert set(first) == {200, 500}


def test_a_500_carries_the_portal_message(mock: MockServer, client: MockClient) -> None:
    mock.set_faults(json_error_rate=1.0)
    status, body = client.get("/api/orders/110000001")
    assert status == 500 and body == {"error": "Something went wrong, please try again"}


def test_fail_next_before_changes_nothing(mock: MockServer, client: MockClient) -> None:
    mock.set_faults(fail_next=[{"path_contains": "/assign", "count": 1, "when": "before"}])

    first = client.assign("110000002", "globex.example", "Production")
    second = client.assign("110000002", "globex.example", "Production")

    order = mock.order("110000002")
    assert order is not None
    assert (first[0], second[0]) == (500, 200)
    assert len(order["submissions"]) == 1


def test_fail_next_after_applies_the_change_then_answers_500(
    mock: MockServer, client: MockClient
) -> None:
    mock.set_faults(fail_next=[{"path_contains": "/assign", "count": 1, "when": "after"}])

    status, _ = client.assign("110000002", "globex.example", "Production")

    order = mock.order("110000002")
    assert order is not None
    assert status == 500
    assert len(order["submissions"]) == 1
    assert order["lines"][0]["virtual_account"] == "Production"
    assert mock.engine.faults.fail_next[0].count == 0


def test_sessions_expire_after_the_ttl(mock: MockServer, client: MockClient) -> None:
    mock.set_faults(session_ttl_s=0.2)
    assert client.get("/api/session")[0] == 200
    time.sleep(0.25)  # the server-side clock has to pass the TTL; nothing to wait on instead
    assert client.get("/api/session")[0] == 401
    assert client.call("GET", "/ccw/home")[0] == 302


def test_expire_sessions_now_is_one_shot(mock: MockServer, client: MockClient) -> None:
    mock.set_faults(expire_sessions_now=True)

    assert client.get("/api/session")[0] == 401
    assert mock.engine.faults.expire_sessions_now is False
    assert client.sign_in().get("/api/session")[0] == 200


def test_the_survey_flag_follows_the_probability(mock: MockServer, client: MockClient) -> None:
    mock.set_faults(survey_probability=1.0)
    assert client.call("GET", "/api/search?q=1")[1].get("x-survey") == "1"
    assert "x-survey" not in client.call("GET", "/api/session")[1]
    mock.set_faults(survey_probability=0.0)
    assert "x-survey" not in client.call("GET", "/api/search?q=1")[1]


def test_profiles_hold_the_documented_figures() -> None:
    like = PROFILES["portal-like"]
    assert (like.page_latency_ms, like.page_jitter_ms) == (600, 300)
    assert (like.json_latency_ms, like.json_jitter_ms) == (300, 200)
    assert (like.json_error_rate, like.survey_probability) == (0.02, 0.05)
    assert PROFILES["none"] == Faults()


# --- control API and reset --------------------------------------------------------------------


def test_reset_restores_orders_faults_and_counters(mock: MockServer, client: MockClient) -> None:
    client.assign("110000001", "acme.example", "DEFAULT")
    mock.set_faults(json_error_rate=0.3)

    status, _ = MockClient(mock).post("/__mock__/reset")

    order = mock.order("110000001")
    stats = mock.stats()
    assert status == 200 and order is not None
    assert order["holds"] == ["Smart Account Hold"] and order["submissions"] == []
    assert stats["submissions"] == stats["logins"] == stats["requests"] == 0
    assert stats["faults"] == Faults().model_dump()


def test_faults_post_merges_onto_the_current_ones(mock: MockServer) -> None:
    control = MockClient(mock)
    mock.set_faults(json_latency_ms=5)

    status, merged = control.post("/__mock__/faults", {"survey_probability": 0.5})
    bad = control.post("/__mock__/faults", {"json_error_rate": 2})

    assert status == 200
    assert merged["json_latency_ms"] == 5 and merged["survey_probability"] == 0.5
    assert bad[0] == 400
    assert control.get("/__mock__/faults")[1] == merged


def test_control_orders_and_stats_over_http(mock: MockServer, client: MockClient) -> None:
    control = MockClient(mock)
    _, order = control.get("/__mock__/orders/80000003")
    _, stats = control.get("/__mock__/stats")

    assert order["sales_order"] == "110000003"
    assert order["lines"][0]["virtual_account"] == "DC West"
    assert stats["logins"] == 1 and stats["requests"] >= 1
    assert control.get("/__mock__/orders/1")[0] == 404


def test_the_control_api_is_absent_when_control_is_off() -> None:
    server = MockServer(port=0, control=False).start()
    try:
        assert MockClient(server).get("/__mock__/stats")[0] == 404
        assert MockClient(server).post("/__mock__/reset")[0] == 404
    finally:
        server.stop()


def test_python_dash_m_serves_and_prints_the_home_url() -> None:
    line, faults = run_mock_module("--profile", "portal-like", ask="/__mock__/faults")
    url = line.split()[3]
    assert url.endswith("/ccw/home")
    assert faults["page_latency_ms"] == 600
