// The upload form's progress bar: the file is sent with XMLHttpRequest so that its progress can be shown, and
// the browser then goes to the page the bureau answered with (the submission and its findings). Without
// scripts the form posts as it is and the same page follows.
(function () {
  "use strict";
  var form = document.querySelector('form[data-testid="upload"]');
  if (!form || !window.XMLHttpRequest || !window.FormData) { return; }
  var bar = document.getElementById("upload-progress");
  var status = document.getElementById("upload-status");
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var button = form.querySelector("button[type=submit]");
    var request = new XMLHttpRequest();
    request.open("POST", form.action);
    request.upload.addEventListener("progress", function (e) {
      if (!e.lengthComputable) { return; }
      bar.hidden = false;
      bar.value = Math.round(100 * e.loaded / e.total);
      status.textContent = "Sending: " + bar.value + " %";
    });
    request.upload.addEventListener("load", function () {
      bar.value = 100;
      status.textContent = "Sent. Validating and loading the records...";
    });
    request.addEventListener("load", function () {
      if (request.status >= 200 && request.status < 300 && request.responseURL) {
        window.location.assign(request.responseURL);
        return;
      }
      // The bureau's error page: its message, shown here (the form stays, to try again).
      var answer = new DOMParser().parseFromString(request.responseText, "text/html");
      var message = answer.querySelector('[data-testid="error-message"]');
      bar.hidden = true;
      button.disabled = false;
      status.textContent = "Refused: " + (message ? message.textContent.trim() : "the bureau answered " + request.status);
    });
    request.addEventListener("error", function () {
      button.disabled = false;
      status.textContent = "The upload failed: the connection was lost. Try again.";
    });
    button.disabled = true;
    request.send(new FormData(form));
  });
})();
