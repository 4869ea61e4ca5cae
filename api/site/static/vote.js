// "Was this article helpful?" in place: the same form posts, asking for JSON, and the thanks replaces
// the forms. Without this file the forms post as they are and the article comes back with the thanks.
(function () {
  "use strict";
  var box = document.querySelector("[data-vote]");
  if (!box) return;
  var status = document.querySelector(".vote-status");
  box.addEventListener("submit", function (event) {
    var form = event.target;
    event.preventDefault();
    var body = new URLSearchParams(new FormData(form));
    if (event.submitter && event.submitter.name) body.set(event.submitter.name, event.submitter.value);
    fetch(form.action, { method: "POST", body: body, headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (response) {
        return response.json().then(function (data) {
          if (!response.ok) throw new Error(data.detail || "");
          return data;
        });
      })
      .then(function (data) {
        box.hidden = true;
        status.textContent = data.message;
        var contact = document.querySelector("[data-contact]");
        if (contact && data.contact_url) {
          contact.href = data.contact_url;
          contact.parentNode.hidden = false;
        }
      })
      .catch(function (error) {
        status.textContent = error.message || status.getAttribute("data-failed");
      });
  });
})();
