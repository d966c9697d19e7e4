// Runs before Material's bundle and adjusts two of the requests it makes at start-up.
//
// 1. Sitemaps. Material fetches sitemap.xml next to every <link rel="alternate"> in the
//    page head, to remap language switches. Our hreflang links are absolute URLs of the
//    same page in each language (as search engines require), so those fetches would go
//    to the production host and 404. The language switch does not need them (its links
//    already point to the same page), so every sitemap request is answered with this
//    language's own sitemap, which instant navigation loads anyway.
//
// 2. The search index. Material downloads it and builds the index on every page view.
//    It is the largest download of a first view and competes for the CPU while the page
//    renders, so its request is held back until the reader reaches for search (focus
//    on the search field, or the search keys "/", "s", "f") or the page asks for a
//    search through its URL.
(() => {
  const own = new URL("../../sitemap.xml", document.currentScript.src).href;
  const open = XMLHttpRequest.prototype.open;
  const send = XMLHttpRequest.prototype.send;

  let release;
  const searchWanted = new Promise((resolve) => (release = resolve));
  const want = () => release();
  document.addEventListener("focusin", (e) => e.target.matches?.(".md-search__input") && want());
  document.addEventListener("keydown", (e) => ["/", "s", "f", "S", "F"].includes(e.key) && want());
  document.addEventListener("click", (e) => e.target.closest?.('label[for="__search"]') && want());
  if (/[?&]q=/.test(location.search)) want();

  XMLHttpRequest.prototype.open = function (method, url, ...rest) {
    const target = new URL(String(url), location.href);
    this.__fgDeferred = target.pathname.endsWith("/search/search_index.json");
    const redirected = target.pathname.endsWith("/sitemap.xml") ? own : url;
    return open.call(this, method, redirected, ...rest);
  };
  XMLHttpRequest.prototype.send = function (...args) {
    if (!this.__fgDeferred) return send.apply(this, args);
    searchWanted.then(() => send.apply(this, args));
  };
})();
