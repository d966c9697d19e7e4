// The site's own scripts, in one file so that a first view makes one request for them
// (each request on a slow phone connection costs a round trip). Each part is
// self-contained; Material's bundle runs before this file. Diagrams need no script: they
// are SVG drawn at build time (docs/hooks/diagrams.py).
//
//   1. Math left for the browser (labs without build-time math, builds without Node.js)
//   2. The language switch keeps the page
//   3. The version selector of releases published with mike
//   4. Tab stops for regions that scroll sideways

// Appends a <script> for `url` (a URL object); resolves once it has run.
const fgLoadScript = (url) =>
  new Promise((resolve, reject) => {
    const tag = document.createElement("script");
    tag.src = url.href;
    tag.onload = resolve;
    tag.onerror = () => reject(new Error(`could not load ${tag.src}`));
    document.head.appendChild(tag);
  });

// --- 1. Math ----------------------------------------------------------------------------
// Math is rendered at build time (docs/hooks/prerender_math.py). This part renders what
// is left when the site was built without Node.js: .arithmatex elements of Markdown pages
// and $...$ in the Markdown cells of labs. It loads the site's own KaTeX only when there
// is such math.
(() => {
  const base = new URL("../vendor/katex/", document.currentScript.src);
  let loading = null;
  const load = () => {
    if (!loading) {
      const css = document.createElement("link");
      css.rel = "stylesheet";
      css.href = new URL("katex.min.css", base).href;
      document.head.appendChild(css);
      loading = fgLoadScript(new URL("katex.min.js", base))
        .then(() => fgLoadScript(new URL("auto-render.min.js", base)));
    }
    return loading;
  };
  // Markdown pages: pymdownx.arithmatex wraps math in .arithmatex with \( \) and \[ \].
  // Labs: nbconvert leaves $...$ and $$...$$ in the Markdown cells.
  const targets = [
    [".arithmatex:not(:has(.katex))", [
      { left: "\\(", right: "\\)", display: false },
      { left: "\\[", right: "\\]", display: true },
    ]],
    [".jp-MarkdownOutput", [
      { left: "$$", right: "$$", display: true },
      { left: "$", right: "$", display: false },
    ]],
  ];
  const pending = (element) => element.matches(".arithmatex") || element.textContent.includes("$");
  document$.subscribe(({ body }) => {
    const found = targets.filter(([selector]) => [...body.querySelectorAll(selector)].some(pending));
    if (!found.length) return;
    load().then(() => {
      for (const [selector, delimiters] of found) {
        for (const element of body.querySelectorAll(selector)) {
          renderMathInElement(element, { delimiters, throwOnError: false });
        }
      }
      window.fgMarkScrollable?.(body);
    });
  });
})();

// --- 2. Language switch -----------------------------------------------------------------
// The language links (overrides/partials/alternate.html) already point to the same page
// in the other language. Material would otherwise remap the click through the target's
// sitemap, which only works when site_url matches the host, and falls back to the
// language's home page. Stopping the event in the capture phase keeps the browser's
// plain navigation to our link.
document.addEventListener(
  "click",
  (event) => {
    const target = event.target;
    if (target instanceof Element && target.closest("a.md-select__link[hreflang]")) {
      event.stopPropagation();
    }
  },
  true,
);

// --- 3. Version selector ----------------------------------------------------------------
// Version selector for releases published with mike (scripts/deploy.py).
// Material's own selector looks for versions.json next to the language root, which is
// right for English (/1.0/) but not for /1.0/zh/ or /1.0/ru/. This one finds the
// version root from the language, keeps the language and the page when switching
// versions, and does nothing in an unversioned build (no request at all).
(() => {
  if (document.querySelector('meta[name="fg:versioned"]')?.content !== "true") return;
  const lang = document.documentElement.lang;
  const languageRoot = new URL("../../", document.currentScript.src);
  const versionRoot = new URL(lang === "en" ? "./" : "../", languageRoot);
  const current = versionRoot.pathname.split("/").filter(Boolean).pop();
  const languagePrefix = languageRoot.pathname.slice(versionRoot.pathname.length);

  fetch(new URL("../versions.json", versionRoot))
    .then((response) => (response.ok ? response.json() : []))
    .then((versions) => {
      if (!versions.length) return;
      const topic = document.querySelector(".md-header__topic");
      if (!topic || topic.querySelector(".md-version")) return;
      const active =
        versions.find((v) => v.version === current || v.aliases.includes(current)) || versions[0];
      const page = () => location.pathname.slice(languageRoot.pathname.length) + location.hash;
      const box = document.createElement("div");
      box.className = "md-version";
      const button = document.createElement("button");
      button.className = "md-version__current";
      button.setAttribute("aria-label", "Select version");
      button.textContent = active.title;
      const list = document.createElement("ul");
      list.className = "md-version__list";
      for (const version of versions) {
        const item = document.createElement("li");
        item.className = "md-version__item";
        const link = document.createElement("a");
        link.className = "md-version__link";
        link.textContent = version.title;
        link.href = new URL(`../${version.version}/${languagePrefix}`, versionRoot).href;
        link.dataset.version = version.version;
        link.addEventListener("click", (event) => {
          event.preventDefault();
          event.stopPropagation();
          location.href = link.href + page();
        }, true);
        item.appendChild(link);
        list.appendChild(item);
      }
      box.append(button, list);
      topic.appendChild(box);
    });
})();

// --- 4. Scrollable regions --------------------------------------------------------------
// Regions that scroll sideways (wide formulas, tables, diagrams, lab code and outputs) must be
// reachable by keyboard: each one that actually overflows gets a tab stop, and loses it
// again when it no longer does (a phone turned sideways, a window made wider).
//
// A ResizeObserver does the checking. Its callback runs right after the browser has laid
// the page out, so reading a region's widths there costs no extra layout. Reading them from
// an ordinary task, as this part once did, made the browser lay out a formula page anew
// inside the task: a quarter of a second of blocked page on a phone (Lighthouse's total
// blocking time). Observing a region again makes the browser report it again after its
// next layout: that is how regions are checked once web fonts (KaTeX's among them) have
// changed their widths, and when math left for the browser has rendered (part 1).
// window.fgScrollablesMarked resolves once the second frame after it is read is drawn, so
// after every earlier request (tests wait for it); regions that are not drawn (a closed
// <details>) are checked when they first are.
(() => {
  const selector = [
    ".arithmatex", ".md-typeset__scrollwrap", ".md-typeset__table", ".fg-diagram",
    ".highlight-ipynb", ".jp-OutputArea-output pre", ".jp-RenderedText pre",
  ].join(",");
  const observer = new ResizeObserver((entries) => {
    // All reads first: a write between two reads would make the browser lay out again.
    const checked = entries.map(({ target }) => [target, target.scrollWidth > target.clientWidth]);
    for (const [element, wide] of checked) {
      if (wide && !element.hasAttribute("tabindex")) {
        element.setAttribute("tabindex", "0");
        element.dataset.fgTabStop = "";
      } else if (!wide && "fgTabStop" in element.dataset) {
        element.removeAttribute("tabindex");
        delete element.dataset.fgTabStop;
      }
    }
  });
  // Made when asked for: waiting asks the browser for two more frames, and a page that
  // nobody waits on (a reader's) should not draw frames it does not need.
  Object.defineProperty(window, "fgScrollablesMarked", {
    get: () => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve))),
  });
  window.fgMarkScrollable = (root) => {
    for (const element of root.querySelectorAll(selector)) {
      observer.unobserve(element);
      observer.observe(element);
    }
  };
  document$.subscribe(({ body }) => window.fgMarkScrollable(body));
  document.fonts?.ready.then(() => window.fgMarkScrollable(document.body));
})();
