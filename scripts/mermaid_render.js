// Browser side of scripts/diagrams.py: Mermaid source in, self-contained SVG out.
//
// mermaid_render.html loads this file after the vendored Mermaid (scripts/vendor/mermaid)
// in Debian's Chromium; Python calls window.fgRender(sources, options) once per build with
// every diagram that has no cache entry yet. Each result is {svg} or {error}.
//
// Mermaid's SVG depends on its own stylesheet (colours, text anchors, dash patterns). The
// site has a light and a dark palette, so the colours must come from the page's CSS
// instead: this file bakes every property that affects the layout into attributes, gives
// each shape one role class (fg-node, fg-cluster, fg-edge, fg-arrow, fg-label-bg), drops
// Mermaid's stylesheet and everything the drawing does not use. The site's stylesheet
// (docs/assets/stylesheets/extra.css, "Diagrams") colours the roles with Material's
// palette variables.
"use strict";

const ROLE_CLASSES = ["fg-node", "fg-cluster", "fg-edge", "fg-arrow", "fg-label-bg"];
const SHAPES = "rect, path, polygon, circle, ellipse, line, polyline";
// Attributes whose numbers are coordinates: rounded to 0.01 px.
const GEOMETRY = [
  "d", "points", "transform", "x", "y", "width", "height", "cx", "cy", "r", "rx", "ry",
  "viewBox", "refX", "refY", "markerWidth", "markerHeight", "textLength",
];

const roundNumbers = (value) =>
  value.replace(/-?\d*\.\d{3,}(?:e-?\d+)?/g, (n) => String(Math.round(parseFloat(n) * 100) / 100));

function roleOf(shape) {
  if (shape.closest("marker")) return "fg-arrow";
  if (shape.closest(".edgeLabel")) return shape.matches("rect.background") ? "fg-label-bg" : null;
  if (shape.closest(".node")) return shape.closest(".label") ? null : "fg-node";
  if (shape.closest(".cluster")) return shape.closest(".cluster-label") ? null : "fg-cluster";
  if (shape.matches(".flowchart-link") || shape.closest(".edgePaths")) return "fg-edge";
  return null;
}

// Lines of a label: tspans with one tspan per word. Bake the measured width of each line
// (textLength), so that a reader whose font is a little wider or narrower than the one
// the layout was measured with still sees the text inside its box.
function bakeText(svg, minSizes) {
  for (const text of svg.querySelectorAll("text")) {
    const style = getComputedStyle(text);
    if (style.textAnchor !== "start") text.setAttribute("text-anchor", style.textAnchor);
    const size = parseFloat(style.fontSize);
    if (size !== parseFloat(getComputedStyle(svg).fontSize)) text.setAttribute("font-size", size);
    if (text.textContent.trim()) minSizes.push(size);
    for (const line of text.querySelectorAll("tspan")) {
      if (!line.textContent.trim() || line.closest("tspan tspan")) continue;
      line.setAttribute("textLength", line.getComputedTextLength());
      line.setAttribute("lengthAdjust", "spacingAndGlyphs");
    }
  }
  for (const text of svg.querySelectorAll("text")) {
    for (const line of text.querySelectorAll(":scope > tspan")) {
      const words = [...line.children];
      const plain = words.every(
        (w) => w.tagName === "tspan" && !w.children.length &&
          (w.getAttribute("font-weight") ?? "normal") === "normal" &&
          (w.getAttribute("font-style") ?? "normal") === "normal",
      );
      if (words.length && plain) line.textContent = line.textContent;
    }
  }
}

function bakeShapes(svg) {
  for (const shape of svg.querySelectorAll(SHAPES)) {
    const role = roleOf(shape);
    const style = getComputedStyle(shape);
    if (role === "fg-edge" || role === "fg-node" || role === "fg-cluster") {
      shape.setAttribute("stroke-width", parseFloat(style.strokeWidth));
      if (style.strokeDasharray !== "none" && !/^0(px)?$/.test(style.strokeDasharray)) {
        shape.setAttribute("stroke-dasharray", style.strokeDasharray.replace(/px/g, ""));
      }
    }
    shape.removeAttribute("class");
    if (role) shape.setAttribute("class", role);
  }
}

function referencedIds(svg) {
  const ids = new Set();
  for (const element of svg.querySelectorAll("*")) {
    for (const attr of element.attributes) {
      for (const match of attr.value.matchAll(/url\(#([^)]+)\)/g)) ids.add(match[1]);
      if (attr.name === "aria-labelledby" || attr.name === "aria-describedby") {
        attr.value.split(/\s+/).forEach((id) => ids.add(id));
      }
    }
  }
  for (const attr of svg.attributes) {
    if (attr.name === "aria-labelledby" || attr.name === "aria-describedby") {
      attr.value.split(/\s+/).forEach((id) => ids.add(id));
    }
  }
  return ids;
}

function prune(svg) {
  svg.querySelectorAll("style").forEach((e) => e.remove());
  // Labels of edges without text, and label backgrounds that were never sized.
  svg.querySelectorAll(".edgeLabel").forEach((e) => e.textContent.trim() || e.remove());
  svg.querySelectorAll("rect:not([width])").forEach((e) => e.remove());
  const used = referencedIds(svg);
  svg.querySelectorAll("marker, filter, linearGradient, radialGradient").forEach((e) => {
    if (!used.has(e.id)) e.remove();
  });
  svg.querySelectorAll("defs").forEach((e) => e.children.length || e.remove());
  // Empty groups, repeatedly, from the innermost out.
  for (let removed = true; removed; ) {
    removed = false;
    for (const g of svg.querySelectorAll("g")) {
      if (!g.children.length) {
        g.remove();
        removed = true;
      }
    }
  }
  for (const element of [svg, ...svg.querySelectorAll("*")]) {
    for (const attr of [...element.attributes]) {
      const name = attr.name;
      const drop =
        name.startsWith("data-") ||
        name === "style" ||
        name === "aria-roledescription" ||
        (name === "id" && element !== svg && !used.has(attr.value)) ||
        (name === "class" && !ROLE_CLASSES.includes(attr.value));
      if (drop) element.removeAttribute(name);
      else if (GEOMETRY.includes(name)) element.setAttribute(name, roundNumbers(attr.value));
    }
  }
  // Groups left without attributes group nothing.
  for (const g of [...svg.querySelectorAll("g")].reverse()) {
    if (!g.attributes.length) g.replaceWith(...g.childNodes);
  }
}

async function renderOne(source, options) {
  const { svg: markup } = await mermaid.render(options.id, source);
  const host = document.createElement("div");
  document.body.appendChild(host);
  try {
    host.innerHTML = markup;
    const svg = host.querySelector("svg");
    const kind = svg.getAttribute("aria-roledescription") || "";
    if (!kind.startsWith("flowchart")) {
      throw new Error(
        `a ${kind || "non-flowchart"} diagram: the build-time renderer styles flowcharts only ` +
          "(scripts/mermaid_render.js)",
      );
    }
    const title = svg.querySelector(":scope > title");
    if (!title || !title.textContent.trim()) {
      throw new Error("no accessible title: add an `accTitle: ...` line in the page's language");
    }
    const rootStyle = getComputedStyle(svg);
    const fontSize = parseFloat(rootStyle.fontSize);
    const minSizes = [];
    bakeText(svg, minSizes);
    bakeShapes(svg);
    prune(svg);
    const [, , width, height] = svg.getAttribute("viewBox").split(/\s+/).map(Number);
    svg.setAttribute("width", roundNumbers(String(width)));
    svg.setAttribute("height", roundNumbers(String(height)));
    svg.setAttribute("font-family", options.fontFamily);
    svg.setAttribute("font-size", fontSize);
    svg.setAttribute("role", "img");
    svg.removeAttribute("class");
    // Never scaled below the smallest readable text size: the wrapper scrolls instead.
    const minScale = Math.min(1, options.minTextPx / Math.min(fontSize, ...minSizes));
    svg.setAttribute("style", `min-width:${Math.ceil(width * minScale)}px`);
    return new XMLSerializer().serializeToString(svg);
  } finally {
    host.remove();
  }
}

window.fgRender = async (sources, options) => {
  mermaid.initialize(options.mermaid);
  const results = [];
  for (const source of sources) {
    try {
      await mermaid.parse(source);
      results.push({ svg: await renderOne(source, options) });
    } catch (error) {
      results.push({ error: String(error?.message || error) });
    } finally {
      // A failed render leaves its scratch element behind.
      document.querySelectorAll(`#d${options.id}, #${options.id}`).forEach((e) => e.remove());
    }
  }
  return results;
};

// Fonts the layout is measured with: Arial's metrics for Latin and Cyrillic text (Liberation
// Sans on Debian, a metric-compatible copy) and, for Chinese text, a CJK font (every Han
// character one em wide). Without them Chromium falls back to other fonts and the boxes
// would be sized for text the readers do not see.
window.fgFontCheck = (family) => {
  const context = document.createElement("canvas").getContext("2d");
  const width = (font, text) => {
    context.font = font;
    return context.measureText(text).width;
  };
  const sample = "The quick brown fox jumps over 0123456789";
  return {
    arial: width("100px Arial, monospace", sample) !== width("100px monospace", sample),
    cjk: Math.abs(width(`100px ${family}`, "中文字体") - 400) < 4,
  };
};
