// A modal's error page: make sure a hidden modal shows it, and let Close tell alloy-frontend to close.
(function () {
  "use strict";
  var inFrame = window.parent !== window;
  var close = document.getElementById("modal-close");
  if (!inFrame) {
    close.hidden = true;
    return;
  }
  window.parent.postMessage({ showModal: true }, "*");
  close.addEventListener("click", function () {
    window.parent.postMessage({ closeModal: true }, "*");
  });
  close.focus();
})();
