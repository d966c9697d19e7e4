// Loads the site's search worker (as built, with Material's lunr files beside it) in
// Node.js and answers questions about its parts, for tests/site/test_search_quality.py.
//
//   node search_probe.js <language root of a built site>   < {"cut": [...], "parse": [...]}
//   -> {"cut": [[word, ...], ...], "parse": [[[term, [index word, ...]], ...], ...]}
"use strict";
const fs = require("fs");
const path = require("path");
const vm = require("vm");

const root = process.argv[2];
const workers = path.join(root, "assets/javascripts/workers");
const material = fs.readdirSync(workers).find((f) => /^search\.[0-9a-f]+\.min\.js$/.test(f));
const listeners = [];
let complete;
const completed = new Promise((resolve) => (complete = resolve));
Object.assign(globalThis, {
  self: globalThis,
  location: { href: `http://localhost/assets/javascripts/workers/guide-search.js?material=${material}` },
  addEventListener: (type, fn) => type === "message" && listeners.push(fn),
  fetch: async (url) => {
    const file = path.join(root, "search", path.basename(new URL(url).pathname));
    return { ok: true, json: async () => JSON.parse(fs.readFileSync(file, "utf8")) };
  },
  postMessage: (message) => message.type === 1 && message.data && message.data.complete && complete(),
  importScripts: (...urls) => {
    for (const url of urls) vm.runInThisContext(fs.readFileSync(path.resolve(workers, url), "utf8"));
  },
});
vm.runInThisContext(fs.readFileSync(path.join(workers, "guide-search.js"), "utf8"));
const index = JSON.parse(fs.readFileSync(path.join(root, "search/search_index.json"), "utf8"));
listeners[0]({ data: { type: 0, data: { ...index, options: {} } }, stopImmediatePropagation() {} });

const input = JSON.parse(fs.readFileSync(0, "utf8"));
completed.then(() => {
  const words = vm.runInThisContext("words");
  const out = {
    cut: (input.cut || []).map((run) => vm.runInThisContext("cutChinese")(run)),
    parse: (input.parse || []).map((query) =>
      vm.runInThisContext("parse")(query).map((term) => [term.word, term.matches.map(([id]) => words[id])])),
  };
  process.stdout.write(JSON.stringify(out));
});
