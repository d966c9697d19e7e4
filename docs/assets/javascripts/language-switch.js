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
