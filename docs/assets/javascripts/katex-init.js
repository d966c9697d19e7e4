// Math on Markdown pages is rendered at build time (docs/hooks/prerender_math.py). This script
// renders what is left: lab Markdown cells ($...$), and every formula when the site
// was built without Node.js. It loads the site's own KaTeX only when there is such math,
// on every page view, including views reached through instant navigation.
(() => {
  const base = new URL("../vendor/katex/", document.currentScript.src);
  let loading = null;
  const load = () =>
    (loading ??= new Promise((resolve, reject) => {
      const css = document.createElement("link");
      css.rel = "stylesheet";
      css.href = new URL("katex.min.css", base).href;
      document.head.appendChild(css);
      const script = (name) =>
        new Promise((done, fail) => {
          const tag = document.createElement("script");
          tag.src = new URL(name, base).href;
          tag.onload = done;
          tag.onerror = () => fail(new Error(`could not load ${tag.src}`));
          document.head.appendChild(tag);
        });
      script("katex.min.js").then(() => script("auto-render.min.js")).then(resolve, reject);
    }));
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
  document$.subscribe(({ body }) => {
    const found = targets.filter(([selector]) => body.querySelector(selector));
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
