// The hosted modal's shared parts: the page's context (mode, token, query), element building, the call to the
// emulator, the messages to alloy-frontend, and error display. modal-fields.js builds the form's sections and
// modal.js its pages; docs/modal.md lists the stable ids (each also a data-testid).

const PATH = location.pathname;
export const MODE = PATH === "/authenticate-app" ? "authenticate" : PATH === "/embedded-install" ? "standalone" : "modal";
export const IN_FRAME = window.parent !== window;
// The query as alloy-frontend built it (nothing encoded): a '#' in a value started the fragment, so put it back
// and encode it for the request to the emulator.
export const RAW_QUERY = (location.search.slice(1) + location.hash).replace(/#/g, "%23");
export const TOKEN = decoded((/(?:^|&)token=([^&]*)/.exec(RAW_QUERY) || [])[1] || "");
export const NEW = "__new__";
const root = document.getElementById("modal");

function decoded(text) {
  try {
    return decodeURIComponent(text);
  } catch (error) {
    return text;
  }
}

export function post(message) {
  if (IN_FRAME) window.parent.postMessage(message, "*");
}

// el("tag", {id, class, text, ...attributes}, children...): the id is also the data-testid.
export function el(tag, attrs, children) {
  var node = document.createElement(tag);
  Object.keys(attrs || {}).forEach(function (key) {
    var value = attrs[key];
    if (value === undefined || value === null || value === false) return;
    if (key === "text") node.textContent = value;
    else if (key === "class") node.className = value;
    else {
      node.setAttribute(key, value === true ? "" : value);
      if (key === "id") node.setAttribute("data-testid", value);
    }
  });
  (children || []).forEach(function (child) {
    if (child) node.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
  });
  return node;
}

export function appName(app) {
  return app.charAt(0).toUpperCase() + app.slice(1);
}

export function icon(name, small) {
  return el("span", { class: small ? "icon small" : "icon", "aria-hidden": "true", text: name.charAt(0).toUpperCase() });
}

export function api(method, path, body) {
  var init = { method: method, headers: { "x-alloy-user-token": TOKEN } };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  return fetch(path, init).then(function (response) {
    return response.json().then(function (json) {
      return { status: response.status, body: json };
    });
  });
}

export function show(children) {
  root.replaceChildren.apply(root, children);
  root.removeAttribute("aria-busy");
}

export function fatal(message) {
  var close = el("button", { type: "button", class: "secondary", id: "modal-close", text: "Close" });
  close.addEventListener("click", cancel);
  show([
    el("h1", { id: "modal-error-title", text: "Something went wrong" }),
    el("p", { class: "error", role: "alert", id: "modal-error-message", text: message }),
    IN_FRAME ? el("div", { class: "actions" }, [close]) : null,
  ]);
  post({ showModal: true });
}

export function cancel() {
  post({ closeModal: true });
  if (!IN_FRAME) show([el("h1", { text: "Cancelled" }), el("p", { class: "muted", text: "Nothing was installed." })]);
}

export function labelFor(id, text, required) {
  return el("label", { for: id }, [
    text,
    required ? el("span", { class: "req", "aria-hidden": "true", text: "*" }) : null,
    required ? el("span", { class: "sr-only", text: " (required)" }) : null,
  ]);
}

export function errorSlot(id) {
  return el("p", { class: "field-error", id: id });
}

export function textInput(id, value, required, errorId, hintId, secret) {
  return el("input", {
    type: secret ? "password" : "text",
    id: id,
    name: id,
    value: value === null || value === undefined ? "" : String(value),
    required: required,
    "aria-required": required ? "true" : null,
    "aria-describedby": [hintId, errorId].filter(Boolean).join(" "),
    autocomplete: "off",
  });
}

// -- errors ------------------------------------------------------------------------------------------------

export function clearErrors() {
  Array.prototype.forEach.call(document.querySelectorAll(".field-error, #modal-alert"), function (node) {
    node.textContent = "";
  });
  Array.prototype.forEach.call(document.querySelectorAll("[aria-invalid]"), function (node) {
    node.removeAttribute("aria-invalid");
  });
}

// problems: [errorSlotId, message, controlId?]; a slot that does not exist shows in the alert instead.
export function showErrors(problems) {
  var first = null;
  problems.forEach(function (problem) {
    var slot = document.getElementById(problem[0]);
    var control = problem[2] && document.getElementById(problem[2]);
    if (!slot) slot = document.getElementById("modal-alert");
    slot.textContent = slot.textContent ? slot.textContent + " " + problem[1] : problem[1];
    if (control) control.setAttribute("aria-invalid", "true");
    first = first || control || slot;
  });
  if (first && first.focus) first.focus();
}

// Where the server says a problem is -> [errorSlotId, message, controlId].
function serverProblem(problem) {
  var where = problem.where;
  if (where[0] === "values" && where.length >= 4) {
    var id = "field-" + where[1] + "-" + where[2] + "-" + where[3];
    return ["error-" + id, problem.message, id];
  }
  if (where[0] === "values" && where.length >= 2) return ["error-workflow-" + where[1], problem.message];
  if (where[0] === "credentials" && where.length >= 3) {
    var prop = "credential-" + where[1] + "-" + where[2];
    return ["error-" + prop, problem.message, prop];
  }
  if (where[0] === "credentials" && where.length >= 2) return ["error-credentials-" + where[1], problem.message];
  return ["modal-alert", problem.message];
}

export function answerProblems(answer) {
  if (answer.status === 401) return [["modal-alert", "Your session has expired: close this window and try again."]];
  if (answer.body && answer.body.problems) return answer.body.problems.map(serverProblem);
  return [["modal-alert", (answer.body && answer.body.message) || "The emulator answered " + answer.status]];
}

export function collector() {
  var problems = [];
  return {
    problems: problems,
    report: function (controlId, message, slotId) {
      problems.push([slotId || "error-" + controlId, message, controlId]);
    },
  };
}

export function busy(button, on) {
  button.disabled = on;
  button.setAttribute("aria-busy", on ? "true" : "false");
}
