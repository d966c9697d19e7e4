// Mermaid is 3.5 MB: load it only on pages that have a diagram. Material draws
// diagrams with the global `mermaid` and would fetch it from a CDN if it were missing;
// this stub stands in for it and loads the site's own copy on the first render.
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
  window.mermaid = {
    initialize(options) {
      config = options;
    },
    async render(...args) {
      const real = await load();
      real.initialize(config);
      return real.render(...args);
    },
  };
})();
