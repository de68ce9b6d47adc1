"use strict";
// Shared by the sign-on page and the portal: DOM builder, click-blocking spinner, JSON calls,
// the release being rendered, the page's words in its locale, the cookie banner and the generic
// error message.
const Mock = (() => {
  const SERVER_ERROR = "Something went wrong, please try again";
  const CONSENT_COOKIE = "cookie_consent=accepted";

  function h(tag, attrs, ...children) {
    const el = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
      else if (key === "class") el.className = value;
      else el.setAttribute(key, value === true ? "" : String(value));
    }
    for (const child of children.flat()) {
      if (child === null || child === undefined || child === false) continue;
      el.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return el;
  }

  // The overlay covers the page while any request runs, so clicks must wait for it.
  let pending = 0;
  function setBusy(delta) {
    pending = Math.max(0, pending + delta);
    document.getElementById("spinner").hidden = pending === 0;
    document.body.setAttribute("aria-busy", pending > 0 ? "true" : "false");
  }

  // Every release's options come with the portal page; each JSON answer names the current one,
  // so a release switched at run time shows from the next screen on.
  let releases = null;
  let currentRelease = null;
  function release() {
    if (!releases) {
      const script = document.getElementById("releases");
      const data = script ? JSON.parse(script.textContent) : { current: null, releases: {} };
      releases = data.releases;
      currentRelease = currentRelease || data.current;
    }
    return releases[currentRelease];
  }

  // The page's locale and its words (mock_site/words.py): an English text, or a template with
  // {slots}, maps to its translation; a text without one stays English. A message the server
  // wrote from a template ("Order status is Shipped") is read back through it and its slots
  // translated in turn.
  let words = null;
  function loadWords() {
    if (!words) {
      const script = document.getElementById("words");
      const data = script ? JSON.parse(script.textContent) : { locale: "en", words: {} };
      const escape = (text) => text.replace(/[.*+?^$()|[\]\\]/g, "\\$&");
      const templates = Object.entries(data.words).filter(([key]) => /\{\w+\}/.test(key))
        .map(([key, value]) => [new RegExp("^" + escape(key).replace(/\{(\w+)\}/g,
          (_, name) => `(?<${name}>.+?)`) + "$"), value, key.replace(/\{\w+\}/g, "").length])
        // The most specific first: "Order status is {status}" before "Order {number}".
        .sort((a, b) => b[2] - a[2]);
      words = { locale: data.locale, table: data.words, templates };
    }
    return words;
  }
  const fill = (text, slots) => text.replace(/\{(\w+)\}/g,
    (whole, name) => (name in slots ? String(slots[name]) : whole));
  // A release that renamed a control (releases.py `renamed`) names it its own way first.
  function t(english, slots) {
    const text = release()?.renamed?.[english] ?? english;
    const { table, templates } = loadWords();
    const own = Object.hasOwn(table, text) ? table[text] : null;
    if (slots) return fill(own ?? text, slots);
    if (own !== null) return own;
    for (const [pattern, translation] of templates) {
      const found = pattern.exec(text);
      if (found) {
        const read = Object.fromEntries(Object.entries(found.groups).map(([k, v]) => [k, t(v)]));
        return fill(translation, read);
      }
    }
    return text;
  }
  // A date as the locale writes it: 2024-11-04 in English, 04/11/2024 in French.
  function date(iso) {
    if (loadWords().locale === "en") return iso;
    const [year, month, day] = iso.split("-");
    return `${day}/${month}/${year}`;
  }

  class ServerError extends Error {}
  class HttpError extends Error {
    constructor(status, body) {
      super((body && body.error) || `HTTP ${status}`);
      this.status = status;
      this.body = body;
    }
  }

  async function request(path, { method = "GET", body, onUnauthorized } = {}) {
    setBusy(1);
    try {
      let res;
      try {
        res = await fetch(path, {
          method,
          credentials: "same-origin",
          headers: body === undefined ? {} : { "Content-Type": "application/json" },
          body: body === undefined ? undefined : JSON.stringify(body),
        });
      } catch (err) {
        throw new ServerError(String(err));
      }
      currentRelease = res.headers.get("X-Release") || currentRelease;
      if (res.status === 401 && onUnauthorized) {
        setBusy(1); // keep blocking clicks while the browser leaves for the sign-on page
        onUnauthorized();
        return new Promise(() => {});
      }
      if (res.status >= 500) throw new ServerError(`HTTP ${res.status}`);
      const data = await res.json().catch(() => ({}));
      if (!res.ok) throw new HttpError(res.status, data);
      return { data, survey: res.headers.get("X-Survey") === "1" };
    } finally {
      setBusy(-1);
    }
  }

  function errorMessage(retry, retryLabel = "Try again") {
    const box = h("div", { role: "alert", class: "error-banner" },
      h("span", { class: "error-icon", "aria-hidden": "true" }, "!"),
      h("p", {}, t(SERVER_ERROR)));
    box.append(h("button", {
      type: "button", class: "btn",
      onclick: () => { box.remove(); retry(); },
    }, t(retryLabel)));
    return box;
  }

  function cookieBanner() {
    if (document.cookie.split("; ").includes(CONSENT_COOKIE)) return;
    const banner = h("section", { class: "cookie-banner", "aria-label": t("Cookie preferences") },
      h("div", { class: "cookie-text" },
        h("h2", {}, t("Cookie preferences")),
        h("p", {}, t("We use cookies to keep you signed in, to remember your preferences and to " +
          "understand how this site is used. You can accept all cookies or keep only the " +
          "strictly necessary ones."))),
      h("div", { class: "cookie-actions" },
        h("button", {
          type: "button", class: "btn primary",
          onclick: () => {
            document.cookie = `${CONSENT_COOKIE}; path=/; max-age=31536000; SameSite=Lax`;
            banner.remove();
          },
        }, t("Accept All Cookies"))));
    // Consent scripts load late on real sites; the banner arrives after the page.
    setTimeout(() => document.body.append(banner), 250);
  }

  return { h, t, date, request, release, errorMessage, cookieBanner, ServerError, HttpError,
    SERVER_ERROR };
})();
