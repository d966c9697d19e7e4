// Material fetches sitemap.xml next to every <link rel="alternate"> in the page head,
// to remap language switches. Our hreflang links are absolute URLs of the same page in
// each language (as search engines require), so those fetches would go to the
// production host and 404. The language switch does not need them (its links already
// point to the same page), so every sitemap request is served from this language's own
// sitemap, which instant navigation loads anyway.
(() => {
  const own = new URL("../../sitemap.xml", document.currentScript.src).href;
  const open = XMLHttpRequest.prototype.open;
  XMLHttpRequest.prototype.open = function (method, url, ...rest) {
    const target = new URL(String(url), location.href);
    const redirected = target.pathname.endsWith("/sitemap.xml") ? own : url;
    return open.call(this, method, redirected, ...rest);
  };
})();
