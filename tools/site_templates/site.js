/* The course site's script, on every lesson page and slide deck. On the pages it folds each
   exercise's solution cells under "Solution". Everywhere it makes the widgets' sliders usable
   without sight. Once the widgets' HTML manager has drawn them (and whenever they change)
   it names each slider handle after its label ("learning rate") and gives it the readout
   ("0.1") as its value text, gives each plot an alt text from the readout it goes with, and
   puts a live region (role "status") after each explorer that announces the new readout when
   the slider moves. No kernel, no outside requests: it only reads what the saved state drew. */
(function () {
  "use strict";

  function text(element) {
    return element ? element.textContent.replace(/\s+/g, " ").trim() : "";
  }

  function setAttribute(element, name, value) {
    if (value && element.getAttribute(name) !== value) element.setAttribute(name, value);
  }

  function nameSliders() {
    document.querySelectorAll(".widget-slider").forEach(function (row) {
      var handle = row.querySelector(".noUi-handle[role=slider]");
      if (!handle) return;
      setAttribute(handle, "aria-label", text(row.querySelector(".widget-label")) || "slider");
      setAttribute(handle, "aria-valuetext", text(row.querySelector(".widget-readout")));
    });
  }

  function announce() {
    document.querySelectorAll(".widget-vbox").forEach(function (box) {
      if (box.parentElement.closest(".widget-vbox") || !box.querySelector(".noUi-handle")) return;
      var readout = text(box.querySelector(".widget-html-content"));
      box.querySelectorAll("img.widget-image").forEach(function (image) {
        setAttribute(image, "alt", readout ? "Plot of the saved run: " + readout : "Plot of the saved run");
      });
      var live = box.nextElementSibling;
      if (!live || !live.classList.contains("site-live")) {
        live = document.createElement("div");
        live.className = "site-live";
        live.setAttribute("role", "status");
        live.setAttribute("aria-live", "polite");
        box.after(live);
        box.dataset.siteReadout = readout;   // the first readout is on screen already: say nothing
      }
      if (readout && box.dataset.siteReadout !== readout) {
        box.dataset.siteReadout = readout;
        live.textContent = readout;
      }
    });
  }

  // on the pages, each run of solution cells (tagged "solution") folds under "Solution"
  function foldSolutions() {
    if (document.body.classList.contains("site-slides")) return;  // there, fragments hide them
    document.querySelectorAll(".jp-Cell").forEach(function (cell) {
      if (!cell.matches(".celltag_solution") && !cell.querySelector(".celltag_solution")) return;
      var fold = cell.previousElementSibling;
      if (!fold || !fold.classList.contains("site-solution")) {
        fold = document.createElement("details");
        fold.className = "site-solution";
        fold.appendChild(document.createElement("summary")).textContent = "Solution";
        cell.before(fold);
      }
      fold.appendChild(cell);
    });
  }

  var pending = false;
  function update() {
    pending = false;
    nameSliders();
    announce();
  }

  function schedule() {
    if (!pending) {
      pending = true;
      setTimeout(update, 0);
    }
  }

  document.addEventListener("DOMContentLoaded", function () {
    foldSolutions();
    new MutationObserver(schedule).observe(document.body, {
      childList: true, subtree: true, characterData: true, attributes: true,
      attributeFilter: ["src", "aria-valuenow"]
    });
    schedule();
  });
}());
