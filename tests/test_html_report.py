"""The HTML report: one self-contained page with a chart, filterable rows and screenshots."""

from __future__ import annotations

import re
import stat
import struct
import subprocess
import zlib
from html.parser import HTMLParser
from pathlib import Path

import pytest
from helpers import AgentCli
from playwright.async_api import ConsoleMessage, Page, expect
from pytest_playwright_asyncio.pytest_playwright import CreateContextCallback

import agent.bulk.html_report as html_report
from agent.bulk.csv_input import CsvRow
from agent.bulk.ledger import Ledger
from agent.bulk.report import merge_reports, write_report, write_run_report
from flows.models import AssignResult, LineAssignment, OrderView, Outcome

HOSTILE = '<script>window.hacked = 1</script> & <img src="https://evil.example/x.png">'


class Tags(HTMLParser):
    """The page's real tags and every attribute that could load something."""

    def __init__(self) -> None:
        super().__init__()
        self.names: set[str] = set()
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.names.add(tag)
        loading = {"src", "href", "xlink:href", "srcset", "action", "data", "poster", "style"}
        self.links += [value or "" for name, value in attrs if name in loading]


def png(width: int = 4, height: int = 3) -> bytes:
    """A small valid red PNG image."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    pixels = b"".join(b"\x00" + b"\xcc\x22\x22" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(pixels))
        + chunk(b"IEND", b"")
    )


def view(sa: str | None, va: str | None) -> OrderView:
    return OrderView(
        order_number="110000001",
        status="Booked",
        lines=(
            LineAssignment(line="1.0", product="C9300-24T", smart_account=sa, virtual_account=va),
        ),
    )


def csv_row(row: int, order: str) -> CsvRow:
    return CsvRow.model_validate(
        {
            "row": row,
            "order_number": order,
            "search_by": "domain",
            "smart_account": "acme.example",
            "virtual_account": "DEFAULT",
        }
    )


def make_run(tmp_path: Path) -> tuple[Ledger, str]:
    """A run with every kind of row: assigned, failed (screenshots), refused, hostile, pending."""
    artifacts = tmp_path / "artifacts"
    artifacts.mkdir()
    (artifacts / "110000002-attempt1-failed.png").write_bytes(png())
    (artifacts / "110000002-attempt1-trace.zip").write_bytes(b"PK")
    (artifacts / "110000005-attempt1-failed.png").write_bytes(png(64, 64))
    (artifacts / "110000001-after.png").write_bytes(png())
    ledger = Ledger.open(tmp_path / "state")
    run_id = ledger.start_run(
        input_path="/srv/private/incoming/orders.csv",
        input_sha256="ab" * 32,
        rows=[csv_row(n, str(110000000 + n - 1)) for n in range(2, 8)],
        options={"portal": "someone:hunter2@ccw.example:8443", "dry_run": False},
    )
    results = {
        2: AssignResult(
            order_number="110000001",
            outcome=Outcome.ASSIGNED,
            before=view("Northwind Holding", "DEFAULT"),
            after=view("Acme Corporation", "DEFAULT"),
            artifacts=(str(artifacts / "110000001-after.png"),),
        ),
        3: AssignResult(
            order_number="110000002",
            outcome=Outcome.FAILED,
            detail=HOSTILE,
            artifacts=(
                str(artifacts / "110000002-attempt1-failed.png"),
                str(artifacts / "110000002-attempt1-trace.zip"),
                str(artifacts / "110000002-attempt2-failed.png"),  # never written
            ),
        ),
        4: AssignResult(order_number="110000003", outcome=Outcome.NOT_ELIGIBLE),
        5: AssignResult(order_number="110000004", outcome=Outcome.ASSIGNED),
        6: AssignResult(
            order_number="110000005",
            outcome=Outcome.FAILED,
            artifacts=(str(artifacts / "110000005-attempt1-failed.png"),),
        ),
    }
    for row, result in results.items():
        ledger.mark_in_flight(run_id, row)
        ledger.record_result(run_id, row, result)
    return ledger, run_id


@pytest.fixture
def report(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The run's HTML report, with an image limit that the 64x64 screenshot exceeds."""
    monkeypatch.setattr(html_report, "SCREENSHOT_LIMIT", len(png()) + 10)
    ledger, run_id = make_run(tmp_path)
    with ledger:
        write_run_report(ledger, run_id, [tmp_path / "reports" / "run.html"])
    return tmp_path / "reports" / "run.html"


# --- the text of the page, without a browser ---------------------------------------------------


def test_the_page_loads_nothing_from_outside_and_forbids_it(report: Path) -> None:
    text = report.read_text(encoding="utf-8")

    assert text.startswith("<!DOCTYPE html>")
    (policy,) = re.findall(r'<meta http-equiv="Content-Security-Policy" content="([^"]+)">', text)
    assert policy.startswith("default-src 'none'; img-src data:; style-src 'sha256-")
    assert "unsafe-inline" not in policy
    tags = Tags()
    tags.feed(text)
    assert tags.names.isdisjoint({"link", "iframe", "object", "embed", "base", "form", "a"})
    assert tags.links and all(link.startswith("data:image/png;base64,") for link in tags.links)
    assert "<link" not in text and "url(" not in text and "@import" not in text
    assert re.findall(r"https?://", text) == ["https://"]  # the hostile text, escaped


def test_portal_text_is_escaped_and_run_facts_hide_paths_and_credentials(report: Path) -> None:
    text = report.read_text(encoding="utf-8")

    assert text.count("<script>") == 1  # the page's own filter
    assert (
        "&lt;script&gt;window.hacked = 1&lt;/script&gt; &amp; "
        "&lt;img src=&quot;https://evil.example/x.png&quot;&gt;"
    ) in text
    assert "<dt>Input file</dt><dd>orders.csv</dd>" in text
    assert "<dt>Portal</dt><dd>ccw.example:8443</dd>" in text
    assert "hunter2" not in text and "someone" not in text
    assert "/srv/private" not in text and "artifacts/" not in text


def test_only_failed_rows_embed_screenshots_and_skipped_ones_are_named(report: Path) -> None:
    text = report.read_text(encoding="utf-8")

    assert text.count("<img ") == 1
    assert 'alt="Screenshot of order 110000002 when it failed"' in text
    assert "Screenshot 110000002-attempt2-failed.png not embedded: the file is missing." in text
    assert re.search(
        r"Screenshot 110000005-attempt1-failed\.png not embedded: its [0-9.]+ KiB are over the "
        r"[0-9.]+ KiB allowed for one image\.",
        text,
    )
    assert "trace.zip" not in text


def test_the_page_is_private_and_replaced_whole(report: Path) -> None:
    assert stat.S_IMODE(report.stat().st_mode) == 0o600
    assert [path.name for path in report.parent.iterdir()] == ["run.html"]  # no temporaries


def test_every_format_at_once_and_a_merge_can_be_html(tmp_path: Path) -> None:
    ledger, run_id = make_run(tmp_path)
    with ledger:
        counts = write_run_report(
            ledger, run_id, [tmp_path / "a.csv", tmp_path / "a.json", tmp_path / "a.HTML"]
        )
    write_report(tmp_path / "b.csv", [])

    merge_reports([tmp_path / "a.csv", tmp_path / "b.csv"], tmp_path / "all.html")

    assert counts == {"assigned": 2, "failed": 2, "not_eligible": 1, "pending": 1}
    merged = (tmp_path / "all.html").read_text(encoding="utf-8")
    assert "<dt>Merged from</dt><dd>a.csv, b.csv</dd>" in merged
    assert merged.count('<tr data-outcome="') == 6
    assert (tmp_path / "a.HTML").read_text(encoding="utf-8").count("<tr data-outcome=") == 6


def test_report_export_writes_html_and_refuses_other_extensions(tmp_path: Path) -> None:
    ledger, run_id = make_run(tmp_path)
    ledger.close()

    def export(report: str) -> subprocess.CompletedProcess[str]:
        return AgentCli(tmp_path)(
            "report", "export", run_id[:8], "--report", report, "--state-dir", "state"
        )

    written, refused = export("out/run.html"), export("run.xlsx")

    assert written.returncode == 0, written.stderr
    assert "<figure" in (tmp_path / "out" / "run.html").read_text(encoding="utf-8")
    assert refused.returncode == 2
    assert "--report run.xlsx: the file must end in .csv, .json or .html" in refused.stderr


# --- the page as a person sees it, in Chromium --------------------------------------------------


async def test_the_page_shows_chart_rows_filter_and_screenshot(report: Path, page: Page) -> None:
    problems: list[str] = []
    page.on("console", lambda message: _keep_errors(message, problems))
    page.on("request", lambda request: problems.append(f"request {request.url}"))
    own = [f"request {report.as_uri()}"]  # the page itself; data: images are not requests

    await page.goto(report.as_uri())

    await expect(page.get_by_role("heading", level=1)).to_have_text(
        re.compile(r"^Bulk run [0-9a-f-]+$")
    )
    chart = page.get_by_role("figure", name="Rows by outcome (6 rows in all)")
    await expect(chart).to_be_visible()
    for name in ("assigned: 2 rows", "failed: 2 rows", "not_eligible: 1 row", "pending: 1 row"):
        await expect(chart.get_by_role("img", name=name)).to_be_visible()
    meanings = page.get_by_role("table", name="What each outcome means")
    await expect(meanings.get_by_role("row", name=re.compile("^not_eligible 1 "))).to_contain_text(
        Outcome.NOT_ELIGIBLE.sentence
    )
    rows = page.get_by_role("table", name="Rows").locator("tbody").get_by_role("row")
    await expect(rows).to_have_count(6)
    first = rows.filter(has_text="110000001")
    await expect(first).to_contain_text("Northwind Holding / DEFAULT → Acme Corporation / DEFAULT")

    hostile = rows.filter(has_text="110000002")
    await expect(hostile).to_contain_text(HOSTILE)  # shown as text, never run
    assert await page.evaluate("() => window.hacked") is None
    shot = hostile.get_by_role("img", name="Screenshot of order 110000002 when it failed")
    await expect(shot).to_be_visible()
    assert await shot.evaluate("(image) => image.complete && image.naturalWidth") == 4

    await page.get_by_label("Outcome", exact=True).select_option("failed")

    await expect(rows.filter(visible=True)).to_have_count(2)
    await expect(rows.filter(has_text="110000001")).to_be_hidden()
    await expect(page.get_by_role("status")).to_have_text("Showing 2 of 6 rows.")
    await page.get_by_label("Outcome", exact=True).select_option("")
    await expect(rows.filter(visible=True)).to_have_count(6)
    assert problems == own


async def test_without_javascript_every_row_shows_and_no_dead_filter(
    report: Path, new_context: CreateContextCallback
) -> None:
    context = await new_context(java_script_enabled=False)
    still = await context.new_page()
    await still.goto(report.as_uri())

    await expect(still.locator("#rows tbody tr").filter(visible=True)).to_have_count(6)
    await expect(still.get_by_label("Outcome", exact=True)).to_be_hidden()


def _keep_errors(message: ConsoleMessage, problems: list[str]) -> None:
    if message.type in ("error", "warning"):
        problems.append(f"console {message.type}: {message.text}")
