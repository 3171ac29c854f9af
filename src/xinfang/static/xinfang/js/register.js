// Registration form: reveal representative rows, and look up earlier petitions of the petitioner
// as soon as an ID or phone number is typed, so the clerk decides on "repeat" before saving.
// Every earlier petition can be seen ("more", 20 at a time), and a choice the clerk made survives
// a new look-up as long as the petition is still this person's; otherwise the clerk is told.
(function () {
  "use strict";
  var form = document.getElementById("register-form");
  if (!form) { return; }
  var rows = Array.prototype.slice.call(form.querySelectorAll(".petitioner-row"));
  rows.forEach(function (row) { if (row.dataset.empty) { row.classList.add("hidden"); } });
  var addButton = document.getElementById("add-representative");
  addButton.addEventListener("click", function () {
    var next = rows.find(function (row) { return row.classList.contains("hidden"); });
    if (next) { next.classList.remove("hidden"); }
    if (!rows.some(function (row) { return row.classList.contains("hidden"); })) { addButton.disabled = true; }
  });

  var box = document.getElementById("repeat-box");
  var list = document.getElementById("repeat-list");
  var more = document.getElementById("repeat-more");
  var dropped = document.getElementById("repeat-dropped");
  var count = document.getElementById("repeat-count");
  // Only the answer to the latest look-up is shown: typing fast sends several, and an older answer
  // arriving last must not replace the newer one.
  var latest = 0;
  var current = null; // { params, page } of the list shown, for "more"

  function text(tag, value) { var el = document.createElement(tag); el.textContent = value; return el; }
  function chosenNumber() {
    var checked = box.querySelector("input[name=repeat_choice]:checked");
    return checked ? checked.value : "";
  }
  function hasItem(number) {
    return Array.prototype.some.call(list.querySelectorAll("input[name=repeat_choice]"),
      function (radio) { return radio.value === number; });
  }
  function item(p) {
    var li = document.createElement("li");
    var label = document.createElement("label");
    var radio = document.createElement("input");
    radio.type = "radio"; radio.name = "repeat_choice"; radio.value = p.number;
    label.appendChild(radio);
    label.appendChild(text("span", " " + [p.number, p.title, p.received_on, p.status, p.office].join(" · ")));
    // Concluded, or in handling within its time limit: the same matter is not taken again.
    if (p.standing) {
      var note = text("strong", " " + p.standing_note);
      note.className = "repeat-standing " + p.standing;
      label.appendChild(note);
    }
    li.appendChild(label);
    return li;
  }
  function showMore(data) {
    more.classList.toggle("hidden", !data.has_next);
    count.textContent = data.count ? count.dataset.template.replace("{n}", data.count) : "";
  }
  function fetchPage(params, page) {
    var query = new URLSearchParams(params);
    query.set("page", page);
    return fetch(form.dataset.repeatsUrl + "?" + query.toString(), { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : null; });
  }
  function lookup(row) {
    var get = function (suffix) {
      var input = row.querySelector("input[name$='-" + suffix + "']");
      return input ? input.value.trim() : "";
    };
    var params = { name: get("name"), id_number: get("id_number"), phone: get("phone") };
    if (!params.id_number && !(params.phone && params.name)) { return; }
    // Issue #7 point 32: the clerk's choice is sent along; the answer says whether it is still
    // one of this person's petitions (on any page).
    var chosen = chosenNumber();
    if (chosen) { params.chosen = chosen; }
    var ticket = ++latest;
    fetchPage(params, 1).then(function (data) {
      if (!data || ticket !== latest) { return; }
      current = { params: params, page: 1 };
      list.textContent = "";
      data.results.forEach(function (p) { list.appendChild(item(p)); });
      var none = box.querySelector("input[name=repeat_choice][value='']");
      dropped.classList.add("hidden");
      if (chosen && data.chosen) {
        // still this person's: keep it chosen (listed first if it is on a later page)
        if (!hasItem(chosen)) { list.insertBefore(item(data.chosen), list.firstChild); }
        list.querySelector("input[value='" + CSS.escape(chosen) + "']").checked = true;
      } else {
        if (none) { none.checked = true; }
        if (chosen) {
          dropped.textContent = dropped.dataset.template.replace("{number}", chosen);
          dropped.classList.remove("hidden");
        }
      }
      showMore(data);
      box.classList.toggle("hidden", !data.results.length && dropped.classList.contains("hidden"));
    });
  }
  more.addEventListener("click", function () {
    if (!current) { return; }
    var ticket = latest;
    fetchPage(current.params, current.page + 1).then(function (data) {
      if (!data || ticket !== latest) { return; }
      current.page = data.page;
      data.results.forEach(function (p) { if (!hasItem(p.number)) { list.appendChild(item(p)); } });
      showMore(data);
    });
  });
  rows.forEach(function (row) {
    row.querySelectorAll(".js-repeat-key").forEach(function (input) {
      input.addEventListener("change", function () { lookup(row); });
    });
  });
  // The page came back with candidates (after a submission): the look-up takes over the list, so
  // that the count and "more" work there too.
  if (!box.classList.contains("hidden") && list.children.length) { lookup(rows[0]); }
})();
