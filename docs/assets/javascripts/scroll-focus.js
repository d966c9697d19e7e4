// Regions that scroll sideways (wide formulas, tables, lab code and outputs) must be
// reachable by keyboard: give each one that actually overflows a tab stop.
// KaTeX renders later (katex-init.js), so it calls window.fgMarkScrollable again.
(() => {
  const selector = [
    ".arithmatex", ".md-typeset__scrollwrap", ".md-typeset__table",
    ".highlight-ipynb", ".jp-OutputArea-output pre", ".jp-RenderedText pre",
  ].join(",");
  window.fgMarkScrollable = (root) => {
    for (const element of root.querySelectorAll(selector)) {
      if (element.scrollWidth > element.clientWidth && !element.hasAttribute("tabindex")) {
        element.setAttribute("tabindex", "0");
      }
    }
  };
  document$.subscribe(({ body }) => requestAnimationFrame(() => window.fgMarkScrollable(body)));
  // Web fonts (KaTeX's among them) change widths once they arrive: check again then.
  document.fonts?.ready.then(() => window.fgMarkScrollable(document.body));
})();
