// The hosted modal's form sections: an app's account (saved credentials, a new one's properties, the OAuth
// popup) and a workflow's fields, with the values read back for the install or connect call.
import { NEW, TOKEN, el, appName, icon, labelFor, errorSlot, textInput, clearErrors, showErrors } from "./modal-dom.js";

const oauthResults = {}; // app -> credentialId from the OAuth popup
let onConnected = function () {};

// What to do once the OAuth popup has connected an account (the authenticate page submits at once).
export function whenOAuthConnected(action) {
  onConnected = action;
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

export function appSection(app) {
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
    onConnected();
  } else {
    delete oauthResults[result.app];
    status.className = "status error";
    status.textContent = "Not connected: access was denied.";
  }
});

// The credential choice of an app: {credentialId} or {data}, or null with the problems reported.
export function credentialChoice(app, report) {
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

export function workflowSection(workflow) {
  var fields = workflow.fields.map(function (field) {
    return fieldControl(workflow, field);
  });
  return el("fieldset", { id: "workflow-" + workflow.workflowId }, [
    el("legend", { text: workflow.name }),
  ].concat(fields.length ? fields : [el("p", { class: "muted", text: "Nothing to set up." })], [
    errorSlot("error-workflow-" + workflow.workflowId),
  ]));
}

export function fieldValues(workflow, report) {
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