/* The book's own small script (listed in _config.yml: html_js_files). No network, works
   from file://. It
   1. lets every figure and explorer frame open at full size: a tap or click (or Enter /
      Space, the image sits in a button) shows it in a dialog, Escape or a tap closes it.
      A figure with a phone variant (a <picture>) opens as drawn for the desktop, the
      larger drawing, whichever of the two the page shows;
   2. makes a display equation wider than the column scroll inside its own box (the page
      never scrolls sideways) and, only then, reachable by keyboard to scroll it. */
(function () {
  "use strict";

  function ready(fn) {
    if (document.readyState !== "loading") fn();
    else document.addEventListener("DOMContentLoaded", fn);
  }

  // ---------------------------------------------------------------- full-size figures
  var dialog = null;

  function lightbox() {
    if (dialog) return dialog;
    dialog = document.createElement("dialog");
    dialog.className = "bpkit-lightbox";
    dialog.setAttribute("aria-label", "Figure at full size");
    dialog.innerHTML =
      '<button type="button" class="bpkit-lightbox-close" aria-label="Close">\u00d7</button>' +
      '<div class="bpkit-lightbox-scroll"><img alt=""></div><p class="bpkit-lightbox-text"></p>';
    dialog.addEventListener("click", function (event) {
      // a tap on the image or outside it closes; so does the button (Escape too)
      if (event.target.closest(".bpkit-lightbox-text")) return;
      dialog.close();
    });
    document.body.appendChild(dialog);
    return dialog;
  }

  function describe(img) {
    var fig = img.closest("figure");
    var caption = fig && fig.querySelector("figcaption, .bpkit-describe");
    if (fig && fig.classList.contains("bpkit-explorer")) {
      caption = fig.querySelector(".bpkit-describe");
    }
    return (caption && caption.textContent.trim()) || img.getAttribute("alt") || "";
  }

  function open(img) {
    var box = lightbox();
    var big = box.querySelector("img");
    var room = window.innerWidth - 32;
    // At least the size the figure was designed for (a phone scrolls it sideways), and
    // larger where the screen has room, up to 1.6 times. (A lazy image may not have
    // loaded yet: then its size is known once the copy here has.)
    function fit() {
      var natural = +img.getAttribute("width") || big.naturalWidth || img.naturalWidth;
      if (natural) big.style.width = Math.max(natural, Math.min(room, natural * 1.6)) + "px";
    }
    big.removeAttribute("style");
    big.onload = fit;
    big.src = img.src; // the <img> holds the desktop drawing; a phone <source> may be shown
    if (big.complete) fit();
    big.alt = img.alt;
    box.querySelector(".bpkit-lightbox-text").textContent = describe(img);
    box.showModal();
  }

  function zoomable(img) {
    if (img.closest("button, a, .bpkit-zoom")) return;
    // an image with a phone variant moves with its <picture> (its sources apply only there)
    var shown = img.parentNode.tagName === "PICTURE" ? img.parentNode : img;
    var button = document.createElement("button");
    button.type = "button";
    button.className = "bpkit-zoom";
    button.setAttribute("aria-label", "Show this figure at full size");
    shown.parentNode.insertBefore(button, shown);
    button.appendChild(shown);
    button.addEventListener("click", function () {
      open(img);
    });
  }

  // ---------------------------------------------------------------- wide equations
  function scrollableEquations() {
    document.querySelectorAll("div.math").forEach(function (box) {
      var wide = box.scrollWidth > box.clientWidth; // even by 1 px: it scrolls, so axe wants it reachable
      if (wide && !box.hasAttribute("tabindex")) {
        box.setAttribute("tabindex", "0");
        box.setAttribute("role", "region");
        box.setAttribute("aria-label", "Equation (scrolls sideways)");
      } else if (!wide && box.getAttribute("role") === "region") {
        box.removeAttribute("tabindex");
        box.removeAttribute("role");
        box.removeAttribute("aria-label");
      }
    });
    // a mark for the browser test: the equations have been measured at least once
    document.documentElement.setAttribute("data-bpkit-equations", "measured");
  }

  ready(function () {
    document
      .querySelectorAll(".bd-article div.cell_output img, .bd-article figure img, .bpkit-explorer img.bpkit-frame")
      .forEach(zoomable);
    // MathJax loads its components after this script: wait for its typesetting.
    var tries = 0;
    (function whenTypeset() {
      if (window.MathJax && MathJax.startup && MathJax.startup.promise) {
        MathJax.startup.promise.then(scrollableEquations);
        // the maths' fonts may arrive after the typesetting and widen an equation
        if (document.fonts && document.fonts.ready) document.fonts.ready.then(function () {
          MathJax.startup.promise.then(scrollableEquations);
        });
      } else if (tries++ < 100) {
        setTimeout(whenTypeset, 100);
      }
    })();
    var timer = null;
    window.addEventListener("resize", function () {
      clearTimeout(timer);
      timer = setTimeout(scrollableEquations, 200);
    });
  });
})();
