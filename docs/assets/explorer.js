/* Study explorer (explorer.md): filters, free-text search and sortable columns.
 *
 * Written by hand, without libraries, so that it works offline. Without JavaScript the page
 * shows the full table and the filter form stays hidden; this script reveals the form. The
 * state lives in the query string (?condition=ptsd&text=feder&sort=year&dir=desc), updated with
 * history.replaceState and restored on load, so a link shows the same rows. The DOM ids it
 * uses are documented in hooks/livingreview/explorer.py.
 */
(function () {
  "use strict";

  var FILTERS = ["condition", "design", "route", "comparator", "year"];
  var DEFAULT_SORT = { key: "year", dir: "ascending" };

  // Lower case without accents, so that "asberg" finds "Åsberg".
  function fold(text) {
    var lower = String(text || "").toLowerCase();
    return lower.normalize ? lower.normalize("NFD").replace(/[\u0300-\u036f]/g, "") : lower;
  }

  function init() {
    var root = document.getElementById("explorer");
    // Run once per page, whether started by DOMContentLoaded or by Material's document$.
    if (!root || root.getAttribute("data-ready") === "true") {
      return;
    }
    root.setAttribute("data-ready", "true");

    var form = document.getElementById("explorer-filters");
    var table = document.getElementById("explorer-table");
    var count = document.getElementById("explorer-count");
    var empty = document.getElementById("explorer-empty");
    var search = document.getElementById("explorer-filter-q");
    var resets = ["explorer-reset", "explorer-reset-empty"]
      .map(function (id) {
        return document.getElementById(id);
      })
      .filter(Boolean);
    var tbody = table.tBodies[0];
    var rows = Array.prototype.slice.call(tbody.querySelectorAll("tr[data-study]"));
    var headers = Array.prototype.slice.call(table.querySelectorAll("th[data-sort-key]"));
    var selects = {};
    var haystacks = rows.map(function (row) {
      return fold(row.textContent + " " + (row.getAttribute("data-search") || ""));
    });
    var sort = { key: DEFAULT_SORT.key, dir: DEFAULT_SORT.dir };

    FILTERS.forEach(function (name) {
      selects[name] = document.getElementById("explorer-filter-" + name);
    });

    function matches(row, index) {
      for (var i = 0; i < FILTERS.length; i++) {
        var name = FILTERS[i];
        var wanted = selects[name] ? selects[name].value : "";
        if (!wanted) {
          continue;
        }
        var have = row.getAttribute("data-" + name) || "";
        if (name === "route" ? have.split(" ").indexOf(wanted) < 0 : have !== wanted) {
          return false;
        }
      }
      var words = fold(search.value).split(/\s+/).filter(Boolean);
      return words.every(function (word) {
        return haystacks[index].indexOf(word) >= 0;
      });
    }

    function sortValue(row, key) {
      var cell = row.querySelector('td[data-col="' + key + '"]');
      if (!cell) {
        return "";
      }
      var value = cell.getAttribute("data-sort-value");
      return value !== null ? value : fold(cell.textContent.trim());
    }

    function sortRows() {
      var header = null;
      headers.forEach(function (th) {
        if (th.getAttribute("data-sort-key") === sort.key) {
          header = th;
        }
      });
      var numeric = header && header.getAttribute("data-sort-type") === "number";
      var sign = sort.dir === "descending" ? -1 : 1;
      var ordered = rows.slice();
      if (header) {
        ordered.sort(function (a, b) {
          var x = sortValue(a, sort.key);
          var y = sortValue(b, sort.key);
          // Missing values (a review without n) go last in either direction.
          if (x === "" || y === "") {
            return x === y ? rows.indexOf(a) - rows.indexOf(b) : x === "" ? 1 : -1;
          }
          var order = numeric ? parseFloat(x) - parseFloat(y) : x.localeCompare(y);
          // Ties keep the page's order (year, then id), so sorting is stable.
          return order !== 0 ? sign * order : rows.indexOf(a) - rows.indexOf(b);
        });
      }
      ordered.forEach(function (row) {
        tbody.appendChild(row);
      });
      headers.forEach(function (th) {
        var icon = th.querySelector(".review-explorer__sort-icon");
        if (th === header) {
          th.setAttribute("aria-sort", sort.dir);
          if (icon) {
            icon.textContent = sort.dir === "descending" ? " ▼" : " ▲";
          }
        } else {
          th.removeAttribute("aria-sort");
          if (icon) {
            icon.textContent = "";
          }
        }
      });
    }

    function apply() {
      var shown = 0;
      rows.forEach(function (row, index) {
        var ok = matches(row, index);
        row.hidden = !ok;
        // An inline style as well: a theme rule setting display on rows would beat [hidden].
        row.style.display = ok ? "" : "none";
        if (ok) {
          shown += 1;
        }
      });
      var noun = rows.length === 1 ? "study" : "studies";
      count.textContent = "Showing " + shown + " of " + rows.length + " " + noun;
      empty.hidden = shown !== 0;
      sortRows();
    }

    function save() {
      var params = new URLSearchParams(window.location.search);
      FILTERS.forEach(function (name) {
        var value = selects[name] ? selects[name].value : "";
        if (value) {
          params.set(name, value);
        } else {
          params.delete(name);
        }
      });
      var query = search.value.trim();
      if (query) {
        params.set("text", query);
      } else {
        params.delete("text");
      }
      if (sort.key === DEFAULT_SORT.key && sort.dir === DEFAULT_SORT.dir) {
        params.delete("sort");
        params.delete("dir");
      } else {
        params.set("sort", sort.key);
        params.set("dir", sort.dir === "descending" ? "desc" : "asc");
      }
      var text = params.toString();
      var url = window.location.pathname + (text ? "?" + text : "") + window.location.hash;
      try {
        window.history.replaceState(window.history.state, "", url);
      } catch (error) {
        // Some browsers refuse replaceState on file:// pages; filtering still works.
      }
    }

    function restore() {
      var params = new URLSearchParams(window.location.search);
      FILTERS.forEach(function (name) {
        var value = params.get(name);
        var select = selects[name];
        if (select && value !== null) {
          var known = Array.prototype.some.call(select.options, function (option) {
            return option.value === value;
          });
          select.value = known ? value : "";
        }
      });
      search.value = params.get("text") || "";
      var key = params.get("sort");
      var valid = headers.some(function (th) {
        return th.getAttribute("data-sort-key") === key;
      });
      if (key && valid) {
        sort.key = key;
        sort.dir = params.get("dir") === "desc" ? "descending" : "ascending";
      }
    }

    headers.forEach(function (th) {
      var button = document.createElement("button");
      button.type = "button";
      button.className = "review-explorer__sort";
      // Styled by review.css: looks like the header text, 44 px tall, keeps the focus outline.
      while (th.firstChild) {
        button.appendChild(th.firstChild);
      }
      var icon = document.createElement("span");
      icon.className = "review-explorer__sort-icon";
      icon.setAttribute("aria-hidden", "true");
      button.appendChild(icon);
      th.appendChild(button);
      button.addEventListener("click", function () {
        var key = th.getAttribute("data-sort-key");
        var dir = sort.key === key && sort.dir === "ascending" ? "descending" : "ascending";
        sort = { key: key, dir: dir };
        apply();
        save();
      });
    });

    form.addEventListener("submit", function (event) {
      event.preventDefault();
    });
    form.addEventListener("input", function () {
      apply();
      save();
    });
    form.addEventListener("change", function () {
      apply();
      save();
    });
    function clear() {
      FILTERS.forEach(function (name) {
        if (selects[name]) {
          selects[name].value = "";
        }
      });
      search.value = "";
      sort = { key: DEFAULT_SORT.key, dir: DEFAULT_SORT.dir };
      apply();
      save();
    }
    resets.forEach(function (button) {
      button.addEventListener("click", function () {
        clear();
        // The empty-result button disappears with the message: keep the focus in the form.
        if (button.id === "explorer-reset-empty") {
          search.focus();
        }
      });
    });

    restore();
    form.hidden = false;
    apply();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
  // With Material's instant navigation, pages load without a new DOMContentLoaded.
  if (window.document$ && typeof window.document$.subscribe === "function") {
    window.document$.subscribe(init);
  }
})();
