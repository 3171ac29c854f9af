/* The portal's CAPTCHA: "换一张" asks django-simple-captcha's refresh view for a new challenge and
   swaps the image and the hidden key (the answer box is cleared).  A file, not inline script: the
   Content-Security-Policy forbids that. */
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    var button = event.target instanceof Element ? event.target.closest("[data-captcha-refresh]") : null;
    if (!button) {
      return;
    }
    event.preventDefault();
    var row = button.closest("[data-refresh-url]");
    if (!row) {
      return;
    }
    button.disabled = true;
    fetch(row.getAttribute("data-refresh-url"), {
      headers: { "X-Requested-With": "XMLHttpRequest" },
      credentials: "same-origin",
    })
      .then(function (response) {
        if (!response.ok) {
          throw new Error(String(response.status));
        }
        return response.json();
      })
      .then(function (data) {
        var image = row.querySelector("img.captcha");
        var key = row.querySelector("input[type=hidden]");
        var answer = row.querySelector("input[type=text]");
        if (image) { image.src = data.image_url; }
        if (key) { key.value = data.key; }
        if (answer) { answer.value = ""; answer.focus(); }
      })
      .catch(function () { /* keep the old image: it is still valid until it is answered */ })
      .then(function () { button.disabled = false; });
  });
})();
