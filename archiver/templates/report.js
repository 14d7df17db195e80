(function () {
  "use strict";
  var table = document.getElementById("links");
  if (!table) { return; }
  var tbody = table.tBodies[0];
  var status = document.getElementById("f-status");
  var query = document.getElementById("f-text");
  var count = document.getElementById("f-count");
  var records = [];
  var i;
  for (i = 0; i < tbody.rows.length; i++) {
    records.push({ el: tbody.rows[i], s: tbody.rows[i].getAttribute("data-s"), text: null, keys: {} });
  }
  var total = records.length;
  var byIndex = records.slice();  // the server's order, which the events' data refers to

  function matches(rec, s, q) {
    if (s === "failing") {
      if (rec.s !== "dead" && rec.s !== "soft_404") { return false; }
    } else if (s && rec.s !== s) {
      return false;
    }
    if (q) {
      if (rec.text === null) { rec.text = rec.el.textContent.toLowerCase(); }
      if (rec.text.indexOf(q) < 0) { return false; }
    }
    return true;
  }

  function writeHash(s, q) {
    var parts = [];
    if (s) { parts.push("status=" + encodeURIComponent(s)); }
    if (q) { parts.push("q=" + encodeURIComponent(q)); }
    var hash = parts.length ? "#" + parts.join("&") : "";
    if (hash !== location.hash && (hash || location.hash.indexOf("=") >= 0)) {
      try { history.replaceState(null, "", hash || location.pathname + location.search); } catch (e) { /* file: */ }
    }
  }

  function apply(fromHash) {
    var s = status.value;
    var q = query.value.trim().toLowerCase();
    var shown = 0;
    for (var k = 0; k < records.length; k++) {
      var rec = records[k];
      var ok = matches(rec, s, q);
      if (ok) { shown++; }
      if (rec.el.hidden === ok) { rec.el.hidden = !ok; }
    }
    count.textContent = shown === total ? "all " + total.toLocaleString("en") + " links"
      : shown.toLocaleString("en") + " of " + total.toLocaleString("en") + " links";
    table.setAttribute("data-shown", String(shown));
    table.setAttribute("data-filter", s);
    if (!fromHash) { writeHash(s, query.value.trim()); }
  }

  var timer = null;
  status.addEventListener("change", function () { apply(false); });
  query.addEventListener("input", function () {
    if (timer) { clearTimeout(timer); }
    timer = setTimeout(function () { apply(false); }, 120);
  });

  function key(rec, col) {
    if (!(col in rec.keys)) {
      var cell = rec.el.cells[col];
      var v = cell ? (cell.getAttribute("data-v") || cell.textContent.trim().toLowerCase()) : "";
      rec.keys[col] = v;
    }
    return rec.keys[col];
  }

  var heads = table.tHead.rows[0].cells;
  function sortBy(col, th) {
    var dir = th.getAttribute("aria-sort") === "ascending" ? -1 : 1;
    for (var h = 0; h < heads.length; h++) { heads[h].removeAttribute("aria-sort"); }
    th.setAttribute("aria-sort", dir === 1 ? "ascending" : "descending");
    var numeric = th.getAttribute("data-type") === "num";
    records.sort(function (a, b) {
      var x = key(a, col), y = key(b, col);
      if (numeric) { x = parseFloat(x) || 0; y = parseFloat(y) || 0; }
      if (x === y) { return 0; }
      if (x === "") { return 1; }
      if (y === "") { return -1; }
      return (x < y ? -1 : 1) * dir;
    });
    var frag = document.createDocumentFragment();
    for (var k = 0; k < records.length; k++) { frag.appendChild(records[k].el); }
    tbody.appendChild(frag);
  }
  Array.prototype.forEach.call(heads, function (th, col) {
    if (!th.classList.contains("sortable")) { return; }
    th.tabIndex = 0;
    th.addEventListener("click", function () { sortBy(col, th); });
    th.addEventListener("keydown", function (e) { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); sortBy(col, th); } });
  });

  function openTarget() {
    var hash = location.hash.replace(/^#/, "");
    if (!hash || hash.indexOf("=") >= 0) { return; }
    var target = document.getElementById(decodeURIComponent(hash));
    if (target && target.tagName === "DETAILS") {
      target.hidden = false;
      target.open = true;
      target.scrollIntoView();
    }
  }

  function fromHash() {
    var hash = location.hash.replace(/^#/, "");
    if (hash.indexOf("=") < 0) { return false; }
    hash.split("&").forEach(function (part) {
      var kv = part.split("=");
      var v = decodeURIComponent(kv[1] || "");
      if (kv[0] === "status") { status.value = v; }
      if (kv[0] === "q") { query.value = v; }
    });
    return true;
  }
  window.addEventListener("hashchange", function () { if (fromHash()) { apply(true); } else { openTarget(); } });
  fromHash();
  apply(true);

  // ---------------------------------------------------------------- events and findings, rendered on opening
  var dataEl = document.getElementById("report-data");
  var data = dataEl ? JSON.parse(dataEl.textContent) : { events: {}, findings: {} };

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) { e.className = cls; }
    if (text !== undefined && text !== null) { e.textContent = String(text); }
    return e;
  }
  // SOURCE: [row of the links table, title, publisher, date, source index, line]
  function renderSource(s) {
    var row = byIndex[s[0]].el;
    var cells = row.cells;
    var li = el("li");
    li.appendChild(cells[0].firstChild.cloneNode(true));
    li.appendChild(document.createTextNode(" "));
    var title = el("span", "src-title");
    var a = cells[1].firstChild.cloneNode(true);
    if (s[1]) { a.textContent = s[1]; }
    title.appendChild(a);
    li.appendChild(title);
    [s[2], s[3]].forEach(function (v) { if (v) { li.appendChild(el("span", "muted", " · " + v)); } });
    li.appendChild(el("br"));
    var small = el("span", "small");
    var why = cells[4].textContent;
    small.appendChild(el("span", "muted", "source " + s[4] + ", line " + (s[5] === null ? "?" : s[5]) +
      (why ? " · " + why : "")));
    if (cells[7].firstChild) {
      var copy = cells[7].firstChild.cloneNode(true);
      copy.textContent = copy.classList.contains("muted") ? "no archived copy known: search the Wayback Machine"
        : (copy.textContent === "Wayback" ? "Wayback copy" : "archive copy cited");
      small.appendChild(document.createTextNode(" · "));
      small.appendChild(copy);
    }
    if (cells[8].firstChild) {
      small.appendChild(document.createTextNode(" · archived text: "));
      small.appendChild(cells[8].firstChild.cloneNode(true));
    }
    if (s[1]) { small.appendChild(el("span", "muted", " · " + cells[1].textContent)); }
    li.appendChild(small);
    return li;
  }
  function fillEvent(d) {
    if (d.getAttribute("data-filled")) { return; }
    d.setAttribute("data-filled", "1");
    var ul = el("ul");
    (data.events[d.id] || []).forEach(function (s) { ul.appendChild(renderSource(s)); });
    d.appendChild(ul);
  }
  function fillFindings(d) {
    if (d.getAttribute("data-filled")) { return; }
    d.setAttribute("data-filled", "1");
    var tbody = d.querySelector("tbody");
    var frag = document.createDocumentFragment();
    (data.findings[d.getAttribute("data-key")] || []).forEach(function (f) {
      var tr = el("tr");
      var td = el("td");
      td.appendChild(el("code", "", f[0]));
      tr.appendChild(td);
      tr.appendChild(el("td", "", f[1]));
      td = el("td");
      if (f[2]) { td.appendChild(el("code", "", f[2])); }
      tr.appendChild(td);
      frag.appendChild(tr);
    });
    tbody.appendChild(frag);
  }
  var events = Array.prototype.slice.call(document.querySelectorAll("details.event"));
  events.forEach(function (d) { d.addEventListener("toggle", function () { if (d.open) { fillEvent(d); } }); });
  Array.prototype.forEach.call(document.querySelectorAll("details.kind"), function (d) {
    d.addEventListener("toggle", function () { if (d.open) { fillFindings(d); } });
  });
  openTarget();

  var onlyBad = document.getElementById("f-events-bad");
  var eventQuery = document.getElementById("f-events-text");
  var eventTexts = null;
  function eventText(d) {
    var parts = [d.querySelector("summary").textContent];
    (data.events[d.id] || []).forEach(function (s) {
      parts.push(s[1] || "", s[2] || "", byIndex[s[0]].el.cells[1].textContent, byIndex[s[0]].el.cells[4].textContent);
    });
    return parts.join(" ").toLowerCase();
  }
  function applyEvents() {
    var bad = onlyBad.checked;
    var q = eventQuery.value.trim().toLowerCase();
    if (q && !eventTexts) { eventTexts = events.map(eventText); }
    var shown = 0;
    for (var k = 0; k < events.length; k++) {
      var ok = (!bad || events[k].getAttribute("data-bad") === "1") && (!q || eventTexts[k].indexOf(q) >= 0);
      if (ok) { shown++; }
      if (events[k].hidden === ok) { events[k].hidden = !ok; }
    }
    document.getElementById("f-events-count").textContent = shown.toLocaleString("en") + " of " +
      events.length.toLocaleString("en") + " events";
  }
  if (onlyBad && eventQuery) {
    onlyBad.addEventListener("change", applyEvents);
    var eventTimer = null;
    eventQuery.addEventListener("input", function () {
      if (eventTimer) { clearTimeout(eventTimer); }
      eventTimer = setTimeout(applyEvents, 120);
    });
    applyEvents();
  }
})();
(function () {
  "use strict";
  // Events losing their evidence: filter by health and by title or file (without script, the full list shows)
  var box = document.getElementById("health-filters");
  var list = document.getElementById("health-list");
  if (!box || !list) { return; }
  var health = document.getElementById("f-health");
  var text = document.getElementById("f-health-text");
  var count = document.getElementById("f-health-count");
  var items = Array.prototype.slice.call(list.querySelectorAll("article.hev"));
  function apply() {
    var h = health.value;
    var q = text.value.trim().toLowerCase();
    var shown = 0;
    items.forEach(function (a) {
      var ok = (!h || (h === "newly" ? a.getAttribute("data-newly") === "1" : a.getAttribute("data-h") === h)) &&
        (!q || a.getAttribute("data-q").indexOf(q) >= 0);
      if (ok) { shown++; }
      a.hidden = !ok;
    });
    count.textContent = shown + " of " + items.length + " events";
    var still = document.getElementById("health-still");
    if (still && (h || q)) { still.open = true; }
  }
  health.addEventListener("change", apply);
  text.addEventListener("input", apply);
  box.hidden = false;
  apply();
})();
