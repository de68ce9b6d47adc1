"use strict";
// The portal SPA: header, client-side routes, the assign dialog with its custom comboboxes,
// the confirmation, the random Feedback survey. All business state lives on the server.
(() => {
  const { h, request, errorMessage, ServerError, HttpError } = Mock;
  const app = document.getElementById("app");
  const main = document.getElementById("main");
  const layers = document.getElementById("layers");
  const searchBox = document.getElementById("global-search");
  const NOT_ASSIGNED = "\u2014";
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
    const { layer, box } = modal("dialog", "Feedback", { onEscape: () => dismiss() });
    const dismiss = () => {
      layer.remove();
      surveyLayer = null;
      if (opener && document.contains(opener)) opener.focus();
    };
    box.append(
      h("p", {}, "How is your experience with Commerce Workspace today? Tell us in a two-minute survey."),
      h("div", { class: "dialog-actions" },
        h("button", { type: "button", class: "btn primary", onclick: dismiss }, "Give feedback"),
        h("button", { type: "button", class: "btn", onclick: dismiss }, "No thanks")));
    layer.classList.add("survey-layer");
    surveyLayer = layer;
    document.body.append(layer);
    box.querySelector("button").focus();
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
    return screen(async () => [h("h1", {}, "Page not found"),
      h("p", {}, "The page you asked for does not exist.")]);
  }

  // Renders what `load` builds once its JSON calls return; a newer navigation wins.
  async function screen(load) {
    const mine = ++generation;
    main.replaceChildren();
    try {
      if (!signedInAs) {
        const session = await api("/api/session");
        signedInAs = session.email;
        document.getElementById("whoami").textContent = `Signed in as ${signedInAs}`;
      }
      const nodes = await load();
      if (mine === generation) main.replaceChildren(...nodes.filter(Boolean));
    } catch (err) {
      if (mine !== generation) return;
      if (!(err instanceof ServerError)) throw err;
      main.replaceChildren(errorMessage(() => screen(load)));
    }
  }

  const field = (label, value) =>
    h("p", { class: "field" }, h("span", { class: "field-label" }, `${label}:`), ` ${value}`);
  const notFound = (number) => [h("h1", {}, "Order Details"),
    h("p", { class: "empty" }, `No order ${number} was found.`)];

  // --- screens ---------------------------------------------------------------------------------

  async function homeScreen() {
    await api("/api/home");
    return [
      h("h1", {}, "Cisco Commerce Workspace"),
      h("p", { class: "lead" }, `Welcome back, ${signedInAs}. Search for an order by its Sales ` +
        "Order or Web Order number with the search box at the top of the page."),
      h("div", { class: "cards" },
        h("section", { class: "card", "aria-label": "Recent activity" },
          h("h2", {}, "Recent activity"), h("p", {}, "No recent activity.")),
        h("section", { class: "card", "aria-label": "Announcements" },
          h("h2", {}, "Announcements"),
          h("p", {}, "Smart Account assignment is available from Order Details."))),
    ];
  }

  async function searchScreen(query) {
    searchBox.value = query;
    const { results, open } = await api(`/api/search?q=${encodeURIComponent(query)}`);
    if (open) {
      // The release variant that skips the list for a single match.
      history.replaceState(null, "", `/ccw/orders/${encodeURIComponent(open)}`);
      return orderScreen(open);
    }
    const nodes = [h("h1", {}, "Search Results"), h("p", { class: "muted" }, `Results for "${query}"`)];
    if (!results.length) return [...nodes, h("p", { class: "empty" }, "No results found")];
    return [...nodes, h("table", { class: "grid" },
      h("caption", { class: "sr-only" }, "Orders matching the search"),
      h("thead", {}, h("tr", {}, ["Order Number", "Order Type", "Status", "End Customer"]
        .map((c) => h("th", { scope: "col" }, c)))),
      h("tbody", {}, results.map((r) => h("tr", {},
        h("td", {}, h("a", { href: `/ccw/orders/${r.sales_order}`, "data-nav": true }, r.number)),
        h("td", {}, r.type), h("td", {}, r.status), h("td", {}, r.end_customer)))))];
  }

  async function orderScreen(number) {
    let order;
    try {
      order = await api(`/api/orders/${encodeURIComponent(number)}`);
    } catch (err) {
      if (err instanceof HttpError && err.status === 404) return notFound(number);
      throw err;
    }
    const onHold = order.holds.includes("Smart Account Hold");
    return [
      h("h1", {}, `Order Details: ${order.sales_order}`),
      h("section", { class: "notice", "aria-label": "Order notifications" },
        h("span", { class: "notice-icon", "aria-hidden": "true" }, "i"),
        h("p", {}, onHold
          ? "This order is on Smart Account Hold until an active Smart Account is assigned. "
          : "Licences of this order are delivered to the Smart Account of each line. "),
        h("a", { href: `/ccw/orders/${order.sales_order}/assignments`, "data-nav": true },
          "View or change Smart Account Assignments")),
      h("div", { class: "panel" },
        h("h2", {}, "Summary"),
        field("Sales Order", order.sales_order),
        field("Web Order", order.web_order),
        field("Status", order.status),
        field("Holds", order.holds.length ? order.holds.join(", ") : "None"),
        field("Partner", order.partner),
        field("End Customer", order.end_customer),
        field("Lines", order.line_count)),
    ];
  }

  async function assignmentsScreen(number, { success = false, failure = null } = {}) {
    let data;
    try {
      data = await api(`/api/orders/${encodeURIComponent(number)}/assignments`);
    } catch (err) {
      if (err instanceof HttpError && err.status === 404) return notFound(number);
      throw err;
    }
    const status = h("div", { role: "status", class: "status-message" });
    if (success) {
      // Filled after insertion so that screen readers announce it.
      setTimeout(() => { status.textContent = "Smart Account assignment submitted successfully"; }, 0);
    }
    const reasonId = nextId("reason");
    const assign = h("button", {
      type: "button", class: "btn primary", disabled: !data.can_assign,
      "aria-describedby": data.can_assign ? null : reasonId,
      onclick: () => openAssignDialog(data),
    }, "Assign Smart Account");
    return [
      h("p", { class: "breadcrumb" }, h("a", { href: `/ccw/orders/${data.sales_order}`,
        "data-nav": true }, `Order Details: ${data.sales_order}`)),
      h("h1", {}, "Smart Account Assignment"),
      h("p", { class: "muted" }, `Sales Order ${data.sales_order} \u00b7 Web Order ${data.web_order}` +
        ` \u00b7 Status: ${data.status}`),
      status,
      failure ? h("div", { role: "alert", class: "error-banner" }, h("p", {}, failure)) : null,
      h("div", { class: "actions" }, assign,
        data.can_assign ? null : h("span", { id: reasonId, class: "reason" }, data.reason)),
      h("table", { class: "grid" },
        h("caption", { class: "sr-only" }, "Smart Account assignment of each order line"),
        h("thead", {}, h("tr", {}, ["Line", "Product", "Smart Account", "Virtual Account",
          "Eligibility"].map((c) => h("th", { scope: "col" }, c)))),
        h("tbody", {}, data.lines.map((ln) => h("tr", {},
          h("td", {}, ln.line), h("td", {}, ln.product),
          h("td", {}, ln.smart_account || NOT_ASSIGNED),
          h("td", {}, ln.virtual_account || NOT_ASSIGNED),
          h("td", {}, ln.eligibility))))),
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
      main.prepend(errorMessage(() => reload()));
    }
  }

  // --- custom widgets --------------------------------------------------------------------------

  // A select-only combobox: a button with role combobox that opens a listbox (WAI-ARIA APG).
  function selectCombobox({ label, options, placeholder, onChange }) {
    const id = nextId("combo");
    const labelEl = h("span", { id: `${id}-label`, class: "label" }, label);
    const value = h("span", { class: "combo-value placeholder" }, placeholder);
    const button = h("button", { type: "button", id, role: "combobox", class: "combo",
      "aria-labelledby": `${id}-label`, "aria-haspopup": "listbox", "aria-expanded": "false",
      "aria-controls": `${id}-listbox` }, value, h("span", { class: "caret", "aria-hidden": "true" }));
    const items = options.map(([key, text], i) => h("li", { role: "option", id: `${id}-opt-${i}`,
      "aria-selected": "false", "data-key": key }, text));
    const listbox = h("ul", { role: "listbox", id: `${id}-listbox`, class: "listbox",
      "aria-labelledby": `${id}-label`, hidden: true }, items);
    let active = -1;
    let selected = -1;

    const isOpen = () => !listbox.hidden;
    function setActive(i) {
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
    items.forEach((it, i) => {
      it.addEventListener("mousedown", (event) => event.preventDefault());
      it.addEventListener("click", () => { choose(i); button.focus(); });
    });
    button.addEventListener("blur", () => setTimeout(() => {
      if (document.activeElement !== button) close();
    }, 0));
    return h("div", { class: "form-row" }, labelEl, h("div", { class: "combo-wrap" }, button, listbox));
  }

  // An editable combobox: a text input with role combobox that filters a listbox of options.
  function editableCombobox({ label, onChange }) {
    const id = nextId("va");
    const input = h("input", { id, type: "text", role: "combobox", class: "combo-input",
      autocomplete: "off", "aria-autocomplete": "list", "aria-expanded": "false",
      "aria-controls": `${id}-listbox`, disabled: true, placeholder: "Select a Smart Account first" });
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
      input.placeholder = "Select a Virtual Account";
      close();
    };
    widget.clear = () => {
      options = [];
      input.value = "";
      input.disabled = true;
      input.placeholder = "Select a Smart Account first";
      close();
    };
    return widget;
  }

  // --- the assign dialog, terms and confirmation -----------------------------------------------

  function openAssignDialog(order) {
    const state = { by: null, account: null, virtualAccount: null };
    const { layer, box } = modal("dialog", "Assign Smart Account",
      { onEscape: () => closeModal(layer), className: "wide" });
    const cancel = () => h("button", { type: "button", class: "btn",
      onclick: () => closeModal(layer) }, "Cancel");

    const hint = h("p", { class: "hint", "aria-live": "polite" });
    const valueId = nextId("search-value");
    const valueInput = h("input", { id: valueId, type: "text", autocomplete: "off" });
    const results = h("div", { class: "results" });
    const dialogError = h("div");
    const assignButton = h("button", { type: "button", class: "btn primary", disabled: true,
      onclick: () => showTerms() }, "Assign");
    const refreshAssign = () => {
      assignButton.disabled = !(state.account && state.virtualAccount);
    };
    const vaCombo = editableCombobox({ label: "Virtual Account Name",
      onChange: (name) => { state.virtualAccount = name; refreshAssign(); } });

    async function loadVirtualAccounts(account) {
      dialogError.replaceChildren();
      try {
        const { virtual_accounts: names } = await api(
          `/api/smart-accounts/${encodeURIComponent(account.domain)}/virtual-accounts`);
        if (state.account === account) vaCombo.load(names);
      } catch (err) {
        if (!(err instanceof ServerError)) throw err;
        dialogError.replaceChildren(errorMessage(() => loadVirtualAccounts(account)));
      }
    }

    function pick(account) {
      state.account = account;
      state.virtualAccount = null;
      vaCombo.clear();
      refreshAssign();
      loadVirtualAccounts(account);
    }

    async function runSearch() {
      dialogError.replaceChildren();
      hint.textContent = "";
      const value = valueInput.value.trim();
      if (!state.by) { hint.textContent = "Select a search parameter first."; return; }
      if (!value) { hint.textContent = "Enter a search value."; return; }
      state.account = null;
      state.virtualAccount = null;
      vaCombo.clear();
      refreshAssign();
      results.replaceChildren();
      let accounts;
      try {
        ({ accounts } = await api(`/api/smart-accounts?by=${state.by}&value=${encodeURIComponent(value)}`));
      } catch (err) {
        if (!(err instanceof ServerError)) throw err;
        dialogError.replaceChildren(errorMessage(runSearch));
        return;
      }
      if (!accounts.length) {
        results.replaceChildren(h("p", { class: "empty" }, "No Smart Accounts found"));
        return;
      }
      const group = nextId("sa");
      results.replaceChildren(h("table", { class: "grid compact" },
        h("caption", { class: "sr-only" }, "Smart Accounts found"),
        h("thead", {}, h("tr", {}, ["Select", "Account Name", "Domain Identifier", "Status"]
          .map((c) => h("th", { scope: "col" }, c)))),
        h("tbody", {}, accounts.map((account) => h("tr", {},
          h("td", {}, h("input", { type: "radio", name: group, "aria-label": account.name,
            onchange: () => pick(account) })),
          h("td", {}, account.name), h("td", {}, account.domain),
          h("td", {}, h("span", { class: `badge ${account.status.toLowerCase()}` }, account.status)))))));
    }

    const step1 = h("div", { class: "step" },
      h("p", { class: "muted" }, `Sales Order ${order.sales_order}: choose how to find the Smart ` +
        "Account, search for it, select it and choose a Virtual Account."),
      selectCombobox({ label: "Select an Existing Account", placeholder: "Select",
        options: [["domain", "Domain Identifier"], ["name", "Account Name"], ["email", "Email ID"]],
        onChange: (key) => { state.by = key; } }),
      h("div", { class: "form-row" }, h("label", { for: valueId }, "Search Value"),
        h("div", { class: "inline" }, valueInput,
          h("button", { type: "button", class: "btn", onclick: runSearch }, "Search"))),
      hint, dialogError, results, vaCombo,
      h("div", { class: "dialog-actions" }, assignButton, cancel()));

    function showTerms() {
      const termsId = nextId("terms");
      const submit = h("button", { type: "button", class: "btn primary", disabled: true,
        onclick: () => confirmAssignment() }, "Submit");
      const step2 = h("div", { class: "step" },
        field("Smart Account", `${state.account.name} (${state.account.domain})`),
        field("Virtual Account", state.virtualAccount),
        h("div", { class: "terms-text", tabindex: "0", "aria-label": "Terms of Use" },
          h("p", {}, "By assigning this order you confirm that you are authorised to place the " +
            "licences of its eligible lines in the selected Smart Account and Virtual Account, " +
            "and that the account holder agrees to the Smart Account Terms of Use.")),
        h("p", { class: "check" }, h("input", { type: "checkbox", id: termsId,
          onchange: (event) => { submit.disabled = !event.target.checked; } }),
          h("label", { for: termsId }, "I accept the Terms of Use")),
        h("div", { class: "dialog-actions" }, submit, cancel()));
      step1.replaceWith(step2);
      step2.querySelector("input").focus();
    }

    function confirmAssignment() {
      const confirm = modal("alertdialog", "Confirm Smart Account Assignment",
        { onEscape: () => closeModal(confirm.layer) });
      const yes = h("button", { type: "button", class: "btn primary", onclick: () => {
        closeModal(confirm.layer);
        closeModal(layer);
        submitAssignment(order, state.account, state.virtualAccount);
      } }, "Yes");
      confirm.box.append(
        h("p", {}, `Assign the eligible lines of order ${order.sales_order} to ` +
          `${state.account.name} / ${state.virtualAccount}?`),
        h("div", { class: "dialog-actions" }, yes,
          h("button", { type: "button", class: "btn", onclick: () => closeModal(confirm.layer) }, "No")));
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
      main.prepend(errorMessage(() => document.getElementById("logout").click()));
    }
  });

  Mock.cookieBanner();
  route();
})();
