"use strict";
// The portal SPA: header, client-side routes, the assign dialog with its custom comboboxes,
// the confirmation, the random Feedback survey. All business state lives on the server.
// Each screen is drawn as the current release has it (mock_site/releases.py): the same roles and
// accessible names, arranged differently.
(() => {
  const { h, t, request, errorMessage, ServerError, HttpError } = Mock;
  const app = document.getElementById("app");
  const main = document.getElementById("main");
  const layers = document.getElementById("layers");
  const searchBox = document.getElementById("global-search");
  const SUCCESS = "Smart Account assignment submitted successfully";
  const TOAST_MS = 5000;
  const rel = () => Mock.release();
  let signedInAs = null;
  let generation = 0;
  let uid = 0;
  const nextId = (prefix) => `${prefix}-${++uid}`;

  function toSignOn() {
    location.assign("/signon?next=" + encodeURIComponent(location.pathname + location.search));
  }

  async function api(path, options = {}) {
    const { data, survey } = await request(path, { ...options, onUnauthorized: toSignOn });
    if (survey) setTimeout(showSurvey, 200); // after the screen this response renders
    return data;
  }

  // --- modal layers: the top one is the only part of the page exposed to assistive tech --------

  const modals = [];

  function openModal(layer, focus) {
    modals.push({ layer, opener: document.activeElement });
    layers.append(layer);
    syncModality();
    (focus || layer.querySelector("button:not([disabled]), input:not([disabled])"))?.focus();
  }

  function closeModal(layer) {
    const index = modals.findIndex((m) => m.layer === layer);
    if (index < 0) return;
    const [closed] = modals.splice(index, 1);
    layer.remove();
    syncModality();
    if (closed.opener && document.contains(closed.opener)) closed.opener.focus();
  }

  function syncModality() {
    const top = modals[modals.length - 1];
    const hide = (node, hidden) =>
      hidden ? node.setAttribute("aria-hidden", "true") : node.removeAttribute("aria-hidden");
    hide(app, modals.length > 0);
    modals.forEach((m, i) => {
      hide(m.layer, m !== top);
      m.layer.style.zIndex = String(100 + i * 10);
    });
  }

  function modal(role, title, { onEscape, className = "" } = {}) {
    const titleId = nextId("title");
    const box = h("div", { role, "aria-modal": "true", "aria-labelledby": titleId,
      class: `dialog ${className}` }, h("h2", { id: titleId, class: "dialog-title" }, title));
    const layer = h("div", { class: "modal-layer" }, box);
    layer.addEventListener("keydown", (event) => {
      const onTop = layer === surveyLayer || modals[modals.length - 1]?.layer === layer;
      if (event.key === "Escape" && onEscape && onTop) {
        event.preventDefault();
        onEscape();
      }
    });
    return { layer, box };
  }

  function closeAllModals() {
    while (modals.length) closeModal(modals[modals.length - 1].layer);
  }

  // --- the random Feedback survey ----------------------------------------------------------------

  // A third-party widget on real portals: it covers the page and takes the clicks, but it does
  // not manage the portal's own modality, so the page beneath stays in the accessibility tree.
  let surveyLayer = null;
  function showSurvey() {
    if (surveyLayer) return;
    const opener = document.activeElement;
    const { layer, box } = modal("dialog", t("Feedback"), { onEscape: () => dismiss() });
    const dismiss = () => {
      layer.remove();
      surveyLayer = null;
      if (opener && document.contains(opener)) opener.focus();
    };
    box.append(
      h("p", {}, t("How is your experience with Commerce Workspace today? Tell us in a two-minute survey.")),
      h("div", { class: "dialog-actions" },
        h("button", { type: "button", class: "btn primary", onclick: dismiss }, t("Give feedback")),
        h("button", { type: "button", class: "btn", onclick: dismiss }, t("No thanks"))));
    layer.classList.add("survey-layer");
    surveyLayer = layer;
    document.body.append(layer);
    box.querySelector("button").focus();
  }

  // --- the "Got it" tip ------------------------------------------------------------------------

  // A product tour's tip, once per tab: it covers the whole page (no role, no modality) until
  // "Got it" is clicked, whatever screen is showing by then.
  function showTip() {
    if (sessionStorage.getItem("tip-seen") || document.querySelector(".tip-cover")) return;
    sessionStorage.setItem("tip-seen", "1");
    const cover = h("div", { class: "tip-cover" },
      h("div", { class: "tip" },
        h("p", { class: "tip-title" }, t("New in Commerce Workspace")),
        h("p", {}, t("Smart Account assignments now show every line of the order.")),
        h("button", { type: "button", class: "btn primary", onclick: () => cover.remove() },
          t("Got it"))));
    document.body.append(cover);
  }

  // --- routing ---------------------------------------------------------------------------------

  function navigate(url) {
    history.pushState(null, "", url);
    route();
  }

  document.addEventListener("click", (event) => {
    const link = event.target.closest("a[data-nav]");
    if (!link || event.ctrlKey || event.metaKey || event.shiftKey || event.button !== 0) return;
    event.preventDefault();
    navigate(link.getAttribute("href"));
  });
  window.addEventListener("popstate", () => route());

  function route(options = {}) {
    closeAllModals();
    const params = new URLSearchParams(location.search);
    const path = location.pathname;
    let m;
    if (path === "/ccw/home") return screen(homeScreen);
    if (path === "/ccw/search") return screen(() => searchScreen(params.get("q") || ""));
    if ((m = path.match(/^\/ccw\/orders\/([^/]+)$/))) {
      return screen(() => orderScreen(decodeURIComponent(m[1])));
    }
    if ((m = path.match(/^\/ccw\/orders\/([^/]+)\/assignments$/))) {
      return screen(() => assignmentsScreen(decodeURIComponent(m[1]), options));
    }
    return screen(async () => [h("h1", {}, t("Page not found")),
      h("p", {}, t("The page you asked for does not exist."))]);
  }

  // Renders what `load` builds once its JSON calls return; a newer navigation wins.
  async function screen(load) {
    const mine = ++generation;
    main.replaceChildren();
    // The header comes with the page; a release switched since may name its search box anew.
    searchBox.setAttribute("aria-label", t("Global Search"));
    try {
      if (!signedInAs) {
        const session = await api("/api/session");
        signedInAs = session.email;
        document.getElementById("whoami").textContent = t("Signed in as {email}",
          { email: signedInAs });
      }
      const nodes = await load();
      if (mine === generation) main.replaceChildren(...nodes.flat().filter(Boolean));
    } catch (err) {
      if (mine !== generation) return;
      if (!(err instanceof ServerError)) throw err;
      main.replaceChildren(...[serverError(() => screen(load))].filter(Boolean));
    }
  }

  // --- what differs between releases -----------------------------------------------------------

  // A screen's heading: h1, or h2 under an h1 section title.
  const heading = (text) => (rel().heading_level === 1 ? [h("h1", {}, text)]
    : [h("h1", { class: "section-title" }, t("Orders")), h("h2", { class: "screen-title" }, text)]);

  // A message that shows for a few seconds above everything, outside the page and its dialogs.
  let toasts = null;
  function toast(role, text, tone) {
    if (!toasts) {
      toasts = h("div", { class: "toasts" });
      document.body.append(toasts);
    }
    const item = h("div", { role, class: `toast ${tone}` });
    toasts.append(item);
    setTimeout(() => { item.textContent = text; }, 0); // after insertion, so it is announced
    setTimeout(() => item.remove(), TOAST_MS);
  }

  // "Something went wrong": an inline alert with a retry button, or a toast (then null).
  function serverError(retry) {
    const style = rel().error_message;
    if (style === "toast") {
      toast("alert", t(Mock.SERVER_ERROR), "error");
      return null;
    }
    return errorMessage(retry, style === "inline-retry" ? "Retry" : "Try again");
  }

  // A refusal with the portal's words: inline like classic's, or a toast (then null).
  function failureMessage(english) {
    const text = t(english);
    if (rel().error_message === "toast") {
      toast("alert", text, "error");
      return null;
    }
    return h("div", { role: "alert", class: "error-banner" }, h("p", {}, text));
  }

  // Disabled by the attribute, or by aria-disabled (then the click handlers must ignore clicks);
  // an action drawn without a role (an <a> or text) is greyed out by a "disabled" class.
  function setDisabled(button, disabled, style) {
    if (button.tagName !== "BUTTON") button.classList.toggle("disabled", disabled);
    else if (style === "attribute") button.disabled = disabled;
    else if (disabled) button.setAttribute("aria-disabled", "true");
    else button.removeAttribute("aria-disabled");
  }
  const isDisabled = (button) => button.disabled || button.getAttribute("aria-disabled") === "true"
    || button.classList.contains("disabled");
  // A dialog's action as the release draws it: a button, or an <a> without href (`text`: a
  // clickable span), which has no role and is found by its words only.
  const action = (text, onclick, { primary = false, plain = false } = {}) => {
    const cls = `btn${primary ? " primary" : ""}`;
    if (rel().dialog_actions === "button") return h("button", { type: "button", class: cls, onclick }, text);
    return h(plain ? "span" : "a", { class: `${cls} action`, onclick }, text);
  };

  // A link that looks useful near the real ones and leads nowhere.
  const decoy = (text) => h("a", { href: "#", class: "decoy",
    onclick: (event) => event.preventDefault() }, t(text));

  // Labelled values: "Status: Booked" in a <p>, a <dt>/<dd> list, or one line of <span>/<b>.
  const FIELD_LABELS = {
    "label-colon": { sales: "Sales Order:", web: "Web Order:", status: "Status:", holds: "Holds:",
      partner: "Partner:", customer: "End Customer:", lines: "Lines:" },
    "definition-list": { sales: "Sales Order Number", web: "Web Order Number", status: "Status:",
      holds: "Holds", partner: "Partner", customer: "End Customer", lines: "Order Lines" },
    "inline-bold": { sales: "Sales Order", web: "Web Order Number", status: "Status:",
      holds: "Holds:", partner: "Partner", customer: "Customer", lines: "Lines" },
    "label-next": { sales: "Sales Order", web: "Web Order ID", status: "Status", holds: "Holds",
      partner: "Partner", customer: "End Customer", lines: "Lines" },
  };
  // An icon inside a label, as jQuery-era pages draw help tips: its words join the label's.
  const helpIcon = () => h("span", { class: "help-icon", title: t("More information") }, "?");
  function fields(pairs) {
    const style = rel().order_fields;
    const labels = Object.fromEntries(Object.entries(FIELD_LABELS[style])
      .map(([key, label]) => [key, t(label)]));
    if (style === "label-colon") {
      return pairs.map(([key, value]) => h("p", { class: "field" },
        h("span", { class: "field-label" }, labels[key]), ` ${value}`));
    }
    if (style === "label-next") {
      // A plain table: the label alone in its cell, the value in the next one.
      return h("table", { class: "form-table" }, h("tbody", {}, pairs.map(([key, value]) =>
        h("tr", {}, h("td", { class: "lbl" }, labels[key], key === "holds" ? [" ", helpIcon()] : null),
          h("td", {}, String(value))))));
    }
    if (style === "definition-list") {
      return h("dl", { class: "fields" }, pairs.flatMap(([key, value]) =>
        [h("dt", {}, labels[key]), h("dd", {}, String(value))]));
    }
    return h("p", { class: "summary-line" }, pairs.flatMap(([key, value], i) =>
      [i ? " \u00b7 " : null, h("span", { class: "field-label" }, labels[key]), " ",
        h("b", {}, String(value))]));
  }
  const field = (label, value) =>
    h("p", { class: "field" }, h("span", { class: "field-label" }, t("{label}:", { label: t(label) })),
      ` ${value}`);
  const notFound = (number) => [...heading(t("Order Details")),
    h("p", { class: "empty" }, t("No order {number} was found.", { number }))];

  // --- screens ---------------------------------------------------------------------------------

  async function homeScreen() {
    await api("/api/home");
    return [
      h("h1", {}, "Cisco Commerce Workspace"),
      h("p", { class: "lead" }, t("Welcome back, {email}. Search for an order by its Sales " +
        "Order or Web Order number with the search box at the top of the page.",
      { email: signedInAs })),
      h("div", { class: "cards" },
        h("section", { class: "card", "aria-label": t("Recent activity") },
          h("h2", {}, t("Recent activity")), h("p", {}, t("No recent activity."))),
        h("section", { class: "card", "aria-label": t("Announcements") },
          h("h2", {}, t("Announcements")),
          h("p", {}, t("Smart Account assignment is available from Order Details.")))),
    ];
  }

  async function searchScreen(query) {
    searchBox.value = query;
    const { results, open, empty_message: emptyMessage } =
      await api(`/api/search?q=${encodeURIComponent(query)}`);
    if (open) {
      // The release variant that skips the list for a single match.
      history.replaceState(null, "", `/ccw/orders/${encodeURIComponent(open)}`);
      return orderScreen(open);
    }
    const r = rel();
    const nodes = [...heading(t(r.search_heading)),
      h("p", { class: "muted" }, t('Results for "{query}"', { query }))];
    if (r.search_results === "list") {
      if (!results.length) {
        return [...nodes, h("p", { class: "empty" },
          emptyMessage || t("No results found. Check the Sales Order or Web Order number."))];
      }
      return [...nodes, h("ul", { class: "result-list", "aria-label": t("Orders found") },
        results.map((o) => h("li", { class: "result-entry" },
          r.decoy_links ? decoy("Download order summary") : null,
          h("span", { class: "kind" }, t(o.type)), " ",
          h("a", { href: `/ccw/orders/${o.sales_order}`, "data-nav": true }, o.number), " ",
          h("span", { class: `badge ${o.status.toLowerCase()}` }, o.status), " ",
          h("span", { class: "muted" }, t("End customer: {name}", { name: o.end_customer })))))];
    }
    if (!results.length) {
      return [...nodes, h("p", { class: "empty" }, emptyMessage || t("No results found"))];
    }
    // A release that opens Order Details in a new tab: a plain link with a target, which the
    // SPA's router leaves to the browser.
    const orderLink = (o) => (r.details_in_new_tab
      ? h("a", { href: `/ccw/orders/${o.sales_order}`, target: "_blank" }, o.number)
      : h("a", { href: `/ccw/orders/${o.sales_order}`, "data-nav": true }, o.number));
    return [...nodes, h("table", { class: "grid" },
      h("caption", { class: "sr-only" }, t("Orders matching the search")),
      h("thead", {}, h("tr", {}, ["Order Number", "Order Type", "Status", "End Customer"]
        .map((c) => h("th", { scope: "col" }, t(c))))),
      h("tbody", {}, results.map((r) => h("tr", {},
        h("td", {}, orderLink(r)),
        h("td", {}, t(r.type)), h("td", {}, r.status), h("td", {}, r.end_customer)))))];
  }

  async function orderScreen(number) {
    let order;
    try {
      order = await api(`/api/orders/${encodeURIComponent(number)}`);
    } catch (err) {
      if (err instanceof HttpError && err.status === 404) return notFound(number);
      throw err;
    }
    const r = rel();
    const onHold = order.holds.includes("Smart Account Hold");
    const banner = {
      "region-top": { tag: "section", attrs: { "aria-label": t("Order notifications") } },
      "note-bottom": { tag: "div", attrs: { role: "note", "aria-label": t("Smart Account notice") } },
      "alert-top": { tag: "div", attrs: { role: "alert", "aria-label": t("Order alerts") } },
    }[r.order_banner];
    const notice = h(banner.tag, { class: "notice", ...banner.attrs },
      h("span", { class: "notice-icon", "aria-hidden": "true" }, "i"),
      h("p", {}, t(onHold
        ? "This order is on Smart Account Hold until an active Smart Account is assigned. "
        : "Licences of this order are delivered to the Smart Account of each line. ")),
      r.decoy_links ? decoy("Learn about Smart Account assignments") : null,
      r.banner_action === "anchor"
        ? h("a", { class: "action-link",
          onclick: () => navigate(`/ccw/orders/${order.sales_order}/assignments`) },
        t("View or change Smart Account Assignments"))
        : h("a", { href: `/ccw/orders/${order.sales_order}/assignments`, "data-nav": true },
          t("View or change Smart Account Assignments")));
    if (r.tip_after_ms !== null) setTimeout(showTip, r.tip_after_ms);
    const summary = h("div", { class: "panel" },
      h(r.heading_level === 1 ? "h2" : "h3", {}, t("Summary")),
      fields([
        ["sales", order.sales_order],
        ["web", order.web_order],
        ["status", order.status],
        ["holds", order.holds.length ? order.holds.join(", ") : t("None")],
        ["partner", order.partner],
        ["customer", order.end_customer],
        ["lines", order.line_count],
      ]));
    const title = heading(t(r.order_heading, { number: order.sales_order }));
    return r.order_banner === "note-bottom" ? [title, summary, notice] : [title, notice, summary];
  }

  // The cells of the assignment table, by column, as the release writes them.
  const COLUMN_HEADERS = { line: "Line", product: "Product", smart_account: "Smart Account",
    smart_account_with_domain: "Smart Account", domain: "Domain Identifier",
    virtual_account: "Virtual Account", eligibility: "Eligibility", eligibility_unlabelled: "",
    quantity: "Quantity", start_date: "Start date" };
  const lowerFirst = (text) => text.charAt(0).toLowerCase() + text.slice(1);
  const notEligible = (ln) => t("Not eligible: {reason}", { reason: lowerFirst(t(ln.eligibility)) });
  function assignmentCell(column, ln, index) {
    const r = rel();
    const mark = t(r.unassigned_mark);
    const eligible = ln.eligibility === "Eligible";
    switch (column) {
      case "line": return ln.line;
      case "product": return r.eligibility_badge && !eligible
        ? [ln.product, " ", h("span", { class: "badge ineligible" }, notEligible(ln))]
        : ln.product;
      case "smart_account": return ln.smart_account || mark;
      case "smart_account_with_domain": {
        if (!ln.smart_account) return mark;
        const name = ln.smart_account;
        return {
          parens: () => `${name} (${ln.domain})`,
          slash: () => `${name} / ${ln.domain}`,
          dash: () => `${name} - ${ln.domain}`,
          "two-lines": () => [name, h("br"), ln.domain],
          "domain-first": () => `${ln.domain} (${name})`,
        }[r.account_writing]();
      }
      case "domain": return ln.domain || mark;
      case "virtual_account": return ln.virtual_account || mark;
      case "eligibility": return t(ln.eligibility);
      case "eligibility_unlabelled":
        return eligible ? "" : h("span", { class: "badge ineligible" }, notEligible(ln));
      case "quantity": return String(10 * (index + 1));
      case "start_date": return ln.eligibility === "Active entitlement" ? Mock.date("2024-11-04")
        : t("On shipment");
      default: throw new Error(`unknown column ${column}`);
    }
  }

  async function assignmentsScreen(number, { success = false, failure = null } = {}) {
    let data;
    try {
      data = await api(`/api/orders/${encodeURIComponent(number)}/assignments`);
    } catch (err) {
      if (err instanceof HttpError && err.status === 404) return notFound(number);
      throw err;
    }
    const r = rel();
    let status = null;
    if (r.success_message === "inline-status") {
      status = h("div", { role: "status", class: "status-message" });
      // Filled after insertion so that screen readers announce it.
      if (success) setTimeout(() => { status.textContent = t(SUCCESS); }, 0);
    } else if (success) {
      toast(r.success_message === "toast-status" ? "status" : "alert", t(SUCCESS), "ok");
    }
    const reasonId = nextId("reason");
    const assign = h("button", {
      type: "button", class: "btn primary",
      "aria-describedby": data.can_assign ? null : reasonId,
      onclick: () => { if (!isDisabled(assign)) openAssignDialog(data); },
    }, t("Assign Smart Account"));
    setDisabled(assign, !data.can_assign, r.assign_smart_account_disabled);
    let reason = null;
    if (!data.can_assign) {
      reason = r.reason === "beside" ? h("span", { id: reasonId, class: "reason" }, t(data.reason))
        : h("p", { id: reasonId, class: "reason", role: r.reason === "note-below" ? "note" : null },
          t(data.reason));
    }
    const actions = h("div", { class: "actions" }, assign, r.reason === "beside" ? reason : null,
      r.decoy_links ? decoy("Export to CSV") : null);
    const breadcrumb = {
      1: h("p", { class: "breadcrumb" }, h("a", { href: `/ccw/orders/${data.sales_order}`,
        "data-nav": true }, r.order_fields === "label-colon"
        ? t("Order Details: {number}", { number: data.sales_order })
        : t("Back to Order Details"))),
      2: h("nav", { class: "breadcrumb", "aria-label": t("Breadcrumb") }, h("a", {
        href: `/ccw/orders/${data.sales_order}`, "data-nav": true },
      t("Order {number}", { number: data.sales_order }))),
    }[r.heading_level];
    const info = r.order_fields === "label-colon"
      ? h("p", { class: "muted" }, t("Sales Order {sales} \u00b7 Web Order {web} \u00b7 Status: {status}",
        { sales: data.sales_order, web: data.web_order, status: data.status }))
      : fields([["sales", data.sales_order], ["web", data.web_order], ["status", data.status]]);
    const columns = r.assignment_columns;
    const table = h("table", { class: "grid" },
      h("caption", { class: "sr-only" }, t("Smart Account assignment of each order line")),
      h("thead", {}, h("tr", {}, columns.map((c) => h("th", { scope: "col" },
        COLUMN_HEADERS[c] && t(COLUMN_HEADERS[c]))))),
      h("tbody", {}, data.lines.map((ln, i) => h("tr", {},
        columns.map((c) => h("td", {}, assignmentCell(c, ln, i)))))));
    return [
      breadcrumb,
      heading(t(r.assignments_heading, { number: data.sales_order })),
      info,
      status,
      failure ? failureMessage(failure) : null,
      r.assign_button === "above-table" ? actions : null,
      table,
      r.assign_button === "below-table" ? actions : null,
      r.reason === "beside" ? null : reason,
    ];
  }

  async function submitAssignment(order, account, virtualAccount) {
    const number = order.sales_order;
    const reload = (options) => {
      if (location.pathname === `/ccw/orders/${number}/assignments`) route(options);
    };
    try {
      await api(`/api/orders/${encodeURIComponent(number)}/assign`, {
        method: "POST",
        body: { domain: account.domain, virtual_account: virtualAccount, terms_accepted: true },
      });
      reload({ success: true });
    } catch (err) {
      if (err instanceof HttpError) return reload({ failure: err.message });
      if (!(err instanceof ServerError)) throw err;
      // Try again reloads the assignments; it never sends the change a second time.
      const box = serverError(() => reload());
      if (box) main.prepend(box);
    }
  }

  // --- custom widgets --------------------------------------------------------------------------

  // A select-only combobox: a button with role combobox that opens a listbox (WAI-ARIA APG).
  // With `waiting`, it starts disabled with that text until load() gives it options.
  function selectCombobox({ label, options = [], placeholder, onChange, waiting = null }) {
    const id = nextId("combo");
    const labelEl = h("span", { id: `${id}-label`, class: "label" }, label);
    const value = h("span", { class: "combo-value placeholder" }, waiting || placeholder);
    const button = h("button", { type: "button", id, role: "combobox", class: "combo",
      "aria-labelledby": `${id}-label`, "aria-haspopup": "listbox", "aria-expanded": "false",
      "aria-controls": `${id}-listbox`, disabled: waiting !== null },
    value, h("span", { class: "caret", "aria-hidden": "true" }));
    const listbox = h("ul", { role: "listbox", id: `${id}-listbox`, class: "listbox",
      "aria-labelledby": `${id}-label`, hidden: true });
    let items = [];
    let active = -1;
    let selected = -1;

    function setOptions(pairs) {
      items = pairs.map(([key, text], i) => {
        const li = h("li", { role: "option", id: `${id}-opt-${i}`, "aria-selected": "false",
          "data-key": key }, text);
        li.addEventListener("mousedown", (event) => event.preventDefault());
        li.addEventListener("click", () => { choose(i); button.focus(); });
        return li;
      });
      listbox.replaceChildren(...items);
      active = -1;
      selected = -1;
    }
    const isOpen = () => !listbox.hidden;
    function setActive(i) {
      if (!items.length) return;
      active = Math.max(0, Math.min(items.length - 1, i));
      items.forEach((it, j) => it.classList.toggle("active", j === active));
      button.setAttribute("aria-activedescendant", items[active].id);
      items[active].scrollIntoView({ block: "nearest" });
    }
    function open() {
      listbox.hidden = false;
      button.setAttribute("aria-expanded", "true");
      setActive(selected >= 0 ? selected : 0);
    }
    function close() {
      listbox.hidden = true;
      button.setAttribute("aria-expanded", "false");
      button.removeAttribute("aria-activedescendant");
    }
    function choose(i) {
      if (!items[i]) return;
      selected = i;
      items.forEach((it, j) => it.setAttribute("aria-selected", String(j === i)));
      value.textContent = items[i].textContent;
      value.classList.remove("placeholder");
      close();
      onChange(items[i].dataset.key);
    }
    button.addEventListener("click", () => (isOpen() ? close() : open()));
    button.addEventListener("keydown", (event) => {
      const keys = { ArrowDown: 1, ArrowUp: -1 };
      if (event.key in keys) {
        event.preventDefault();
        if (!isOpen()) open();
        else setActive(active + keys[event.key]);
      } else if (event.key === "Enter" || event.key === " ") {
        event.preventDefault();
        if (isOpen()) choose(active);
        else open();
      } else if (event.key === "Escape" && isOpen()) {
        event.preventDefault();
        event.stopPropagation();
        close();
      } else if (event.key === "Tab" && isOpen()) {
        close();
      }
    });
    button.addEventListener("blur", () => setTimeout(() => {
      if (document.activeElement !== button) close();
    }, 0));
    setOptions(options);
    const widget = h("div", { class: "form-row" }, labelEl,
      h("div", { class: "combo-wrap" }, button, listbox));
    widget.load = (names) => {
      close();
      setOptions(names.map((name) => [name, name]));
      value.textContent = placeholder;
      value.classList.add("placeholder");
      button.disabled = false;
    };
    widget.clear = () => {
      close();
      setOptions([]);
      value.textContent = waiting;
      value.classList.add("placeholder");
      button.disabled = true;
    };
    return widget;
  }

  // A native <select> with a <label>: the other kind of drop-down a portal release may use.
  // With `waiting`, it starts disabled with that text until load() gives it options.
  function nativeSelect({ label, options = [], placeholder, onChange, waiting = null }) {
    const id = nextId("select");
    const select = h("select", { id, disabled: waiting !== null });
    const fill = (first, pairs) => select.replaceChildren(h("option", { value: "" }, first),
      ...pairs.map(([key, text]) => h("option", { value: key }, text)));
    fill(waiting || placeholder, options);
    select.addEventListener("change", () => onChange(select.value || null));
    const widget = h("div", { class: "form-row" }, h("label", { for: id }, label), select);
    widget.load = (names) => {
      fill(placeholder, names.map((name) => [name, name]));
      select.disabled = false;
    };
    widget.clear = () => {
      fill(waiting, []);
      select.disabled = true;
    };
    return widget;
  }

  // A jQuery "selectBox": the native <select> is hidden; a link (an <a> without href) shows the
  // current choice, and a click on it adds a list of option links to the page. Choosing one sets
  // the hidden select and fires its change event, which updates the link.
  function selectBox({ label, options = [], placeholder, onChange, waiting = null }) {
    const id = nextId("selectbox");
    const select = h("select", { id, class: "selectBox-hidden", disabled: waiting !== null });
    const shown = h("span", { class: "selectBox-label" }, waiting || placeholder);
    const link = h("a", { class: "selectBox", tabindex: "0" }, shown,
      h("span", { class: "selectBox-arrow" }));
    let menu = null;
    const fill = (first, pairs) => {
      select.replaceChildren(h("option", { value: "" }, first),
        ...pairs.map(([key, text]) => h("option", { value: key }, text)));
      shown.textContent = first;
      link.classList.toggle("selectBox-disabled", select.disabled);
    };
    const close = () => {
      menu?.remove();
      menu = null;
    };
    function open() {
      if (select.disabled) return;
      const box = link.getBoundingClientRect();
      menu = h("ul", { class: "selectBox-options" }, [...select.options].filter((o) => o.value)
        .map((o) => h("li", {}, h("a", { rel: o.value, onclick: () => {
          select.value = o.value;
          close();
          select.dispatchEvent(new Event("change", { bubbles: true }));
        } }, o.text))));
      menu.style.left = `${box.left + window.scrollX}px`;
      menu.style.top = `${box.bottom + window.scrollY}px`;
      menu.style.minWidth = `${box.width}px`;
      document.body.append(menu);
    }
    link.addEventListener("click", () => (menu ? close() : open()));
    document.addEventListener("mousedown", (event) => {
      if (menu && !menu.contains(event.target) && !link.contains(event.target)) close();
    });
    select.addEventListener("change", () => {
      shown.textContent = select.options[select.selectedIndex]?.text ?? "";
      onChange(select.value || null);
    });
    select.disabled = waiting !== null;
    fill(waiting || placeholder, options);
    const widget = h("div", { class: "form-row" }, h("label", { for: id }, label), select, link);
    widget.load = (names) => {
      close();
      select.disabled = false;
      fill(placeholder, names.map((name) => [name, name]));
    };
    widget.clear = () => {
      close();
      select.disabled = true;
      fill(waiting, []);
    };
    return widget;
  }

  // An editable combobox: a text input with role combobox that filters a listbox of options.
  function editableCombobox({ label, onChange }) {
    const id = nextId("va");
    const input = h("input", { id, type: "text", role: "combobox", class: "combo-input",
      autocomplete: "off", "aria-autocomplete": "list", "aria-expanded": "false",
      "aria-controls": `${id}-listbox`, disabled: true, placeholder: t("Select a Smart Account first") });
    const listbox = h("ul", { role: "listbox", id: `${id}-listbox`, class: "listbox",
      "aria-label": label, hidden: true });
    let options = [];
    let shown = [];
    let active = -1;

    const isOpen = () => !listbox.hidden;
    const exact = () => (options.includes(input.value) ? input.value : null);
    function render() {
      const typed = input.value.trim().toLowerCase();
      shown = exact() || !typed ? options : options.filter((o) => o.toLowerCase().includes(typed));
      listbox.replaceChildren(...shown.map((text, i) => {
        const li = h("li", { role: "option", id: `${id}-opt-${i}`,
          "aria-selected": String(text === input.value) }, text);
        li.addEventListener("mousedown", (event) => event.preventDefault());
        li.addEventListener("click", () => choose(text));
        return li;
      }));
      active = -1;
      input.removeAttribute("aria-activedescendant");
    }
    function open() {
      render();
      listbox.hidden = shown.length === 0;
      input.setAttribute("aria-expanded", String(!listbox.hidden));
    }
    function close() {
      listbox.hidden = true;
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
    }
    function setActive(i) {
      const lis = [...listbox.children];
      if (!lis.length) return;
      active = (i + lis.length) % lis.length;
      lis.forEach((li, j) => li.classList.toggle("active", j === active));
      input.setAttribute("aria-activedescendant", lis[active].id);
      lis[active].scrollIntoView({ block: "nearest" });
    }
    function choose(text) {
      input.value = text;
      close();
      onChange(text);
    }
    input.addEventListener("click", () => (isOpen() ? close() : open()));
    input.addEventListener("input", () => { open(); onChange(exact()); });
    input.addEventListener("blur", () => close());
    input.addEventListener("keydown", (event) => {
      if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        event.preventDefault();
        if (!isOpen()) open();
        setActive(active + (event.key === "ArrowDown" ? 1 : -1));
      } else if (event.key === "Enter" && isOpen() && active >= 0) {
        event.preventDefault();
        choose(shown[active]);
      } else if (event.key === "Escape" && isOpen()) {
        event.preventDefault();
        event.stopPropagation();
        close();
      }
    });
    const widget = h("div", { class: "form-row" }, h("label", { for: id }, label),
      h("div", { class: "combo-wrap" }, input, listbox));
    widget.load = (names) => {
      options = names;
      input.value = "";
      input.disabled = false;
      input.placeholder = t("Select a Virtual Account");
      close();
    };
    widget.clear = () => {
      options = [];
      input.value = "";
      input.disabled = true;
      input.placeholder = t("Select a Smart Account first");
      close();
    };
    return widget;
  }

  // --- the assign dialog, terms and confirmation -----------------------------------------------

  // The Smart Accounts found, each with a radio named by the account name.
  function accountResults(accounts, pick) {
    const style = rel().account_results;
    const group = nextId("sa");
    const hidden = rel().hidden_inputs;
    const radio = (account, attrs = {}) => {
      const input = h("input", { type: "radio", name: group, onchange: () => pick(account),
        ...(hidden ? { id: nextId("sa-radio"), class: "styled-hidden" } : attrs) });
      // Hidden behind an empty styled box that takes the click: the row's words name it.
      return hidden ? [input, h("label", { for: input.id, class: "radio-box" })] : input;
    };
    const badge = (account) =>
      h("span", { class: `badge ${account.status.toLowerCase()}` }, account.status);
    if (style === "list") {
      return h("ul", { role: "list", class: "account-list", "aria-label": t("Smart Accounts found") },
        accounts.map((account) => {
          const id = nextId("sa-option");
          return h("li", { class: "account-entry" }, radio(account, { id }),
            h("label", { for: id }, account.name), " ",
            h("span", { class: "muted" }, `${account.domain} \u00b7 ${account.status}`));
        }));
    }
    if (style === "divs") {
      return h("div", { class: "account-cards" }, accounts.map((account) =>
        h("div", { class: "account-card" }, radio(account, { "aria-label": account.name }), " ",
          h("strong", {}, account.name), " ", h("span", { class: "muted" }, account.domain), " ",
          badge(account))));
    }
    return h("table", { class: "grid compact" },
      h("caption", { class: "sr-only" }, t("Smart Accounts found")),
      h("thead", {}, h("tr", {}, ["Select", "Account Name", "Domain Identifier", "Status"]
        .map((c) => h("th", { scope: "col" }, t(c))))),
      h("tbody", {}, accounts.map((account) => h("tr", {},
        h("td", {}, radio(account, { "aria-label": account.name })),
        h("td", {}, account.name), h("td", {}, account.domain),
        h("td", {}, badge(account))))));
  }

  function openAssignDialog(order) {
    const r = rel();
    const state = { by: null, account: null, virtualAccount: null };
    const { layer, box } = modal("dialog", t("Assign Smart Account"),
      { onEscape: () => closeModal(layer), className: "wide" });
    const cancel = () => h("button", { type: "button", class: "btn",
      onclick: () => closeModal(layer) }, t(r.dialog_close));
    // A server error shown in the dialog, or as a toast (outside it).
    const showError = (retry) => dialogError.replaceChildren(...[serverError(retry)].filter(Boolean));

    const hint = h("p", { class: "hint", "aria-live": "polite" });
    const valueId = nextId("search-value");
    const valueInput = h("input", { id: valueId, type: "text", autocomplete: "off" });
    const results = h("div", { class: "results" });
    const dialogError = h("div");
    const assignButton = action(t("Assign"), () => { if (!isDisabled(assignButton)) showTerms(); },
      { primary: true });
    const refreshAssign = () => setDisabled(assignButton,
      !(state.account && state.virtualAccount), r.dialog_buttons_disabled);
    refreshAssign();
    const onVirtualAccount = (name) => { state.virtualAccount = name; refreshAssign(); };
    const vaCombo = {
      "editable-combobox": editableCombobox,
      "native-select": nativeSelect,
      "select-combobox": selectCombobox,
      "select-box": selectBox,
    }[r.virtual_account_dropdown]({ label: t("Virtual Account Name"), onChange: onVirtualAccount,
      placeholder: t("Select a Virtual Account"), waiting: t("Select a Smart Account first") });
    const parameters = [["domain", t("Domain Identifier")], ["name", t("Account Name")],
      ["email", t("Email ID")]];
    const parameterDropdown = ({ "native-select": nativeSelect, "select-box": selectBox,
      "custom-combobox": selectCombobox }[r.parameter_dropdown])({ label: t("Select an Existing Account"), placeholder: t("Select"),
      options: parameters, onChange: (key) => { state.by = key; } });

    async function loadVirtualAccounts(account) {
      dialogError.replaceChildren();
      try {
        const { virtual_accounts: names } = await api(
          `/api/smart-accounts/${encodeURIComponent(account.domain)}/virtual-accounts`);
        if (state.account === account) vaCombo.load(names);
      } catch (err) {
        if (!(err instanceof ServerError)) throw err;
        showError(() => loadVirtualAccounts(account));
      }
    }

    function pick(account) {
      state.account = account;
      state.virtualAccount = null;
      vaCombo.clear();
      refreshAssign();
      loadVirtualAccounts(account);
    }

    async function runSearch(page = 1) {
      dialogError.replaceChildren();
      hint.textContent = "";
      const value = valueInput.value.trim();
      if (!state.by) { hint.textContent = t("Select a search parameter first."); return; }
      if (!value) { hint.textContent = t("Enter a search value."); return; }
      state.account = null;
      state.virtualAccount = null;
      vaCombo.clear();
      refreshAssign();
      results.replaceChildren();
      let answer;
      try {
        answer = await api(`/api/smart-accounts?by=${state.by}&value=${encodeURIComponent(value)}`
          + `&page=${page}`);
      } catch (err) {
        if (!(err instanceof ServerError)) throw err;
        showError(() => runSearch(page));
        return;
      }
      const { accounts, pages, total } = answer;
      if (!accounts.length) {
        results.replaceChildren(h("p", { class: "empty" }, answer.empty_message
          || (r.account_results === "table" ? t("No Smart Accounts found")
            : t('No Smart Accounts found for "{value}".', { value }))));
        return;
      }
      if (!pages) {
        results.replaceChildren(accountResults(accounts, pick));
        return;
      }
      // A release that pages the results: where we are, how many in all, and the way on.
      const pager = h("div", { class: "pager" },
        h("button", { type: "button", class: "btn", disabled: answer.page <= 1,
          onclick: () => runSearch(answer.page - 1) }, t("Previous page")),
        h("button", { type: "button", class: "btn", disabled: answer.page >= pages,
          onclick: () => runSearch(answer.page + 1) }, t("Next page")));
      results.replaceChildren(
        h("p", { class: "muted" }, t("Page {page} of {pages} \u00b7 {total} Smart Accounts",
          { page: answer.page, pages, total })),
        accountResults(accounts, pick), pager);
    }

    const step1 = h("div", { class: "step" },
      h("p", { class: "muted" }, t("Sales Order {number}: choose how to find the Smart " +
        "Account, search for it, select it and choose a Virtual Account.",
      { number: order.sales_order })),
      parameterDropdown,
      h("div", { class: "form-row" }, h("label", { for: valueId }, t("Search Value")),
        h("div", { class: "inline" }, valueInput,
          action(t("Search"), () => runSearch(), { plain: true }))),
      hint, dialogError, results, vaCombo,
      h("div", { class: "dialog-actions" }, assignButton, cancel()));

    function showTerms() {
      const termsId = nextId("terms");
      const submit = action(t("Submit"), () => { if (!isDisabled(submit)) confirmAssignment(); },
        { primary: true });
      setDisabled(submit, true, r.dialog_buttons_disabled);
      const step2 = h("div", { class: "step" },
        field("Smart Account", `${state.account.name} (${state.account.domain})`),
        field("Virtual Account", state.virtualAccount),
        h("div", { class: "terms-text", tabindex: "0", "aria-label": t("Terms of Use") },
          h("p", {}, t("By assigning this order you confirm that you are authorised to place the " +
            "licences of its eligible lines in the selected Smart Account and Virtual Account, " +
            "and that the account holder agrees to the Smart Account Terms of Use."))),
        h("p", { class: "check" }, h("input", { type: "checkbox", id: termsId,
          class: r.hidden_inputs ? "styled-hidden" : null,
          onchange: (event) => setDisabled(submit, !event.target.checked,
            r.dialog_buttons_disabled) }),
          h("label", { for: termsId, class: r.hidden_inputs ? "check-box" : null },
            t("I accept the Terms of Use"))),
        h("div", { class: "dialog-actions" }, submit, cancel()));
      step1.replaceWith(step2);
      step2.querySelector("input").focus();
    }

    function confirmAssignment() {
      const confirm = modal(r.confirm_role, t(r.confirm_title),
        { onEscape: () => closeModal(confirm.layer) });
      const yes = h("button", { type: "button", class: "btn primary", onclick: () => {
        closeModal(confirm.layer);
        closeModal(layer);
        submitAssignment(order, state.account, state.virtualAccount);
      } }, t("Yes"));
      confirm.box.append(
        h("p", {}, t("Assign the eligible lines of order {number} to {account} / {virtual}?",
          { number: order.sales_order, account: state.account.name,
            virtual: state.virtualAccount })),
        h("div", { class: "dialog-actions" }, yes,
          h("button", { type: "button", class: "btn", onclick: () => closeModal(confirm.layer) }, t("No"))));
      openModal(confirm.layer, yes);
    }

    box.append(step1);
    openModal(layer);
  }

  // --- header ----------------------------------------------------------------------------------

  document.getElementById("global-search-button").addEventListener("click", () => {
    // Only the button runs the search: like the real portal, Enter in the box does nothing.
    navigate(`/ccw/search?q=${encodeURIComponent(searchBox.value.trim())}`);
  });
  document.getElementById("logout").addEventListener("click", async () => {
    try {
      const { location: target } = await api("/api/logout", { method: "POST" });
      location.assign(target);
    } catch (err) {
      if (!(err instanceof ServerError)) throw err;
      const box = serverError(() => document.getElementById("logout").click());
      if (box) main.prepend(box);
    }
  });

  Mock.cookieBanner();
  route();
})();
