// Mermaid is 3.5 MB: load it only when a diagram is about to scroll into view. Material
// draws diagrams with the global `mermaid` (and would fetch it from a CDN if it were
// missing); this stub stands in for it, waits until the diagram's source block nears
// the viewport, then loads the site's own copy and renders.
(() => {
  const src = new URL("../vendor/mermaid/mermaid.min.js", document.currentScript.src);
  let config = {};
  let loading = null;
  const load = () =>
    (loading ??= new Promise((resolve, reject) => {
      const tag = document.createElement("script");
      tag.src = src.href;
      tag.onload = () => resolve(window.mermaid);
      tag.onerror = () => reject(new Error(`could not load ${src.href}`));
      document.head.appendChild(tag);
    }));
  const nearViewport = (text) =>
    new Promise((resolve) => {
      const block = [...document.querySelectorAll("pre.mermaid")].find(
        (pre) => pre.textContent.trim() === text.trim(),
      );
      if (!block || !("IntersectionObserver" in window)) return resolve();
      const observer = new IntersectionObserver(
        (entries) => {
          if (entries.some((entry) => entry.isIntersecting)) {
            observer.disconnect();
            resolve();
          }
        },
        { rootMargin: "400px 0px" },
      );
      observer.observe(block);
    });
  const stub = {
    initialize(options) {
      config = options;
    },
    async render(id, text, ...rest) {
      await nearViewport(text);
      const real = await load();
      real.initialize(config);
      return real.render(id, text, ...rest);
    },
  };
  window.mermaid = stub;
})();
