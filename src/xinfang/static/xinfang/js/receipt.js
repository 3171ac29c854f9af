/* Print and copy buttons for a query code shown once (the clerk's receipt, the portal's page after
   submission).  A file, not inline handlers: the Content-Security-Policy forbids those.
   - <button data-print>: print the page.
   - <button data-copy="element-id">: copy that element's text; the button says 已复制 for a moment. */
(function () {
  "use strict";
  function copyText(text, button) {
    var done = function () {
      var label = button.textContent;
      button.textContent = button.getAttribute("data-copied") || "已复制";
      window.setTimeout(function () { button.textContent = label; }, 2000);
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(done, function () { fallback(text); done(); });
    } else {
      fallback(text);
      done();
    }
  }
  function fallback(text) {
    // Plain HTTP (a county's intranet): the Clipboard API needs a secure context.
    var area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    // CSSOM, not a style attribute: the policy allows scripts from this site to set styles.
    area.style.position = "fixed";
    area.style.left = "-9999px";
    document.body.appendChild(area);
    area.select();
    try { document.execCommand("copy"); } catch (e) { /* the text stays selected for Ctrl+C */ }
    document.body.removeChild(area);
  }
  document.addEventListener("click", function (event) {
    var button = event.target instanceof Element ? event.target.closest("[data-print], [data-copy]") : null;
    if (!button) {
      return;
    }
    if (button.hasAttribute("data-print")) {
      event.preventDefault();
      window.print();
      return;
    }
    var source = document.getElementById(button.getAttribute("data-copy"));
    if (source) {
      event.preventDefault();
      copyText(source.textContent.trim(), button);
    }
  });
})();
