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
