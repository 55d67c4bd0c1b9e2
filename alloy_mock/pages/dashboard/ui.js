// DOM helpers shared by the pages. Every value from the emulator goes in as text, never parsed as HTML.

// Relative times are read on the emulator's clock: its time when frozen, else the browser's plus the difference.
let clockOffsetMs = 0;
let frozenAtMs = null;

// h("button", {class: "primary", onclick: f, type: "button"}, "Save") -> <button ...>Save</button>
export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on")) element.addEventListener(name.slice(2), value);
    else if (name === "class") element.className = value;
    else if (name === "text") element.textContent = value;
    else if (name in element && typeof value !== "string") element[name] = value;
    else element.setAttribute(name, value === true ? "" : value);
  }
  append(element, children);
  return element;
}

function append(element, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

export function replace(element, ...children) {
  element.replaceChildren();
  append(element, children);
  return element;
}

// A labelled field: <div class="field"><label for=id>Label</label><input id=id ...></div>.
export function field(label, control, hint) {
  const hintId = hint ? `${control.id}-hint` : null;
  if (hintId) control.setAttribute("aria-describedby", hintId);
  return h("div", { class: "field" }, h("label", { for: control.id }, label), control, hint && h("small", { id: hintId, class: "muted" }, hint));
}

export function button(label, onclick, kind = "secondary", attributes = {}) {
  return h("button", { type: "button", class: kind, onclick, ...attributes }, label);
}

// A table in a focusable, labelled scrolling region (narrow windows scroll it sideways); `rows` are <tr>s, or
// the <tbody> a page fills itself.
export function table(label, headers, rows, attributes = {}) {
  const body = rows instanceof HTMLTableSectionElement ? rows : h("tbody", {}, rows);
  return h(
    "div",
    { class: "table-wrap", role: "region", "aria-label": label, tabindex: "0" },
    h(
      "table",
      attributes,
      h("thead", {}, h("tr", {}, headers.map((name) => h("th", { scope: "col" }, name)))),
      body,
    ),
  );
}

// What a page shows when it has nothing to list: what that means, and what to do next.
export function empty(title, next) {
  return h("div", { class: "empty" }, h("p", { class: "empty-title" }, title), next && h("p", { class: "muted" }, next));
}

export function errorBox(failure) {
  return h("p", { class: "error", role: "alert" }, failure.message || String(failure));
}

export function statusBadge(status) {
  const kind = status >= 500 ? "bad" : status >= 400 ? "warn" : status >= 300 ? "info" : "ok";
  return h("span", { class: `badge badge-${kind}` }, String(status));
}

export function badge(text, kind = "info") {
  return h("span", { class: `badge badge-${kind}` }, text);
}

export function json(value) {
  return h("pre", { class: "code" }, value === undefined || value === null ? "(none)" : typeof value === "string" ? value : JSON.stringify(value, null, 2));
}

export function setClock(clock) {
  if (!clock || typeof clock.now !== "number") return;
  clockOffsetMs = clock.now * 1000 - Date.now();
  frozenAtMs = clock.frozen ? clock.now * 1000 : null;
}

export function emulatorNow() {
  return frozenAtMs ?? Date.now() + clockOffsetMs;
}

// "12 s ago", "3 min ago", "in 2 h": relative to the emulator's clock (frozen or moved clocks included).
export function relative(iso) {
  if (!iso) return "";
  const then = Date.parse(iso);
  if (Number.isNaN(then)) return String(iso);
  const seconds = Math.round((emulatorNow() - then) / 1000);
  const size = Math.abs(seconds);
  const [amount, unit] =
    size < 60 ? [size, "s"] : size < 3600 ? [Math.round(size / 60), "min"] : size < 86400 ? [Math.round(size / 3600), "h"] : [Math.round(size / 86400), "d"];
  if (size < 2) return "just now";
  return seconds >= 0 ? `${amount} ${unit} ago` : `in ${amount} ${unit}`;
}

export function time(iso) {
  return h("time", { datetime: iso || "", title: iso || "" }, relative(iso));
}

// A short message for the screen reader and the eye ("Fault added"), cleared after a while.
let toastTimer = null;
export function toast(message, kind = "ok") {
  const box = document.getElementById("toast");
  box.className = `toast toast-${kind}`;
  box.textContent = message;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => {
    box.textContent = "";
    box.className = "toast";
  }, 6000);
}

// Runs `task` now and then every `ms` while the page is shown and the tab visible (no request at all from a
// hidden tab); stop() ends it. A task's failure is shown by the task itself; the loop goes on.
export function poller(task, ms) {
  let timer = null;
  let stopped = false;
  const tick = async () => {
    timer = null;
    if (stopped || document.visibilityState !== "visible") return;
    try {
      await task();
    } finally {
      if (!stopped && timer === null) timer = setTimeout(tick, ms);
    }
  };
  const onVisibility = () => {
    if (document.visibilityState === "visible" && timer === null && !stopped) tick();
  };
  document.addEventListener("visibilitychange", onVisibility);
  tick();
  return {
    stop() {
      stopped = true;
      clearTimeout(timer);
      document.removeEventListener("visibilitychange", onVisibility);
    },
    now() {
      clearTimeout(timer);
      timer = null;
      return tick();
    },
  };
}

// A <select> of the namespaces (value: the namespace id such as "default.dev").
export function namespaceSelect(id, list, selected, onchange, withAny = false) {
  const options = list.map((item) => h("option", { value: item.namespace, selected: item.namespace === selected }, item.namespace));
  if (withAny) options.unshift(h("option", { value: "", selected: !selected }, "any"));
  return h("select", { id, onchange }, options);
}

// Submits a form's action, showing a failure next to it; `run` returns the success message.
export function onSubmit(form, run) {
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const submit = form.querySelector("[type=submit]");
    if (submit) submit.disabled = true;
    try {
      const message = await run(new FormData(form));
      if (message) toast(message);
    } catch (failure) {
      toast(failure.message, "bad");
    } finally {
      if (submit) submit.disabled = false;
    }
  });
  return form;
}

// A button whose click runs an action and toasts its success message or the emulator's error.
export function action(label, run, kind = "secondary", attributes = {}) {
  const element = button(
    label,
    async () => {
      element.disabled = true;
      try {
        const message = await run();
        if (message) toast(message);
      } catch (failure) {
        toast(failure.message, "bad");
      } finally {
        element.disabled = false;
      }
    },
    kind,
    attributes,
  );
  return element;
}

// A section with a heading, a list that reloads itself, and forms below it.
export function section(id, heading, intro, load, ...parts) {
  const list = h("div", { class: "section-list", id: `${id}-list`, "aria-live": "polite" });
  const reload = async () => {
    try {
      replace(list, await load(reload));
    } catch (failure) {
      replace(list, errorBox(failure));
    }
  };
  const element = h("section", { class: "card", id, "aria-labelledby": `${id}-title` }, h("h2", { id: `${id}-title` }, heading), intro && h("p", { class: "muted" }, intro), list);
  for (const part of parts) element.append(typeof part === "function" ? part(reload) : part);
  reload();
  return element;
}

export function select(id, name, values, labels = {}) {
  return h("select", { id, name }, values.map((value) => h("option", { value }, labels[value] ?? value)));
}
