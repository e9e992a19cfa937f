/* Tables a phone can show: every data cell is labelled with its column's heading.
 *
 * On phones and tablets review.css lays a wide table out as stacked cards, one row per card,
 * each value under its heading (td::before { content: attr(data-label) }), so no column hides
 * behind a sideways scroll. The headings are only in the <thead>, so this copies each heading
 * onto the cells of its column as data-label, and marks the table data-review-cards when it
 * has four or more columns (fewer fit as they are) and data-review-dense from ten columns.
 * It works on every table of every page, so a new table needs nothing of its own. Headings
 * reach the attribute as text (textContent), never as markup.
 *
 * Done in the browser, not in the build, so that the exported Markdown (make export) built by
 * plain MkDocs gives the same pages. Without JavaScript, review.css keeps Material's
 * sideways-scrolling table instead.
 */
(function () {
  "use strict";

  var CARD_COLUMNS = 4;
  var DENSE_COLUMNS = 10;

  function label(table) {
    if (table.getAttribute("data-review-labelled") === "true" || !table.tHead) {
      return;
    }
    var headings = Array.prototype.map.call(
      table.tHead.querySelectorAll("th"),
      function (th) {
        return th.textContent.replace(/\s+/g, " ").trim();
      }
    );
    Array.prototype.forEach.call(table.tBodies, function (body) {
      Array.prototype.forEach.call(body.rows, function (row) {
        Array.prototype.forEach.call(row.cells, function (cell, index) {
          if (!cell.hasAttribute("data-label") && headings[index]) {
            cell.setAttribute("data-label", headings[index]);
          }
        });
      });
    });
    if (headings.length >= CARD_COLUMNS) {
      table.setAttribute("data-review-cards", "");
    }
    if (headings.length >= DENSE_COLUMNS) {
      table.setAttribute("data-review-dense", "");
    }
    table.setAttribute("data-review-labelled", "true");
  }

  function init() {
    Array.prototype.forEach.call(document.querySelectorAll("article table"), label);
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
