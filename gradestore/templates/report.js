// Sorting and filtering of the page's tables; nothing else, nothing fetched.
(function () {
  "use strict";
  function key(cell) {
    var value = cell.getAttribute("data-v");
    if (value !== null && value !== "" && value !== "true" && value !== "false" && !isNaN(Number(value))) {
      return Number(value);
    }
    var text = cell.textContent.trim();
    if (text !== "" && !isNaN(Number(text))) { return Number(text); }
    return text.toLowerCase();
  }
  function compare(a, b) {
    if (typeof a === typeof b) { return a < b ? -1 : a > b ? 1 : 0; }
    return typeof a === "number" ? -1 : 1; // numbers before text ("-", reasons)
  }
  function sortable(table) {
    var heads = table.tHead.rows[0].cells;
    Array.prototype.forEach.call(heads, function (head, index) {
      var button = document.createElement("button");
      button.type = "button";
      button.textContent = head.textContent;
      head.textContent = "";
      head.appendChild(button);
      button.addEventListener("click", function () {
        var ascending = head.getAttribute("aria-sort") !== "ascending";
        Array.prototype.forEach.call(heads, function (other) { other.removeAttribute("aria-sort"); });
        head.setAttribute("aria-sort", ascending ? "ascending" : "descending");
        var body = table.tBodies[0];
        var rows = Array.prototype.slice.call(body.rows);
        rows.sort(function (a, b) {
          var order = compare(key(a.cells[index]), key(b.cells[index]));
          return ascending ? order : -order;
        });
        rows.forEach(function (row) { body.appendChild(row); });
      });
    });
  }
  function filter(input) {
    var id = input.getAttribute("data-filter");
    var table = document.getElementById(id);
    var counter = document.getElementById(id + "-shown");
    input.addEventListener("input", function () {
      var words = input.value.trim().toLowerCase();
      var shown = 0;
      Array.prototype.forEach.call(table.tBodies[0].rows, function (row) {
        var hit = row.textContent.toLowerCase().indexOf(words) !== -1;
        row.hidden = !hit;
        if (hit) { shown += 1; }
      });
      if (counter) { counter.textContent = String(shown); }
    });
  }
  document.querySelectorAll("table.sortable").forEach(sortable);
  document.querySelectorAll("input[data-filter]").forEach(filter);
  window.addEventListener("beforeprint", function () {
    document.querySelectorAll("details").forEach(function (details) { details.open = true; });
  });
})();
