// The OAuth consent page redirects here: hand the result to the modal that opened this popup, then close.
(function () {
  "use strict";
  var query = new URLSearchParams(location.search);
  var result = { app: query.get("app"), credentialId: query.get("credentialId"), error: query.get("error") };
  if (window.opener) {
    window.opener.postMessage({ alloyMockOAuth: result }, location.origin);
    window.close();
  } else {
    document.getElementById("oauth-return-status").textContent = result.credentialId
      ? "Connected. You can close this window."
      : "Not connected: " + (result.error || "no credential");
  }
})();
