// Run Lighthouse on many URLs with one Node process and one Chromium.
//
// Usage: node scripts/lighthouse_runs.mjs RUNS URL [URL ...]
// Prints one JSON line per run: {url, run, scores: {category: 0-100}, failing: {category: [..]},
// benchmarkIndex}. benchmarkIndex is Lighthouse's measure of the host CPU's speed at that
// run (higher is faster); the 4x slowdown assumes a host of about 1,500.
//
// The CLI (node_modules/lighthouse/cli) starts Node, loads Lighthouse and launches a new
// Chromium for every run: about 5 s of each run is that start-up. Here Chromium starts
// once; each run is still a cold navigation (Lighthouse resets storage and the HTTP cache
// before it navigates), with the same default mobile profile as the CLI.
import { launch } from "chrome-launcher";
import lighthouse from "lighthouse";

const [runsArg, ...urls] = process.argv.slice(2);
const runs = Number(runsArg);
if (!Number.isInteger(runs) || runs < 1 || urls.length === 0) {
  console.error("usage: node scripts/lighthouse_runs.mjs RUNS URL [URL ...]");
  process.exit(2);
}

const CATEGORIES = ["performance", "accessibility", "best-practices", "seo"];
const chrome = await launch({
  chromePath: process.env.CHROME_PATH || "/usr/bin/chromium",
  chromeFlags: [
    "--headless=new", "--no-sandbox", "--disable-gpu",
    "--disable-background-networking", "--disable-dev-shm-usage",
  ],
});

function failing(lhr, category) {
  return lhr.categories[category].auditRefs
    .filter((ref) => ref.weight > 0)
    .map((ref) => lhr.audits[ref.id])
    .filter((audit) => audit.score !== null && audit.score < 1)
    .map((audit) => `${audit.id}: ${audit.score.toFixed(2)} ${audit.displayValue || ""}`.trim());
}

try {
  for (const url of urls) {
    for (let run = 0; run < runs; run += 1) {
      const result = await lighthouse(url, {
        port: chrome.port, output: "json", logLevel: "error", onlyCategories: CATEGORIES,
      });
      const lhr = result.lhr;
      if (lhr.runtimeError) throw new Error(`${url}: ${lhr.runtimeError.message}`);
      const scores = {};
      const failures = {};
      for (const category of CATEGORIES) {
        scores[category] = Math.round(lhr.categories[category].score * 100);
        failures[category] = failing(lhr, category);
      }
      const benchmarkIndex = Math.round(lhr.environment.benchmarkIndex);
      console.log(JSON.stringify({ url, run, scores, failing: failures, benchmarkIndex }));
    }
  }
} finally {
  await chrome.kill();
}
