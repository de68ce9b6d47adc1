"""The bulk report as one self-contained HTML page for people: a chart, the rows, the screenshots.

The page loads nothing from anywhere (its Content-Security-Policy forbids it): styles, the small
filter script and the failures' screenshots are inline. Every text from the ledger or the portal
is escaped. Rows are streamed into an unnamed temporary file beside the report, and the page is
assembled once the counts are known, so memory does not grow with the run.
"""

from __future__ import annotations

import base64
import hashlib
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from contextlib import ExitStack
from datetime import UTC, datetime
from html import escape
from pathlib import Path
from typing import IO, TYPE_CHECKING

from agent.bulk.statuses import AUDIT_ONLY, NOT_RUN, status_sentence
from agent.bulk.storage import AtomicText, guarded
from flows.models import Outcome

if TYPE_CHECKING:
    from agent.bulk.report import ReportRow

# A screenshot larger than this is named, not embedded: the page must stay easy to send.
SCREENSHOT_LIMIT = 2 * 1024 * 1024
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_CHUNK = 3 * 64 * 1024  # a multiple of 3, so base64 chunks join without padding in between

_ORDER = [outcome.value for outcome in Outcome] + list(NOT_RUN)

STYLE = """
body { font: 15px/1.45 system-ui, sans-serif; margin: 1.5rem auto; max-width: 80rem;
       padding: 0 1rem; color: #1b1f23; }
h1 { font-size: 1.5rem; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: .2rem 1rem; }
dl.facts dt { font-weight: 600; }
dl.facts dd { margin: 0; }
figure { margin: 1rem 0; }
figcaption { font-weight: 600; margin-bottom: .5rem; }
table { border-collapse: collapse; width: 100%; margin: .5rem 0 1.5rem; }
th, td { border: 1px solid #d0d7de; padding: .3rem .5rem; text-align: left; vertical-align: top; }
thead th { background: #f6f8fa; }
td.number { text-align: right; font-variant-numeric: tabular-nums; }
td img { display: block; max-width: 36rem; width: 100%; height: auto; margin-top: .4rem;
         border: 1px solid #d0d7de; }
.note { color: #6e4c00; }
.filter { margin: 1rem 0 .25rem; }
"""

_SCRIPT = """
(function () {
  var box = document.getElementById("filter");
  var select = document.getElementById("outcome-filter");
  var shown = document.getElementById("shown");
  var rows = document.querySelectorAll("#rows tbody tr");
  box.hidden = false;
  select.addEventListener("change", function () {
    var count = 0;
    rows.forEach(function (row) {
      row.hidden = select.value !== "" && row.dataset.outcome !== select.value;
      if (!row.hidden) { count += 1; }
    });
    shown.textContent = "Showing " + count + " of " + rows.length + " rows.";
  });
})();
"""


def _sha256_source(text: str) -> str:
    digest = base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii")
    return f"'sha256-{digest}'"


# Nothing may load from outside the page: only its own style, its own script, data: images.
CONTENT_SECURITY_POLICY = (
    f"default-src 'none'; img-src data:; style-src {_sha256_source(STYLE)}; "
    f"script-src {_sha256_source(_SCRIPT)}; base-uri 'none'; form-action 'none'"
)


def _sorted_outcomes(summary: Mapping[str, int]) -> list[str]:
    known = [outcome for outcome in _ORDER if summary.get(outcome)]
    return known + sorted(outcome for outcome in summary if outcome not in _ORDER)


def _colour(outcome: str) -> str:
    if outcome in (Outcome.ASSIGNED, Outcome.ALREADY_ASSIGNED, Outcome.WOULD_ASSIGN):
        return "#2da44e"
    if outcome in AUDIT_ONLY:
        return "#2da44e" if AUDIT_ONLY[outcome].style == "green" else "#bf8700"
    if outcome == Outcome.FAILED:
        return "#cf222e"
    if outcome in NOT_RUN:
        return "#8c959f"
    return "#bf8700"


def _rows_word(count: int) -> str:
    return f"{count} row" if count == 1 else f"{count} rows"


class HtmlReport:
    """The page: rows go to a temporary file as they come; `end` writes the whole page."""

    def __init__(
        self,
        out: AtomicText,
        about: Sequence[tuple[str, str]],
        stack: ExitStack,
        screenshots_from: Sequence[Path] | None = None,
    ) -> None:
        """`screenshots_from`: the only folders whose screenshots are embedded, for rows read
        from files someone else may have written; None for the ledger's own rows."""
        self._out = out
        self._about = tuple(about)
        self._folders = (
            None
            if screenshots_from is None
            else tuple(folder.resolve() for folder in screenshots_from)
        )
        with guarded("write", out.path):
            self._body: IO[str] = stack.enter_context(
                tempfile.TemporaryFile(
                    "w+", encoding="utf-8", newline="", dir=out.path.parent, prefix=".html-rows."
                )
            )

    def _write_body(self, text: str) -> None:
        with guarded("write", self._out.path):
            self._body.write(text)

    def row(self, row: ReportRow) -> None:
        target = f"{row.smart_account} ({row.search_by}) / {row.virtual_account}"
        if row.expect_domain:
            target += f", expecting {row.expect_domain}"
        assignment = f"{row.before or '—'} → {row.after or '—'}" if row.before or row.after else "—"
        cells = [
            str(row.row),
            row.order_number,
            row.sales_order or "—",
            target,
            row.outcome,
        ]
        self._write_body(
            f'<tr data-outcome="{escape(row.outcome)}">'
            + "".join(f"<td>{escape(cell)}</td>" for cell in cells)
            + f"<td>{escape(row.detail)}"
        )
        if row.outcome == Outcome.FAILED:
            for artifact in row.artifacts:
                if artifact.lower().endswith(".png"):
                    self._screenshot(row.order_number, Path(artifact))
        self._write_body(f"</td><td>{escape(assignment)}</td></tr>\n")

    def _screenshot(self, order: str, path: Path) -> None:
        name = escape(path.name)
        if self._folders is not None:
            real = path.resolve()
            if not any(real.is_relative_to(folder) for folder in self._folders):
                self._note(
                    f"Screenshot {name} not embedded: it is not in the agent's artifacts folder."
                )
                return
        if path.exists() and not path.is_file():
            self._note(f"Screenshot {name} not embedded: not a regular file.")
            return
        try:
            with path.open("rb") as image:
                size = image.seek(0, 2)
                if size > SCREENSHOT_LIMIT:
                    self._note(
                        f"Screenshot {name} not embedded: its {_size(size)} are over the "
                        f"{_size(SCREENSHOT_LIMIT)} allowed for one image."
                    )
                    return
                image.seek(0)
                if image.read(len(_PNG_SIGNATURE)) != _PNG_SIGNATURE:
                    self._note(f"Screenshot {name} not embedded: the file is not a PNG image.")
                    return
                image.seek(0)
                alt = escape(f"Screenshot of order {order} when it failed")
                self._write_body(f'<img alt="{alt}" title="{name}" src="data:image/png;base64,')
                while chunk := image.read(_CHUNK):
                    self._write_body(base64.b64encode(chunk).decode("ascii"))
                self._write_body('">')
        except FileNotFoundError:
            self._note(f"Screenshot {name} not embedded: the file is missing.")
        except OSError as exc:
            self._note(f"Screenshot {name} not embedded: {escape(exc.strerror or str(exc))}.")

    def _note(self, html_text: str) -> None:
        self._write_body(f'<p class="note">{html_text}</p>')

    def end(self, summary: Mapping[str, int]) -> None:
        outcomes = _sorted_outcomes(summary)
        total = sum(summary.values())
        write = self._out.write
        run = dict(self._about).get("Run", "")
        title = f"Bulk run {run}" if run else "Bulk report"
        write(
            '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            f'<meta http-equiv="Content-Security-Policy" content="{CONTENT_SECURITY_POLICY}">\n'
            '<meta name="referrer" content="no-referrer">\n'
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{escape(title)} — ccw-agent</title>\n<style>{STYLE}</style>\n</head>\n"
            f"<body>\n<main>\n<h1>{escape(title)}</h1>\n"
        )
        facts = [*self._about, ("Report written", _now())]
        write(
            '<dl class="facts">\n'
            + "".join(f"<dt>{escape(k)}</dt><dd>{escape(v)}</dd>\n" for k, v in facts)
            + "</dl>\n"
        )
        write(chart(outcomes, summary, total))
        write(meanings(outcomes, summary))
        write(
            '<h2 id="rows-heading">Rows</h2>\n'
            '<div class="filter" id="filter" hidden><label for="outcome-filter">Outcome</label> '
            '<select id="outcome-filter"><option value="">All outcomes</option>'
            + "".join(
                f'<option value="{escape(o)}">{escape(o)} ({summary[o]})</option>' for o in outcomes
            )
            + '</select> <span id="shown" role="status"></span></div>\n'
            '<table id="rows" aria-labelledby="rows-heading">\n<thead><tr>'
            '<th scope="col">Row</th><th scope="col">Order</th><th scope="col">Sales Order</th>'
            '<th scope="col">Target</th><th scope="col">Outcome</th><th scope="col">Detail</th>'
            '<th scope="col">Assignment (before → after)</th></tr></thead>\n<tbody>\n'
        )
        with guarded("write", self._out.path):
            self._body.seek(0)
            shutil.copyfileobj(self._body, self._out)
        write(f"</tbody>\n</table>\n</main>\n<script>{_SCRIPT}</script>\n</body>\n</html>\n")


def _size(count: int) -> str:
    if count >= 1024 * 1024:
        return f"{count / (1024 * 1024):.1f} MiB"
    return f"{count / 1024:.1f} KiB"


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def chart(outcomes: list[str], summary: Mapping[str, int], total: int) -> str:
    """A horizontal bar per outcome, each a named image of its count, with visible labels."""
    label_width, bar_width, bar_height, gap = 210, 380, 22, 8
    width = label_width + bar_width + 80
    height = max(1, len(outcomes)) * (bar_height + gap) + gap
    largest = max((summary[o] for o in outcomes), default=0) or 1
    bars = []
    for index, outcome in enumerate(outcomes):
        count = summary[outcome]
        y = gap + index * (bar_height + gap)
        length = max(2, round(bar_width * count / largest))
        name = escape(f"{outcome}: {_rows_word(count)}")
        bars.append(
            f'<g role="img" aria-label="{name}">'
            f'<text x="{label_width - 8}" y="{y + bar_height - 6}" text-anchor="end">'
            f"{escape(outcome)}</text>"
            f'<rect x="{label_width}" y="{y}" width="{length}" height="{bar_height}" '
            f'fill="{_colour(outcome)}"></rect>'
            f'<text x="{label_width + length + 6}" y="{y + bar_height - 6}">{count}</text></g>'
        )
    return (
        '<figure aria-labelledby="chart-caption">\n'
        f'<figcaption id="chart-caption">Rows by outcome ({_rows_word(total)} in all)'
        "</figcaption>\n"
        f'<svg role="group" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="system-ui, sans-serif" font-size="14">'
        + "".join(bars)
        + "</svg>\n</figure>\n"
    )


def meanings(outcomes: list[str], summary: Mapping[str, int]) -> str:
    """The counts again as a table, with what each outcome means: the chart's text version."""
    return (
        '<table id="outcomes">\n<caption>What each outcome means</caption>\n'
        '<thead><tr><th scope="col">Outcome</th><th scope="col">Rows</th>'
        '<th scope="col">Meaning</th></tr></thead>\n<tbody>\n'
        + "".join(
            f'<tr><th scope="row">{escape(o)}</th><td class="number">{summary[o]}</td>'
            f"<td>{escape(status_sentence(o))}</td></tr>\n"
            for o in outcomes
        )
        + "</tbody>\n</table>\n"
    )
