"use strict";
// Shared by the sign-on page and the portal: DOM builder, click-blocking spinner, JSON calls,
// the release being rendered, the cookie banner and the generic error message.
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
      h("p", {}, SERVER_ERROR));
    box.append(h("button", {
      type: "button", class: "btn",
      onclick: () => { box.remove(); retry(); },
    }, retryLabel));
    return box;
  }

  function cookieBanner() {
    if (document.cookie.split("; ").includes(CONSENT_COOKIE)) return;
    const banner = h("section", { class: "cookie-banner", "aria-label": "Cookie preferences" },
      h("div", { class: "cookie-text" },
        h("h2", {}, "Cookie preferences"),
        h("p", {}, "We use cookies to keep you signed in, to remember your preferences and to " +
          "understand how this site is used. You can accept all cookies or keep only the " +
          "strictly necessary ones.")),
      h("div", { class: "cookie-actions" },
        h("button", {
          type: "button", class: "btn primary",
          onclick: () => {
            document.cookie = `${CONSENT_COOKIE}; path=/; max-age=31536000; SameSite=Lax`;
            banner.remove();
          },
        }, "Accept All Cookies")));
    // Consent scripts load late on real sites; the banner arrives after the page.
    setTimeout(() => document.body.append(banner), 250);
  }

  return { h, request, release, errorMessage, cookieBanner, ServerError, HttpError, SERVER_ERROR };
})();
