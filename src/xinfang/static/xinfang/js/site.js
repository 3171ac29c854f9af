/* Behaviour every page shares, as a file: the Content-Security-Policy forbids inline handlers such
   as onchange="…" (issue #7 point 30).
   - <select data-autosubmit>: submit its form on change (the language menu).
   - a link to "#id" of a closed <details> opens it (the petition page's "更换" beside the handler
     opens the action panel's 指定承办人 form). */
(function () {
  "use strict";
  document.addEventListener("change", function (event) {
    var target = event.target;
    if (target instanceof HTMLSelectElement && target.hasAttribute("data-autosubmit") && target.form) {
      target.form.submit();
    }
  });
  function openTarget(hash) {
    var target = hash && hash.length > 1 ? document.getElementById(hash.slice(1)) : null;
    if (target instanceof HTMLDetailsElement) {
      target.open = true;
    }
  }
  document.addEventListener("click", function (event) {
    var link = event.target instanceof Element ? event.target.closest("a[href^='#']") : null;
    if (link) {
      openTarget(link.getAttribute("href"));
    }
  });
  openTarget(window.location.hash);
})();
