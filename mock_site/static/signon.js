"use strict";
// The imitation single sign-on page: Email + Next, Password + Verify, then a TOTP code for MFA users.
(() => {
  const { h, t, request, errorMessage, HttpError } = Mock;
  const next = new URLSearchParams(location.search).get("next") || "/ccw/home";
  const message = document.getElementById("signon-message");
  const steps = {
    email: document.getElementById("step-email"),
    password: document.getElementById("step-password"),
    code: document.getElementById("step-code"),
  };
  const field = (id) => document.getElementById(id);
  let transaction = null;

  function show(step) {
    for (const [name, form] of Object.entries(steps)) form.hidden = name !== step;
    steps[step].querySelector("input").focus();
  }

  function fail(text) {
    message.replaceChildren(h("div", { role: "alert", class: "error-banner" },
      h("span", { class: "error-icon", "aria-hidden": "true" }, "!"), h("p", {}, text)));
  }

  async function call(path, body, retry) {
    message.replaceChildren();
    try {
      const { data } = await request(path, { method: "POST", body });
      if (data.next_step === "code") {
        transaction = data.transaction;
        show("code");
      } else {
        location.assign(data.location);
      }
    } catch (err) {
      if (err instanceof HttpError) {
        fail(t(path.endsWith("/code")
          ? "Unable to sign in: the code is not valid or has expired."
          : "Unable to sign in. Check your email and password and try again."));
      } else {
        message.replaceChildren(errorMessage(retry));
      }
    }
  }

  steps.email.addEventListener("submit", (event) => {
    event.preventDefault();
    const email = field("email").value.trim();
    if (!email) return fail(t("Enter your email address."));
    message.replaceChildren();
    // No call here: every email is asked for a password, so nobody can probe who has an account.
    field("signon-user").textContent = email;
    show("password");
  });

  steps.password.addEventListener("submit", function submitPassword(event) {
    event.preventDefault();
    const body = { email: field("email").value.trim(), password: field("password").value, next };
    call("/signon/api/password", body, () => submitPassword(new Event("submit")));
  });

  steps.code.addEventListener("submit", function submitCode(event) {
    event.preventDefault();
    const body = { transaction, code: field("code").value.trim(), next };
    call("/signon/api/code", body, () => submitCode(new Event("submit")));
  });

  field("email").focus();
  Mock.cookieBanner();
})();
