// The hosted modal (/forge-install, /embedded-install, /authenticate-app): builds the form from the emulator's
// JSON (http/modal_api.py), installs through it, and posts to alloy-frontend exactly what 2.1.1 listens for
// (reference §7.3): {workflowCreated: true, workflowIds} on success (never with closeModal), {closeModal: true}
// on cancel, {showModal: true} first in hide mode; authenticate posts {closeModal: true, ...} with credentialId.
// Every control has a stable id (also its data-testid): docs/modal.md lists them.
import {
  MODE, IN_FRAME, RAW_QUERY, el, icon, api, show, fatal, cancel, post, clearErrors, showErrors, answerProblems,
  collector, busy, appName,
} from "./modal-dom.js";
import { appSection, credentialChoice, workflowSection, fieldValues, whenOAuthConnected } from "./modal-fields.js";

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

let authForm = null;

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

if (MODE === "authenticate") whenOAuthConnected(submitConnect);
document.addEventListener("keydown", function (event) {
  if (event.key === "Escape" && IN_FRAME) cancel();
});
if (MODE === "standalone") document.body.classList.add("standalone");

const formPath = MODE === "authenticate" ? "/authenticate-app/api/form?" : "/forge-install/api/form?";
api("GET", formPath + RAW_QUERY).then(function (answer) {
  if (answer.status !== 200) return fatal((answer.body && answer.body.message) || "The form could not be loaded");
  if (MODE === "authenticate") renderAuthenticate(answer.body);
  else renderInstall(answer.body);
}, function () {
  fatal("The emulator could not be reached.");
});