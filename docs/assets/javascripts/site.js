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
// is such math, on every page view, including views reached through instant navigation.
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
// reachable by keyboard: give each one that actually overflows a tab stop.
// Math left for the browser renders later (part 1), which calls window.fgMarkScrollable again.
//
// The check runs in slices of a few milliseconds and lets the browser do other work between
// them: one pass over a whole formula page in a single task blocked the page for a quarter
// of a second on a phone (Lighthouse's total blocking time). Within a slice, all reads come before the
// writes (a write between two reads would make the browser lay the page out again).
// window.fgScrollablesMarked is the promise of the latest pass (tests wait for it).
(() => {
  const selector = [
    ".arithmatex", ".md-typeset__scrollwrap", ".md-typeset__table", ".fg-diagram",
    ".highlight-ipynb", ".jp-OutputArea-output pre", ".jp-RenderedText pre",
  ].join(",");
  const SLICE_MS = 8;
  const pause = () => new Promise((resolve) => setTimeout(resolve, 0));
  const mark = async (root) => {
    const pending = [...root.querySelectorAll(selector)];
    while (pending.length) {
      const start = performance.now();
      const wide = [];
      while (pending.length && performance.now() - start < SLICE_MS) {
        const element = pending.shift();
        if (element.isConnected && !element.hasAttribute("tabindex")
            && element.scrollWidth > element.clientWidth) wide.push(element);
      }
      for (const element of wide) element.setAttribute("tabindex", "0");
      if (pending.length) await pause();
    }
  };
  window.fgScrollablesMarked = Promise.resolve();
  window.fgMarkScrollable = (root) => {
    const previous = window.fgScrollablesMarked;
    window.fgScrollablesMarked = previous.then(() => mark(root));
    return window.fgScrollablesMarked;
  };
  document$.subscribe(({ body }) => requestAnimationFrame(() => window.fgMarkScrollable(body)));
  // Web fonts (KaTeX's among them) change widths once they arrive: check again then.
  document.fonts?.ready.then(() => window.fgMarkScrollable(document.body));
})();
