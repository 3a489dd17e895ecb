// hopbudget report: interaction only (the page is complete without it):
// sort tables by a column, fold waterfall subtrees, show only the
// critical path.
(function () {
  "use strict";
  function key(td) {
    var v = td.getAttribute("data-v");
    if (v !== null) return parseFloat(v);
    var t = td.textContent.trim();
    var n = parseFloat(t);
    return isNaN(n) || !/^[-+]?\d/.test(t) ? t.toLowerCase() : n;
  }
  function sortBy(th) {
    var table = th.closest("table"), body = table.tBodies[0];
    var i = Array.prototype.indexOf.call(th.parentNode.children, th);
    var asc = th.getAttribute("aria-sort") !== "ascending";
    table.querySelectorAll("thead th").forEach(function (h) { h.removeAttribute("aria-sort"); });
    th.setAttribute("aria-sort", asc ? "ascending" : "descending");
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (a, b) {
      var x = key(a.cells[i]), y = key(b.cells[i]);
      if (typeof x !== typeof y) { x = String(x); y = String(y); }
      return (x < y ? -1 : x > y ? 1 : 0) * (asc ? 1 : -1);
    });
    rows.forEach(function (r) { body.appendChild(r); });
  }
  document.querySelectorAll("table.sort thead th").forEach(function (th) {
    th.tabIndex = 0;
    th.addEventListener("click", function () { sortBy(th); });
    th.addEventListener("keydown", function (e) { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); sortBy(th); } });
  });

  // Fold or unfold the rows below a span (deeper rows that follow it);
  // unfolding keeps the subtrees that are folded themselves.
  function fold(btn) {
    var tr = btn.closest("tr"), d = +tr.getAttribute("data-d");
    var open = btn.getAttribute("aria-expanded") === "true";
    btn.setAttribute("aria-expanded", open ? "false" : "true");
    btn.setAttribute("aria-label", open ? "unfold" : "fold");
    btn.textContent = open ? "▸" : "▾";
    var skip = -1;
    for (var r = tr.nextElementSibling; r && +r.getAttribute("data-d") > d; r = r.nextElementSibling) {
      var rd = +r.getAttribute("data-d");
      if (open) { r.hidden = true; continue; }
      if (skip >= 0 && rd > skip) continue;
      skip = -1;
      r.hidden = false;
      var b = r.querySelector("button.tg");
      if (b && b.getAttribute("aria-expanded") === "false") skip = rd;
    }
  }
  document.querySelectorAll("table.wf").forEach(function (t) {
    t.addEventListener("click", function (e) {
      var b = e.target.closest("button.tg");
      if (b) fold(b);
    });
  });
  document.querySelectorAll("button.cponly").forEach(function (b) {
    b.addEventListener("click", function () {
      var t = b.closest("details").querySelector("table.wf");
      var on = t.classList.toggle("cponly");
      b.setAttribute("aria-pressed", on ? "true" : "false");
    });
  });
  document.documentElement.setAttribute("data-ready", "1");
})();
