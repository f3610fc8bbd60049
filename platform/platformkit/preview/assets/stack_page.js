// The stack page's filter (report_html.py inlines it): a resource stays shown when its type,
// name, URN or one of its verdicts contains the text typed (case-insensitive), or when one of
// its descendants does; "only violations" keeps resources with an active violation.
(function () {
  "use strict";
  var filter = document.getElementById("filter");
  var onlyViolations = document.getElementById("only-violations");
  var status = document.getElementById("filter-status");
  var roots = Array.prototype.slice.call(document.querySelectorAll("#tree > li.resource"));
  var total = document.querySelectorAll("#tree li.resource").length;

  function childResources(item) {
    var list = item.querySelector(":scope > details > ul.children");
    return list ? Array.prototype.slice.call(list.children) : [];
  }

  function apply(item, query, violatingOnly) {
    var shown = 0;
    childResources(item).forEach(function (child) {
      shown += apply(child, query, violatingOnly);
    });
    var matches =
      (query === "" || item.dataset.search.indexOf(query) !== -1) &&
      (!violatingOnly || item.classList.contains("violating"));
    item.hidden = !matches && shown === 0;
    var details = item.querySelector(":scope > details");
    if (details && shown > 0 && (query !== "" || violatingOnly)) {
      details.open = true;
    }
    return shown + (matches ? 1 : 0);
  }

  function update() {
    var query = filter.value.trim().toLowerCase();
    var shown = 0;
    roots.forEach(function (root) {
      shown += apply(root, query, onlyViolations.checked);
    });
    status.textContent = shown + " of " + total + " resources match";
  }

  function setAll(open) {
    document.querySelectorAll("#tree details").forEach(function (details) {
      details.open = open;
    });
  }

  // A link from the summary to a resource: show it even when filtered out or collapsed.
  function reveal(id) {
    var target = document.getElementById(id);
    if (!target) {
      return;
    }
    if (target.closest("[hidden]")) {
      filter.value = "";
      onlyViolations.checked = false;
      update();
    }
    for (var node = target.parentElement; node; node = node.parentElement) {
      if (node.tagName === "DETAILS") {
        node.open = true;
      }
    }
  }

  filter.addEventListener("input", update);
  onlyViolations.addEventListener("change", update);
  document.getElementById("expand-all").addEventListener("click", function () {
    setAll(true);
  });
  document.getElementById("collapse-all").addEventListener("click", function () {
    setAll(false);
  });
  document.querySelectorAll("a.jump").forEach(function (link) {
    link.addEventListener("click", function () {
      reveal(link.getAttribute("href").slice(1));
    });
  });
  update();
})();
