// rdsca campaign report: filtering, sorting and paging of the database table, in place (no network, no library).
// The table is complete without this script (every value is in the HTML); the script only hides and reorders rows.
(function () {
  "use strict";
  var table = document.getElementById("databases");
  if (!table) { return; }
  var body = table.tBodies[0];
  var rows = Array.prototype.slice.call(body.rows);
  // The text each row is searched by, read once (5,000 rows filter in milliseconds).
  var texts = rows.map(function (r) { return r.textContent.toLowerCase(); });
  var search = document.getElementById("filter-text");
  var selects = ["state", "account", "region", "clients"].map(function (name) {
    return { name: name, el: document.getElementById("filter-" + name) };
  });
  var count = document.getElementById("count");
  var showAll = document.getElementById("show-all");
  // Rows drawn at once: the first page of matches, unless "Show all" (or printing) asks for every one.
  var page = Number(table.getAttribute("data-page")) || rows.length;
  var everything = false;

  function apply() {
    var words = search.value.toLowerCase().split(/\s+/).filter(Boolean);
    var wanted = selects.map(function (s) { return [s.name, s.el.value]; });
    var matched = 0, shown = 0;
    for (var i = 0; i < rows.length; i++) {
      var row = rows[i], ok = true;
      for (var j = 0; j < wanted.length && ok; j++) {
        if (wanted[j][1] && row.getAttribute("data-" + wanted[j][0]) !== wanted[j][1]) { ok = false; }
      }
      for (var k = 0; k < words.length && ok; k++) {
        if (texts[i].indexOf(words[k]) === -1) { ok = false; }
      }
      if (ok) { matched++; }
      var show = ok && (everything || matched <= page);
      row.hidden = !show;
      if (show) { shown++; }
    }
    var filtered = matched !== rows.length;
    count.textContent = "Showing " + shown + " of " +
      (filtered ? matched + " matching (" + rows.length + " databases)" : rows.length + " databases");
    showAll.hidden = shown === matched;
    showAll.textContent = "Show all " + matched;
  }

  search.addEventListener("input", apply);
  selects.forEach(function (s) { s.el.addEventListener("change", apply); });
  showAll.addEventListener("click", function () { everything = true; apply(); });

  // Sorting: each header is a button (keyboard: Tab to it, Enter or Space); aria-sort says the order.
  var headers = Array.prototype.slice.call(table.tHead.rows[0].cells);
  headers.forEach(function (th, column) {
    var button = th.querySelector("button");
    if (!button) { return; }
    button.addEventListener("click", function () {
      var ascending = th.getAttribute("aria-sort") !== "ascending";
      headers.forEach(function (h) { h.removeAttribute("aria-sort"); });
      th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
      var numeric = th.getAttribute("data-type") === "number";
      var keyed = rows.map(function (row, index) {
        var cell = row.cells[column];
        var key = cell.getAttribute("data-sort");
        if (key === null) { key = cell.textContent.trim(); }
        return { row: row, index: index, key: numeric ? (key === "" ? Infinity : Number(key)) : key.toLowerCase() };
      });
      keyed.sort(function (a, b) {
        var c = a.key < b.key ? -1 : a.key > b.key ? 1 : a.index - b.index;
        return ascending ? c : -c;
      });
      var fragment = document.createDocumentFragment();
      keyed.forEach(function (k) { fragment.appendChild(k.row); });
      body.appendChild(fragment);
      rows = keyed.map(function (k) { return k.row; });
      var before = texts;
      texts = keyed.map(function (k) { return before[k.index]; });
      apply();
    });
  });
  // Printed, every match and every finding shows (a closed <details> would print as its summary only).
  window.addEventListener("beforeprint", function () {
    everything = true;
    apply();
    Array.prototype.forEach.call(document.querySelectorAll("details"), function (d) { d.open = true; });
  });
  // From here the script pages the rows (hidden), so the server's first-page marks can go.
  apply();
  rows.forEach(function (r) { r.classList.remove("later"); });
})();
