"""A screen's DOM as static, redacted HTML: copied in the browser, then cleaned and redacted here.

The browser's part (`SCREEN_COPY`, one page.evaluate) clones the document and writes onto the
copy what the style sheets decided, since they are not kept: each element's display when it is
not its tag's usual one, hidden visibility, the size of an empty element drawn by CSS (a styled
radio) and the empty box of a leaf the page hides by size; the live state of check boxes, radios
and options. It also returns the screen's text and the (label, value) pairs of party fields for
the Redactor.

This module's part (`clean_html`) is the guarantee, whatever the browser sent: it drops scripts,
styles, style sheets, frames' sources, comments, meta values, event handlers, form values and
data attributes that are not plain words; cuts URLs' query strings and fragments; and passes
every text node and every remaining attribute value through the Redactor.
"""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser

from agent.capture.redact import Redactor, url_without_query

# Elements dropped with everything inside them.
DROPPED = frozenset({"script", "style", "noscript", "template", "object", "embed", "applet"})
# Elements kept without their content (a text area's content is what was typed in it).
SILENT = frozenset({"textarea"})
FRAMES = frozenset({"iframe", "frame"})
# Elements dropped without content (void elements, or whose content is kept).
DROPPED_VOID = frozenset({"link", "base", "param", "source", "track"})
VOID = frozenset(
    {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param",
     "source", "track", "wbr"}
)  # fmt: skip
URL_ATTRIBUTES = frozenset(
    {"href", "src", "action", "formaction", "poster", "cite", "data", "background", "xlink:href"}
)
DROPPED_ATTRIBUTES = frozenset(
    {"value", "srcdoc", "srcset", "imagesrcset", "nonce", "integrity", "ping", "content"}
)
# A data-* value kept as it is: one plain lower-case word ("selectbox", "true", "row-3").
_PLAIN_WORD = re.compile(r"[a-z0-9_-]{1,32}")
_CSS_URL = re.compile(r"url\([^)]*\)", re.IGNORECASE)

# The copy made in the page. Its argument is the list of party field labels (lower case, no
# colon); it returns {html, text, pairs, title, path}.
SCREEN_COPY = r"""
(labels) => {
  const DISPLAY = {
    block: 'html body div p h1 h2 h3 h4 h5 h6 ul ol dl dt dd section article header footer nav ' +
      'main aside form fieldset figure figcaption blockquote pre hr address details summary ' +
      'legend menu search center dialog',
    'list-item': 'li', table: 'table', 'table-row': 'tr', 'table-cell': 'td th',
    'table-row-group': 'tbody', 'table-header-group': 'thead', 'table-footer-group': 'tfoot',
    'table-caption': 'caption', 'table-column': 'col', 'table-column-group': 'colgroup',
    'inline-block': 'button input select textarea meter progress',
    none: 'head script style template meta link title base noscript datalist area param ' +
      'source track',
  };
  const usual = {};
  for (const [display, tags] of Object.entries(DISPLAY)) {
    for (const tag of tags.split(' ')) usual[tag] = display;
  }
  const wanted = new Set(labels);
  const bare = s => (s || '').replace(/\s+/g, ' ').trim().replace(/\s*:$/, '').toLowerCase();
  const pairs = [];
  const live = [document.documentElement, ...document.documentElement.querySelectorAll('*')];
  const copy = document.documentElement.cloneNode(true);
  const copies = [copy, ...copy.querySelectorAll('*')];
  for (let i = 0; i < live.length; i++) {
    const el = live[i], twin = copies[i];
    if (!(el instanceof HTMLElement) || !(twin instanceof HTMLElement)) continue;
    const tag = el.tagName.toLowerCase();
    const cs = getComputedStyle(el);
    const add = [];
    const normalDisplay = el.hidden || (tag === 'input' && el.type === 'hidden')
      || (tag === 'dialog' && !el.open) ? 'none' : (usual[tag] || 'inline');
    if (cs.display !== normalDisplay) add.push(`display:${cs.display}`);
    const parent = el.parentElement;
    const inherited = parent && getComputedStyle(parent).visibility === 'hidden';
    if (cs.visibility === 'hidden' && !inherited) {
      add.push('visibility:hidden');
    }
    if (cs.display !== 'none' && cs.display !== 'contents' && !el.firstElementChild) {
      const box = el.getBoundingClientRect();
      const inline = cs.display === 'inline' ? ['display:inline-block'] : [];
      if (box.width === 0 || box.height === 0) {
        add.push(...inline, 'width:0', 'height:0', 'padding:0', 'border:0', 'overflow:hidden');
      } else if (!el.textContent.trim() && !['input', 'img', 'select', 'button'].includes(tag)) {
        add.push(...inline, `min-width:${Math.round(box.width)}px`,
                 `min-height:${Math.round(box.height)}px`);
      }
    }
    if (add.length) twin.setAttribute('style', add.join(';'));
    else twin.removeAttribute('style');
    if (tag === 'input' && (el.type === 'checkbox' || el.type === 'radio')) {
      if (el.checked) twin.setAttribute('checked', ''); else twin.removeAttribute('checked');
    }
    if (tag === 'option') {
      if (el.selected) twin.setAttribute('selected', ''); else twin.removeAttribute('selected');
    }
    // A party field: a label element alone, and the element after it ("<dt>Partner</dt><dd>").
    if (!el.firstElementChild && wanted.has(bare(el.textContent))) {
      const next = el.nextElementSibling;
      if (next && next.innerText) pairs.push([bare(el.textContent), next.innerText]);
    }
  }
  // A party column: the cells under its header, in tables and grids alike.
  for (const table of document.querySelectorAll('table, [role=table], [role=grid]')) {
    const rows = [...table.querySelectorAll('tr, [role=row]')];
    if (!rows.length) continue;
    const heads = [...rows[0].querySelectorAll('th, td, [role=columnheader]')];
    heads.forEach((head, column) => {
      if (!wanted.has(bare(head.innerText))) return;
      for (const row of rows.slice(1)) {
        const cells = row.querySelectorAll('th, td, [role=cell], [role=gridcell]');
        if (cells[column]) pairs.push([bare(head.innerText), cells[column].innerText]);
      }
    });
  }
  for (const el of copy.querySelectorAll('script, style, noscript, template, link, base')) {
    el.remove();
  }
  return {
    html: '<!DOCTYPE html>\n' + copy.outerHTML,
    text: document.body ? document.body.innerText : '',
    pairs,
    title: document.title,
    path: location.pathname,
  };
}
"""


class _Cleaner(HTMLParser):
    """Rebuilds the HTML it is fed, dropping and redacting as the module docstring says."""

    def __init__(self, redactor: Redactor) -> None:
        super().__init__(convert_charrefs=True)
        self.redactor = redactor
        self.out: list[str] = []
        self.skipping: list[str] = []
        self.silent = 0

    def handle_decl(self, decl: str) -> None:
        if decl.lower().startswith("doctype"):
            self.out.append("<!DOCTYPE html>\n")

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._start(tag, attrs, closed=False)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._start(tag, attrs, closed=True)

    def _start(self, tag: str, attrs: list[tuple[str, str | None]], *, closed: bool) -> None:
        if self.skipping:
            if tag == self.skipping[-1] and tag not in VOID and not closed:
                self.skipping.append(tag)
            return
        if tag in DROPPED:
            if tag not in VOID and not closed:
                self.skipping.append(tag)
            return
        if tag in DROPPED_VOID or (tag == "meta" and not any(k == "charset" for k, _ in attrs)):
            return
        kept = "".join(self._attribute(tag, name, value) for name, value in attrs)
        self.out.append(f"<{tag}{kept}>")
        if tag in SILENT and not closed:
            self.silent += 1

    def _attribute(self, tag: str, name: str, value: str | None) -> str:
        if name.startswith("on") or name in DROPPED_ATTRIBUTES:
            return ""
        if tag in FRAMES and name == "src":
            return ""
        if value is None or value == "":
            return f" {name}"
        if name in URL_ATTRIBUTES:
            value = url_without_query(value)
        elif name == "style":
            value = _CSS_URL.sub("url()", value)
        elif name.startswith("data-") and not _PLAIN_WORD.fullmatch(value):
            value = ""
        value = self.redactor.redact(value)
        return f' {name}="{html.escape(value, quote=True)}"'

    def handle_endtag(self, tag: str) -> None:
        if self.skipping:
            if tag == self.skipping[-1]:
                self.skipping.pop()
            return
        if tag in DROPPED or tag in DROPPED_VOID or tag in VOID:
            return
        if tag in SILENT and self.silent:
            self.silent -= 1
        self.out.append(f"</{tag}>")

    def handle_data(self, data: str) -> None:
        if not self.skipping and not self.silent:
            self.out.append(html.escape(self.redactor.redact(data), quote=False))


def clean_html(document: str, redactor: Redactor) -> str:
    """`document` without scripts, styles, comments, form values and customer data."""
    cleaner = _Cleaner(redactor)
    cleaner.feed(document)
    cleaner.close()
    return "".join(cleaner.out)
