// alloy-mock's drop-in for the vendor's hosted snippet: window.Alloy with the methods and callback behaviour of
// alloy-frontend 2.1.1 (its quirks included: unencoded iframe URLs, `id=undefined`, `versionId=<workflowIds>`,
// callbacks of {success} only), pointed at the origin this script was loaded from, for both the REST calls
// and the modal's iframe. An app under test swaps the script URL and changes nothing else.
(function () {
  "use strict";

  var script = document.currentScript;
  var ORIGIN = script && script.src ? new URL(script.src).origin : location.origin;

  // setRegion is kept (case-insensitive, unknown regions are "us"), but every region is this emulator.
  function domains() {
    return { app: ORIGIN, embedded: ORIGIN };
  }

  function frontendCall(token, method, path, data) {
    if (!token) throw new Error("no token set");
    var init = { method: method, headers: { "Content-Type": "application/json", "x-alloy-user-token": token } };
    if (method !== "GET") init.body = JSON.stringify(data);
    return fetch(domains().embedded + "/2024-03" + path, init).then(function (response) {
      return response.json();
    });
  }

  // The overlay alloy-frontend builds: a mask, a container and a 400 x 659 px box; a click on the mask or the
  // container closes it and calls back with the current success flag (the message listener stays, as there).
  function overlay(state, callback) {
    var body = document.querySelector("body");
    var modal = document.createElement("div");
    var close = function () {
      body.removeChild(modal);
      if (callback) callback({ success: state.success });
    };
    var mask = document.createElement("div");
    var container = document.createElement("div");
    [mask, container].forEach(function (layer) {
      layer.style.position = "fixed";
      layer.style.top = 0;
      layer.style.right = 0;
      layer.style.left = 0;
      layer.style.bottom = 0;
      layer.style.zIndex = 1000;
      layer.style.height = "100%";
      layer.addEventListener("click", close);
      modal.appendChild(layer);
    });
    mask.style.backgroundColor = "rgba(0,0,0,0.45)";
    var box = document.createElement("div");
    box.style.width = "400px";
    box.style.margin = "75px auto 75px auto";
    box.style.height = "659px";
    box.style.maxHeight = "659px";
    box.style.backgroundColor = "#fff";
    box.style.borderRadius = "16px";
    container.appendChild(box);
    return { body: body, modal: modal, box: box };
  }

  function attach(parts, src, id) {
    var frame = document.createElement("iframe");
    if (id) frame.setAttribute("id", id);
    frame.src = src;
    frame.style.minWidth = "100%";
    frame.style.minHeight = "100%";
    frame.style.border = "none";
    frame.style.borderRadius = "16px";
    parts.box.appendChild(frame);
    parts.body.appendChild(parts.modal);
  }

  function remove(parts) {
    try {
      if (parts.modal) parts.body.removeChild(parts.modal);
    } catch (err) {
      console.log(err);
    }
  }

  // The message listener of both modals: alloy-frontend's exact origin check, {showModal} shows the modal,
  // anything else goes to `handle` with `stop` (remove the modal and this listener).
  function listen(domain, parts, handle) {
    var handleMessage = function (event) {
      if (!event || event.origin !== domain) return;
      if (event.data && event.data.showModal) parts.modal.style.display = "block";
      else handle(event.data, stop);
    };
    var stop = function () {
      remove(parts);
      window.removeEventListener("message", handleMessage);
    };
    window.addEventListener("message", handleMessage);
  }

  // After a success message the modal closes after a delay, unless the message says closeModal: false.
  function stopLater(data, stop, delay) {
    if (data.closeModal || data.closeModal === undefined) setTimeout(stop, delay);
  }

  function install(token, params, region) {
    var state = { success: false };
    var callback = params.callback;
    var parts = overlay(state, callback);
    if (params.hide) parts.modal.style.display = "none";
    var domain = domains(region).app;
    var target = "";
    if (params.integrationId) target = "integrationId=" + params.integrationId + "&";
    else if (Array.isArray(params.workflowIds)) {
      params.workflowIds.forEach(function (id) {
        target += "id=" + id + "&";
      });
    } else target = "id=" + params.workflowIds + "&";
    var versions = "";
    if (params.versionIds && Array.isArray(params.versionIds) && params.versionIds.length) {
      params.versionIds.forEach(function (id) {
        versions += "versionId=" + id + "&";
      });
    } else if (params.versionIds) versions = "versionId=" + params.workflowIds + "&";
    var prefilled = "";
    if (params.preFilledValues && Array.isArray(params.preFilledValues) && params.preFilledValues.length) {
      prefilled = "preFilledValues=" + JSON.stringify(params.preFilledValues) + "&";
    }
    var output = "";
    if (params.outputOverride && Array.isArray(params.outputOverride) && params.outputOverride.length) {
      output = "outputOverride=" + JSON.stringify(params.outputOverride) + "&";
    }
    if (!token) throw new Error("no token set");
    var src = domain + "/forge-install?" + target + versions + prefilled + output + "token=" + token + "&forgeMode=engaged";
    if (params.hide) src += "&hide=true";
    if (params.alwaysShowAuthentication) src += "&alwaysShowAuthentication=true";
    if (params.operation) src += "&operation=" + params.operation;
    if (params.title) src += "&title=" + params.title;
    attach(parts, src);

    listen(domain, parts, function (data, stop) {
      if (data && data.closeModal) {
        if (callback) callback({ success: state.success });
        stop();
      } else if (data && data.workflowCreated) {
        state.success = true;
        if (callback) callback({ success: true });
        stopLater(data, stop, data.workflowIds ? 1000 : 200);
      }
    });
  }

  function authenticate(token, params, region) {
    var state = { success: false };
    var callback = params.callback;
    var parts = overlay(state, callback);
    var domain = domains(region).app;
    if (!token) throw new Error("no token set");
    var src = domain + "/authenticate-app?token=" + token + "&forgeMode=engaged";
    if (params.integrationId) src += "&integrationId=" + params.integrationId;
    if (params.app) src += "&app=" + params.app;
    if (params.category) src += "&category=" + params.category;
    if (params.useUnifiedSettings) src += "&useUnified=" + params.useUnifiedSettings;
    if (callback) src += "&callback=" + callback;
    attach(parts, src, "embedded-modal");

    listen(domain, parts, function (data, stop) {
      if (data && data.closeModal) {
        if (callback) {
          var response = { success: state.success };
          if (data.connectionStatus) response.success = data.connectionStatus !== "failed";
          if (data.connectionId) response.connectionId = data.connectionId;
          if (data.credentialId) response.credentialId = data.credentialId;
          callback(response);
        }
        stop();
      } else if (data) {
        state.success = true;
        var result = { success: true };
        if (data.connectionId) result.connectionId = data.connectionId;
        if (data.credentialId) result.credentialId = data.credentialId;
        if (callback) callback(result);
        stopLater(data, stop, data.connectionId || data.credentialId ? 1000 : 200);
      }
    });
  }

  function Alloy() {
    var token;
    var region = "us";
    return {
      install: function (params) {
        install(token, params, region);
      },
      authenticate: function (params) {
        authenticate(token, params, region);
      },
      edit: function (params) {
        install(token, Object.assign({ alwaysShowAuthentication: true, operation: "edit" }, params), region);
      },
      update: function (params) {
        install(token, Object.assign({ alwaysShowAuthentication: true, operation: "update" }, params), region);
      },
      setToken: function (tk) {
        token = tk;
      },
      setRegion: function (rg) {
        region = rg;
      },
      getWorkflows: function () {
        return frontendCall(token, "GET", "/workflows");
      },
      getIntegrations: function () {
        return frontendCall(token, "GET", "/integrations");
      },
      deactivate: function (data) {
        return frontendCall(token, "PUT", "/workflows/deactivate", data);
      },
      reactivate: function (data) {
        return frontendCall(token, "PUT", "/workflows/activate", data);
      },
    };
  }

  // The hosted snippet's `Alloy` is ready to use (Alloy.setToken(...)); calling it, as alloy-frontend's factory
  // is called (Alloy().setToken(...)), gives a fresh instance.
  window.Alloy = Object.assign(function () {
    return Alloy();
  }, Alloy());
})();
