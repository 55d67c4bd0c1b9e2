// The hosted modal (/forge-install, /embedded-install, /authenticate-app): builds the form from the emulator's
// JSON (http/modal_api.py), installs through it, and posts to alloy-frontend exactly what 2.1.1 listens for
// (reference §7.3): {workflowCreated: true, workflowIds} on success (never with closeModal), {closeModal: true}
// on cancel, {showModal: true} first in hide mode; authenticate posts {closeModal: true, ...} with credentialId.
// Every control has a stable id (also its data-testid): docs/modal.md lists them.
(function () {
  "use strict";

  var PATH = location.pathname;
  var MODE = PATH === "/authenticate-app" ? "authenticate" : PATH === "/embedded-install" ? "standalone" : "modal";
  var IN_FRAME = window.parent !== window;
  // The query as alloy-frontend built it (nothing encoded): a '#' in a value started the fragment, so put it back
  // and encode it for the request to the emulator.
  var RAW_QUERY = (location.search.slice(1) + location.hash).replace(/#/g, "%23");
  var TOKEN = decoded((/(?:^|&)token=([^&]*)/.exec(RAW_QUERY) || [])[1] || "");
  var NEW = "__new__";
  var root = document.getElementById("modal");
  var oauthResults = {}; // app -> credentialId from the OAuth popup

  function decoded(text) {
    try {
      return decodeURIComponent(text);
    } catch (error) {
      return text;
    }
  }

  function post(message) {
    if (IN_FRAME) window.parent.postMessage(message, "*");
  }

  // el("tag", {id, class, text, ...attributes}, children...): the id is also the data-testid.
  function el(tag, attrs, children) {
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

  function appName(app) {
    return app.charAt(0).toUpperCase() + app.slice(1);
  }

  function icon(name, small) {
    return el("span", { class: small ? "icon small" : "icon", "aria-hidden": "true", text: name.charAt(0).toUpperCase() });
  }

  function api(method, path, body) {
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

  function show(children) {
    root.replaceChildren.apply(root, children);
    root.removeAttribute("aria-busy");
  }

  function fatal(message) {
    var close = el("button", { type: "button", class: "secondary", id: "modal-close", text: "Close" });
    close.addEventListener("click", cancel);
    show([
      el("h1", { id: "modal-error-title", text: "Something went wrong" }),
      el("p", { class: "error", role: "alert", id: "modal-error-message", text: message }),
      IN_FRAME ? el("div", { class: "actions" }, [close]) : null,
    ]);
    post({ showModal: true });
  }

  function cancel() {
    post({ closeModal: true });
    if (!IN_FRAME) show([el("h1", { text: "Cancelled" }), el("p", { class: "muted", text: "Nothing was installed." })]);
  }

  function labelFor(id, text, required) {
    return el("label", { for: id }, [
      text,
      required ? el("span", { class: "req", "aria-hidden": "true", text: "*" }) : null,
      required ? el("span", { class: "sr-only", text: " (required)" }) : null,
    ]);
  }

  function errorSlot(id) {
    return el("p", { class: "field-error", id: id });
  }

  function textInput(id, value, required, errorId, hintId, secret) {
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

  // -- accounts -----------------------------------------------------------------------------------------------

  function propertyInputs(app) {
    return app.properties.map(function (prop) {
      var id = "credential-" + app.app + "-" + prop.name;
      var hintId = prop.description ? id + "-hint" : null;
      var secret = /secret|token|key|password/i.test(prop.name);
      return el("div", { class: "prop" }, [
        labelFor(id, prop.displayName, prop.required),
        textInput(id, "", prop.required, "error-" + id, hintId, secret),
        prop.description ? el("p", { class: "hint", id: hintId, text: prop.description }) : null,
        errorSlot("error-" + id),
      ]);
    });
  }

  function appSection(app) {
    var parts = [];
    var select = null;
    var newArea = el("div", { id: "new-" + app.app });
    if (app.credentials.length) {
      var selectId = "credential-" + app.app;
      select = el(
        "select",
        { id: selectId, name: selectId, "aria-describedby": "error-credentials-" + app.app },
        app.credentials
          .map(function (c, i) {
            var label = appName(app.app) + " account " + (app.credentials.length - i) + " · " + c.credentialId.slice(-6);
            return el("option", { value: c.credentialId, selected: c.credentialId === app.selected, text: label });
          })
          .concat([el("option", { value: NEW, text: "Connect a new account" })])
      );
      parts.push(labelFor(selectId, "Account", false), select);
      select.addEventListener("change", function () {
        newArea.hidden = select.value !== NEW;
      });
      newArea.hidden = select.value !== NEW;
    }
    propertyInputs(app).forEach(function (node) {
      newArea.appendChild(node);
    });
    if (app.isOauth) {
      var button = el("button", { type: "button", class: "oauth", id: "oauth-" + app.app, text: "Connect " + appName(app.app) });
      var status = el("p", { class: "status", id: "oauth-status-" + app.app, role: "status" });
      button.addEventListener("click", function () {
        startOAuth(app, status);
      });
      newArea.appendChild(button);
      newArea.appendChild(status);
    } else if (!app.properties.length) {
      newArea.appendChild(el("p", { class: "muted", text: "No details needed." }));
    }
    parts.push(newArea, errorSlot("error-credentials-" + app.app));
    return el("fieldset", { id: "app-" + app.app }, [
      el("legend", {}, [icon(app.app, true), appName(app.app)]),
    ].concat(parts));
  }

  function propertyValues(app, report) {
    var data = {};
    app.properties.forEach(function (prop) {
      var input = document.getElementById("credential-" + app.app + "-" + prop.name);
      var value = input.value.trim();
      if (value) data[prop.name] = value;
      else if (prop.required && report) report(input.id, prop.displayName + " is required");
    });
    return data;
  }

  function startOAuth(app, status) {
    var problems = [];
    var data = propertyValues(app, function (id, message) {
      problems.push([id, message]);
    });
    clearErrors();
    if (problems.length) return showErrors(problems.map(function (p) { return ["error-" + p[0], p[1], p[0]]; }));
    var query = new URLSearchParams(Object.assign({}, data, {
      token: TOKEN,
      state: app.app,
      redirectUri: location.origin + "/modal-assets/oauth-return.html",
    }));
    status.className = "status";
    status.textContent = "Waiting for " + appName(app.app) + "…";
    window.open("/oauth/" + encodeURIComponent(app.app) + "/authorize?" + query, "alloy-mock-oauth", "popup,width=480,height=640");
  }

  window.addEventListener("message", function (event) {
    var result = event.origin === location.origin && event.data && event.data.alloyMockOAuth;
    if (!result || !result.app) return;
    var status = document.getElementById("oauth-status-" + result.app);
    if (!status) return;
    if (result.credentialId) {
      oauthResults[result.app] = result.credentialId;
      status.className = "status ok";
      status.textContent = "✓ Connected " + appName(result.app) + " (" + result.credentialId.slice(-6) + ")";
      if (MODE === "authenticate") submitConnect();
    } else {
      delete oauthResults[result.app];
      status.className = "status error";
      status.textContent = "Not connected: access was denied.";
    }
  });

  // The credential choice of an app: {credentialId} or {data}, or null with the problems reported.
  function credentialChoice(app, report) {
    var select = document.getElementById("credential-" + app.app);
    if (select && select.value !== NEW) return { credentialId: select.value };
    if (app.isOauth) {
      if (oauthResults[app.app]) return { credentialId: oauthResults[app.app] };
      report("oauth-" + app.app, "Connect your " + appName(app.app) + " account", "error-credentials-" + app.app);
      return null;
    }
    return { data: propertyValues(app, report) };
  }

  // -- workflow fields ------------------------------------------------------------------------------------------

  function fieldId(workflow, field) {
    return "field-" + workflow.workflowId + "-" + field.blockId + "-" + field.name;
  }

  function fieldControl(workflow, field) {
    var id = fieldId(workflow, field);
    var errorId = "error-" + id;
    var control;
    if (field.type === "boolean") {
      control = el("input", {
        type: "checkbox",
        id: id,
        name: id,
        checked: field.value === true || field.value === "true",
        "aria-describedby": errorId,
      });
      return el("div", { class: "field", "data-testid": "field-" + field.name }, [
        el("label", { class: "check", for: id }, [control, field.displayName]),
        errorSlot(errorId),
      ]);
    }
    if (field.type === "select") {
      var value = field.value === null || field.value === undefined ? "" : String(field.value);
      control = el(
        "select",
        { id: id, name: id, required: field.required, "aria-required": field.required ? "true" : null, "aria-describedby": errorId },
        [el("option", { value: "", text: "Choose…", selected: value === "" })].concat(
          field.options.map(function (option) {
            return el("option", { value: option, text: option, selected: option === value });
          })
        )
      );
    } else {
      control = textInput(id, field.value, field.required, errorId, null, false);
      if (field.type === "number") control.setAttribute("inputmode", "decimal");
    }
    return el("div", { class: "field", "data-testid": "field-" + field.name }, [
      labelFor(id, field.displayName, field.required),
      control,
      errorSlot(errorId),
    ]);
  }

  function workflowSection(workflow) {
    var fields = workflow.fields.map(function (field) {
      return fieldControl(workflow, field);
    });
    return el("fieldset", { id: "workflow-" + workflow.workflowId }, [
      el("legend", { text: workflow.name }),
    ].concat(fields.length ? fields : [el("p", { class: "muted", text: "Nothing to set up." })], [
      errorSlot("error-workflow-" + workflow.workflowId),
    ]));
  }

  function fieldValues(workflow, report) {
    var values = {};
    workflow.fields.forEach(function (field) {
      var input = document.getElementById(fieldId(workflow, field));
      var value = field.type === "boolean" ? input.checked : input.value.trim();
      if (value === "" && field.required) report(input.id, field.displayName + " is required");
      if (value === "") return;
      (values[field.blockId] = values[field.blockId] || {})[field.name] = value;
    });
    return values;
  }

  // -- errors ------------------------------------------------------------------------------------------------

  function clearErrors() {
    Array.prototype.forEach.call(document.querySelectorAll(".field-error, #modal-alert"), function (node) {
      node.textContent = "";
    });
    Array.prototype.forEach.call(document.querySelectorAll("[aria-invalid]"), function (node) {
      node.removeAttribute("aria-invalid");
    });
  }

  // problems: [errorSlotId, message, controlId?]; a slot that does not exist shows in the alert instead.
  function showErrors(problems) {
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

  function answerProblems(answer) {
    if (answer.status === 401) return [["modal-alert", "Your session has expired: close this window and try again."]];
    if (answer.body && answer.body.problems) return answer.body.problems.map(serverProblem);
    return [["modal-alert", (answer.body && answer.body.message) || "The emulator answered " + answer.status]];
  }

  function collector() {
    var problems = [];
    return {
      problems: problems,
      report: function (controlId, message, slotId) {
        problems.push([slotId || "error-" + controlId, message, controlId]);
      },
    };
  }

  function busy(button, on) {
    button.disabled = on;
    button.setAttribute("aria-busy", on ? "true" : "false");
  }

  // -- pages -----------------------------------------------------------------------------------------------

  function header(title, subtitle, app) {
    return el("div", { class: "header" }, [
      icon(app),
      el("div", {}, [el("h1", { id: "modal-title", text: title }), el("p", { class: "subtitle muted", text: subtitle })]),
    ]);
  }

  function success(title, text) {
    show([
      el("div", { class: "success", id: "modal-success", role: "status" }, [
        el("span", { class: "check-mark", "aria-hidden": "true", text: "✓" }),
        el("h1", { text: title }),
        el("p", { class: "muted", text: text }),
      ]),
    ]);
  }

  function renderInstall(form) {
    var app = form.integration.app;
    var verb = { edit: "Edit", update: "Update" }[form.operation] || "Install";
    document.title = verb + " " + app + " · alloy-mock";
    var list = el("ul", { class: "workflows", id: "workflow-list" }, form.workflows.map(function (w) {
      return el("li", { id: "workflow-item-" + w.workflowId }, [
        el("span", { text: w.name }),
        w.installed ? el("span", { class: "badge", text: "Installed" }) : null,
      ]);
    }));
    var install = el("button", { type: "button", class: "primary", id: "modal-install", text: verb === "Install" ? "Install" : "Save changes" });
    var cancelButton = el("button", { type: "button", class: "secondary", id: "modal-cancel", text: "Cancel" });
    cancelButton.addEventListener("click", cancel);
    install.addEventListener("click", function () {
      submitInstall(form, install);
    });
    var withFields = form.workflows.filter(function (w) { return w.fields.length; });
    show([
      header(form.title || verb + " " + app, "For " + form.user.username + " · " + form.workflows.length + " workflow" + (form.workflows.length === 1 ? "" : "s"), app),
      el("h2", { id: "heading-workflows", text: "Workflows" }),
      list,
      form.apps.length ? el("h2", { id: "heading-accounts", text: "Connect your accounts" }) : null,
    ].concat(
      form.apps.map(appSection),
      [withFields.length ? el("h2", { id: "heading-settings", text: "Settings" }) : null],
      withFields.map(workflowSection),
      [
        form.notices.length
          ? el("details", { id: "modal-notices" }, [el("summary", { text: "Notes for developers" })].concat(
              form.notices.map(function (n) { return el("p", { text: n }); })))
          : null,
        el("p", { class: "alert", id: "modal-alert", role: "alert" }),
        el("div", { class: "actions" }, [IN_FRAME ? cancelButton : null, install]),
      ]
    ));
    if (form.hide) post({ showModal: true });
  }

  function submitInstall(form, button) {
    clearErrors();
    var check = collector();
    var credentials = {};
    form.apps.forEach(function (app) {
      var choice = credentialChoice(app, check.report);
      if (choice) credentials[app.app] = choice;
    });
    var values = {};
    form.workflows.forEach(function (workflow) {
      var found = fieldValues(workflow, check.report);
      if (Object.keys(found).length) values[workflow.workflowId] = found;
    });
    if (check.problems.length) return showErrors(check.problems);
    busy(button, true);
    var body = Object.assign({}, form.params, { credentials: credentials, values: values });
    api("POST", "/forge-install/api/install", body).then(function (answer) {
      busy(button, false);
      if (answer.status !== 200) return showErrors(answerProblems(answer));
      var edited = form.operation !== "install";
      success(edited ? "Changes saved" : "Installed", form.integration.app + " is ready for " + form.user.username + ".");
      post({ workflowCreated: true, workflowIds: answer.body.workflowIds });
    }, function () {
      busy(button, false);
      showErrors([["modal-alert", "The emulator could not be reached."]]);
    });
  }

  var authForm = null;

  function renderAuthenticate(form) {
    authForm = form;
    var app = form.app;
    document.title = "Connect " + app.app + " · alloy-mock";
    var connect = el("button", { type: "button", class: "primary", id: "modal-connect", text: "Connect" });
    var cancelButton = el("button", { type: "button", class: "secondary", id: "modal-cancel", text: "Cancel" });
    cancelButton.addEventListener("click", cancel);
    connect.addEventListener("click", submitConnect);
    show([
      header(form.title || "Connect " + appName(app.app), "For " + form.user.username, app.app),
      el("h2", { text: "Account" }),
      appSection(app),
      el("p", { class: "alert", id: "modal-alert", role: "alert" }),
      el("div", { class: "actions" }, [IN_FRAME ? cancelButton : null, connect]),
    ]);
  }

  function submitConnect() {
    var app = authForm.app;
    var button = document.getElementById("modal-connect");
    clearErrors();
    var check = collector();
    var choice = credentialChoice(app, check.report);
    if (check.problems.length) return showErrors(check.problems);
    busy(button, true);
    api("POST", "/authenticate-app/api/connect", Object.assign({ app: app.app }, choice)).then(function (answer) {
      busy(button, false);
      if (answer.status !== 200) return showErrors(answerProblems(answer));
      success("Connected", appName(app.app) + " is connected for " + authForm.user.username + ".");
      post({ closeModal: true, connectionStatus: "connected", credentialId: answer.body.credentialId });
    }, function () {
      busy(button, false);
      showErrors([["modal-alert", "The emulator could not be reached."]]);
    });
  }

  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && IN_FRAME) cancel();
  });
  if (MODE === "standalone") document.body.classList.add("standalone");

  var formPath = MODE === "authenticate" ? "/authenticate-app/api/form?" : "/forge-install/api/form?";
  api("GET", formPath + RAW_QUERY).then(function (answer) {
    if (answer.status !== 200) return fatal((answer.body && answer.body.message) || "The form could not be loaded");
    if (MODE === "authenticate") renderAuthenticate(answer.body);
    else renderInstall(answer.body);
  }, function () {
    fatal("The emulator could not be reached.");
  });
})();
