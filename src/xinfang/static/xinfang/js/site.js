/* Behaviour every page shares, as a file: the Content-Security-Policy forbids inline handlers such
   as onchange="…" (issue #7 point 30).
   - <select data-autosubmit>: submit its form on change (the language menu). */
(function () {
  "use strict";
  document.addEventListener("change", function (event) {
    var target = event.target;
    if (target instanceof HTMLSelectElement && target.hasAttribute("data-autosubmit") && target.form) {
      target.form.submit();
    }
  });
})();
