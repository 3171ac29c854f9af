// Registration form: reveal representative rows, and look up earlier petitions of the petitioner
// as soon as an ID or phone number is typed, so the clerk decides on "repeat" before saving.
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
  function text(tag, value) { var el = document.createElement(tag); el.textContent = value; return el; }
  function lookup(row) {
    var get = function (suffix) {
      var input = row.querySelector("input[name$='-" + suffix + "']");
      return input ? input.value.trim() : "";
    };
    var params = new URLSearchParams({ name: get("name"), id_number: get("id_number"), phone: get("phone") });
    if (!params.get("id_number") && !(params.get("phone") && params.get("name"))) { return; }
    fetch(form.dataset.repeatsUrl + "?" + params.toString(), { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : { results: [] }; })
      .then(function (data) {
        if (!data.results.length) { return; }
        list.textContent = "";
        data.results.forEach(function (p) {
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
          list.appendChild(li);
        });
        var none = box.querySelector("input[value='']");
        if (none) { none.checked = true; }
        box.classList.remove("hidden");
      });
  }
  rows.forEach(function (row) {
    row.querySelectorAll(".js-repeat-key").forEach(function (input) {
      input.addEventListener("change", function () { lookup(row); });
    });
  });
})();
