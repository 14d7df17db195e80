(function () {
  "use strict";
  // The index's events: filter by health, sort by date (as served) or by health, worst first.
  // Without script the controls stay hidden and the table is the full list by date.
  var table = document.getElementById("events");
  var box = document.getElementById("index-filters");
  if (!table || !box) { return; }
  var tbody = table.tBodies[0];
  var rows = Array.prototype.slice.call(tbody.rows);
  var health = document.getElementById("f-health");
  var sort = document.getElementById("f-sort");
  var count = document.getElementById("f-count");
  function num(r, k) { return parseInt(r.getAttribute(k), 10) || 0; }
  function apply() {
    var h = health.value;
    var shown = 0;
    var ordered = rows.slice();
    if (sort.value === "health") {
      ordered.sort(function (a, b) { return (num(a, "data-rank") - num(b, "data-rank")) || (num(a, "data-n") - num(b, "data-n")); });
    }
    var frag = document.createDocumentFragment();
    ordered.forEach(function (r) {
      var ok = !h || r.getAttribute("data-health") === h;
      r.hidden = !ok;
      if (ok) { shown++; }
      frag.appendChild(r);
    });
    tbody.appendChild(frag);
    count.textContent = shown + " of " + rows.length + " events";
  }
  health.addEventListener("change", apply);
  sort.addEventListener("change", apply);
  box.hidden = false;
  apply();
})();
