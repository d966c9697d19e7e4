// Render TeX to HTML at build time with the site's vendored KaTeX.
// Protocol (used by docs/hooks/prerender_math.py): one JSON object per line on stdin,
// {"tex": "...", "display": true|false}; one JSON object per line on stdout,
// {"html": "..."} or {"error": "..."}.
const path = require("path");
const readline = require("readline");
const katex = require(path.join(__dirname, "..", "docs", "assets", "vendor", "katex", "katex.min.js"));

const lines = readline.createInterface({ input: process.stdin, terminal: false });
lines.on("line", (line) => {
  let reply;
  try {
    const { tex, display } = JSON.parse(line);
    // HTML output only (half the elements of HTML+MathML); the hook labels each formula
    // with its TeX source for screen readers instead.
    reply = { html: katex.renderToString(tex, { displayMode: display, throwOnError: true, output: "html" }) };
  } catch (error) {
    reply = { error: String(error.message || error) };
  }
  process.stdout.write(JSON.stringify(reply) + "\n");
});
