// The site's search worker. Material's search box, result list, suggestions and
// highlighting stay as they are; this worker takes the place of Material's (see
// overrides/main.html) and speaks its protocol:
//
//   {type: 0 SETUP,  data: {config, docs, options}}  ->  {type: 1 READY}
//   {type: 2 QUERY,  data: "what the reader typed"}   ->  {type: 3 RESULT, data: {items, suggest}}
//
// Why not Material's own worker: it builds a lunr index from the whole text on the
// reader's device (one to three seconds for this site, before the first result), ranks
// sections rather than pages, and lets a heading that shares one word with the query
// outrank the page that answers it.
//
// The index is Material's, rewritten by docs/hooks/search.py into two files: page names
// and short answers (search_index.json, which Material hands over), and the sections' text
// (search_text.json, fetched here; see "The index" below). Each query is scored per page:
//
// * fields: title and aliases weigh most, then description and short answer, headings,
//   section text (relative to the page's length), names in code and tags, each with a
//   saturating term frequency;
// * names: a title or an alias that is nearly the query itself counts once more, so the
//   page about a thing beats the pages that mention it;
// * words: a Latin word matches by its Porter stem and a Russian word by its Snowball stem
//   (lunr's stemmers, as Material ships them), computed for the query and for the index
//   words it could match, or by prefix (a half-typed word, at a lower weight); British and
//   American spellings are folded. Chinese text was cut into words by jieba at build time;
//   a Chinese query is cut into index words the way jieba cuts (the most probable path
//   through the words of the run), with word counts taken from the index itself;
// * abbreviations: a query that spells out a glossary abbreviation also matches it;
// * coverage: the share of the query's weight (idf over pages) that a page matches, squared;
// * phrases: two query words next to each other in a field count once more;
// * kind: question pages before labs, section overviews and the About pages (`boost`).
//
// Each result is a page, then its best sections.
"use strict";

const SETUP = 0, READY = 1, QUERY = 2, RESULT = 3;

// Ours runs first and stops the event: Material's handler, loaded later only for lunr's
// stemmers, never sees a message.
addEventListener("message", (event) => {
  event.stopImmediatePropagation();
  const { type, data } = event.data || {};
  if (type === SETUP) {
    setup(data);
    postMessage({ type: READY });
  } else if (type === QUERY) {
    answer(String(data || ""));
  }
});

function answer(query) {
  let result;
  try {
    result = search(query);
  } catch (error) {
    console.warn("search failed:", query, error);
    result = { items: [] };
  }
  lastQuery = query;
  answeredEarly ||= !complete;
  postMessage({ type: RESULT, data: result });
}

// Stemmers: lunr's Porter stemmer, from Material's worker (overrides/main.html passes its
// name, which carries a hash), and lunr-languages' Russian one. They are loaded when the
// index arrives, so that a page view only fetches this file.
function loadStemmers(config) {
  if (typeof lunr === "undefined") importScripts(new URL(location.href).searchParams.get("material"));
  if (config && config.lang && config.lang.includes("ru") && !lunr.ru) {
    importScripts("../lunr/min/lunr.stemmer.support.min.js", "../lunr/min/lunr.ru.min.js");
  }
}

// --- Weights ------------------------------------------------------------------------------
const FIELD = { title: 6, aliases: 6, description: 2.5, answer: 2.5, headings: 2, text: 1, code: 0.3, tags: 1 };
const SATURATION = 1.2; // k in tf / (tf + k)
const TEXT_LENGTH = 0.5; // BM25's b for the sections' text: a long page mentions everything
const PREFIX = 0.6; // weight of a word that only starts with the query word
const PHRASE = 0.5; // share of a pair's weight that adjacency adds once more
const COVERED = 0.5; // a term scoring this much in a page counts as covered (one mention in the text: 0.45)
const NAME = 8; // a title or alias that is the query (see nameScore)
const MAX_PAGES = 30; // pages returned
const MIN_SHARE = 0.02; // of the best page's score
const SECTIONS = 4; // sections shown per page

// --- Words ----------------------------------------------------------------------------------
// A word: a run of Chinese characters (jieba's words are separated by U+200B in the index),
// or a run of other letters, marks and digits. Markup and entities are skipped. `scan`
// calls `emit(start, end)` for each word of an HTML string; one scanner serves the index,
// the queries and the highlighting, so they cannot disagree about what a word is.
const HAN = /^\p{sc=Han}/u;
const LATIN = /^[a-z0-9]+$/;
const CYRILLIC = /^[\u0400-\u04ff]+$/;
const WORD = /<[^>]*>|&(?:[a-z]+|#\d+);|(\p{sc=Han}+|[^\s\p{P}\p{S}\p{C}\p{Z}\p{sc=Han}]+)/gu;
function scan(html, emit) {
  WORD.lastIndex = 0;
  for (let m = WORD.exec(html); m; m = WORD.exec(html)) {
    if (m[1] !== undefined) emit(m.index, m.index + m[1].length);
  }
}

// One form for both sides: NFKC (full-width letters, ligatures), lower case, ё = е, and
// British spellings as American ones ("initialisation", "neighbour", "modelling").
const folded = new Map();
function norm(word) {
  let w = folded.get(word);
  if (w === undefined) {
    w = fold(word);
    folded.set(word, w);
  }
  return w;
}

function fold(word) {
  let w = /[^\x00-\x7f]/.test(word) ? word.normalize("NFKC").toLowerCase() : word.toLowerCase();
  if (CYRILLIC.test(w)) return w.replace(/ё/g, "е");
  if (w.length >= 6 && LATIN.test(w)) {
    w = w
      .replace(/([a-z]{3})is(e|ed|es|er|ers|ing|ation|ations|able)$/, "$1iz$2")
      .replace(/([a-z]{2})ys(e|ed|es|er|ing)$/, "$1yz$2")
      .replace(/([^aeiouy])our(s|ed|ing|hood|ite)?$/, "$1or$2")
      .replace(/([aeiou][bcdfgklmnprstvz]e)ll(ing|ed|er|ers)$/, "$1l$2")
      .replace(/([^aeiou])tre(s)?$/, "$1ter$2");
  }
  return w;
}

const stems = new Map();
function stem(word) {
  let s = stems.get(word);
  if (s === undefined) {
    if (CYRILLIC.test(word)) s = lunr.ru ? lunr.ru.stemmer(word) : word;
    else if (word.length > 3 && LATIN.test(word) && /[a-z]/.test(word)) s = lunr.stemmer(new lunr.Token(word)).toString();
    else s = word;
    stems.set(word, s);
  }
  return s;
}

// --- The index ------------------------------------------------------------------------------
// Built in two steps, so that the first query does not wait for the whole text. First the
// names of each page (title, aliases, description, headings, tags), from search_index.json,
// which Material hands over; the worker is then ready. Then the short answers (also in that
// file), the sections' text and the names in code, which the worker fetches from
// search_text.json beside it, indexed in slices of a few milliseconds between queries. A
// query answered before the second step ends is answered again when it ends (Material
// shows the newer result).
// This file is <language root>/assets/javascripts/workers/guide-search.js.
const TEXT = new URL("../../../search/search_text.json", location.href);
let vocab; // word -> id
let known; // word as written -> id (many spellings share one id)
let words; // id -> word
let freq; // id -> occurrences in the index
let sorted; // ids in the order of their words, for prefix search
let logTotal;
let pages; // [{number, location, title, tags, boost, fields: {field: [Int32Array]}, tf: {field: Map(id -> count)}, entry, sections}]
let postings; // id -> page numbers
let rarity; // id -> idf over pages
let synonyms = []; // [{abbreviation: [words], variants: [[words]]}] from the glossary
let suggestOn = false;
let complete = false; // sections' text and code indexed too
let lastQuery = null;
let answeredEarly = false;

function intern(raw) {
  let id = known.get(raw);
  if (id === undefined) {
    const word = norm(raw);
    id = vocab.get(word);
    if (id === undefined) {
      id = words.length;
      vocab.set(word, id);
      words.push(word);
      freq.push(0);
    }
    known.set(raw, id);
  }
  freq[id]++;
  return id;
}

// The word ids of an HTML string, and where each word starts in it.
let idBuffer = new Int32Array(1 << 12), atBuffer = new Int32Array(1 << 12);
function tokenize(value) {
  const html = String(value || "");
  let k = 0;
  scan(html, (start, end) => {
    if (k === idBuffer.length) {
      const ids = new Int32Array(2 * k), at = new Int32Array(2 * k);
      ids.set(idBuffer);
      at.set(atBuffer);
      idBuffer = ids;
      atBuffer = at;
    }
    idBuffer[k] = intern(html.slice(start, end));
    atBuffer[k++] = start;
  });
  return { ids: idBuffer.slice(0, k), at: atBuffer.slice(0, k) };
}

const NOTHING = tokenize("");

function setup({ config, docs, options }) {
  loadStemmers(config);
  vocab = new Map();
  known = new Map();
  words = [];
  freq = [];
  pages = [];
  complete = false;
  lastQuery = null;
  answeredEarly = false;
  suggestOn = !!(options && options.suggest);
  const byPath = new Map();
  const bodies = [];
  for (const doc of docs) {
    const [path, anchor] = doc.location.split("#");
    let page = byPath.get(path);
    if (!page) {
      page = {
        number: pages.length, location: path, title: doc.title, tags: doc.tags, boost: doc.boost || 1,
        fields: { title: [], aliases: [], description: [], answer: [], headings: [], text: [], code: [], tags: [] },
        sections: [],
      };
      byPath.set(path, page);
      pages.push(page);
    }
    const entry = {
      location: doc.location, title: doc.title, html: doc.text || "",
      heading: tokenize(doc.title), text: NOTHING, names: NOTHING,
    };
    const f = page.fields;
    if (anchor === undefined) {
      page.entry = entry;
      f.title.push(entry.heading.ids);
      for (const alias of doc.aliases || []) f.aliases.push(tokenize(alias).ids);
      f.description.push(tokenize(doc.description).ids);
      for (const tag of doc.tags || []) f.tags.push(tokenize(tag).ids);
    } else {
      page.sections.push(entry);
      f.headings.push(entry.heading.ids);
    }
    bodies.push([page, entry, anchor !== undefined]);
  }
  count();
  const generation = ++setups;
  // The glossary's abbreviations and what they stand for (docs/hooks/search.py).
  const wordsOf = (text) => {
    const out = [];
    scan(String(text), (start, end) => out.push(norm(String(text).slice(start, end))));
    return out;
  };
  synonyms = ((config && config.synonyms) || []).map(([abbreviation, ...variants]) => ({
    abbreviation: wordsOf(abbreviation),
    variants: variants.map(wordsOf).filter((v) => v.length > 1),
  }));
  fetch(TEXT)
    .then((response) => (response.ok ? response.json() : Promise.reject(new Error(`${response.status}`))))
    .catch((error) => {
      console.warn(`search: ${TEXT} not loaded (${error.message}); searching titles and answers only`);
      return { docs: {}, missing: true };
    })
    .then(({ docs: text, missing }) => generation === setups && indexBodies(bodies, text, 0, !missing));
}
let setups = 0;

// Sections' text and code, a few milliseconds at a time.
function indexBodies(bodies, text, i, loaded) {
  const until = performance.now() + 8;
  for (; i < bodies.length && performance.now() < until; i++) {
    const [page, entry, section] = bodies[i];
    const body = text[entry.location] || {};
    if (section) entry.html = body.text || "";
    entry.text = tokenize(entry.html);
    page.fields[section ? "text" : "answer"].push(entry.text.ids);
    entry.names = tokenize(body.code);
    page.fields.code.push(entry.names.ids);
    entry.tf = null;
  }
  if (i < bodies.length) {
    setTimeout(() => indexBodies(bodies, text, i, loaded), 0);
    return;
  }
  count();
  complete = true;
  if (answeredEarly && lastQuery !== null) answer(lastQuery);
  postMessage({ type: READY, data: { complete: true, text: loaded } }); // Material acts on the first READY only
}

// Per page and field, how often each word occurs; per word, the pages that hold it.
function count() {
  const lists = Array.from(words, () => []);
  const last = new Int32Array(words.length).fill(-1);
  for (const page of pages) {
    page.tf = {};
    for (const field in page.fields) {
      const tf = (page.tf[field] = new Map());
      for (const ids of page.fields[field]) {
        for (const id of ids) {
          tf.set(id, (tf.get(id) || 0) + 1);
          if (last[id] !== page.number) {
            last[id] = page.number;
            lists[id].push(page.number);
          }
        }
      }
    }
  }
  postings = lists;
  rarity = Float64Array.from(lists, (list) => idf(list.length));
  const length = (page) => page.fields.text.reduce((sum, ids) => sum + ids.length, 0);
  const average = pages.reduce((sum, page) => sum + length(page), 0) / (pages.length || 1) || 1;
  for (const page of pages) page.textNorm = 1 - TEXT_LENGTH + (TEXT_LENGTH * length(page)) / average;
  for (const page of pages) page.names = [...page.fields.title, ...page.fields.aliases];
  sorted = Int32Array.from([...vocab.keys()].sort(), (word) => vocab.get(word));
  logTotal = Math.log(freq.reduce((a, b) => a + b, 0) || 1);
}

// Ids of the index words that start with `prefix` (binary search in the sorted words).
function withPrefix(prefix, limit = 200) {
  let lo = 0, hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (words[sorted[mid]] < prefix) lo = mid + 1;
    else hi = mid;
  }
  const out = [];
  for (let i = lo; i < sorted.length && out.length < limit && words[sorted[i]].startsWith(prefix); i++) out.push(sorted[i]);
  return out;
}

// --- Queries ----------------------------------------------------------------------------------
// Chinese: the most probable cut of a run into index words, as jieba cuts (the words of
// its dictionary found in the run form a graph; the best path maximises the sum of log
// probabilities), with the index's own word counts as the dictionary. A character that
// no index word covers stands alone.
function cutChinese(run) {
  const n = run.length;
  const unknown = Math.log(0.5) - logTotal;
  const best = new Float64Array(n + 1).fill(-Infinity);
  const next = new Int32Array(n + 1);
  best[n] = 0;
  for (let i = n - 1; i >= 0; i--) {
    for (let j = i + 1; j <= Math.min(n, i + 8); j++) {
      const id = vocab.get(run.slice(i, j));
      const logp = id !== undefined ? Math.log(freq[id]) - logTotal : j === i + 1 ? unknown : -Infinity;
      if (logp + best[j] > best[i]) {
        best[i] = logp + best[j];
        next[i] = j;
      }
    }
  }
  const out = [];
  for (let i = 0; i < n; i = next[i]) out.push(run.slice(i, next[i]));
  return out;
}

// The query as terms: {word, matches: [[index word id, weight]]}.
function parse(query) {
  return readAbbreviations(readWords(query));
}

function readWords(query) {
  const terms = [];
  const raw = [];
  scan(query, (start, end) => raw.push(query.slice(start, end)));
  for (const original of raw) {
    const word = norm(original);
    if (HAN.test(word)) {
      for (const part of cutChinese(word)) terms.push(expand(part));
      continue;
    }
    const term = expand(word);
    // "llama2", "gpt4": a word the index lacks may be letters and digits run together.
    const parts = word.match(/\p{L}+|\p{N}+/gu) || [];
    if (!term.matches.length && parts.length > 1) for (const part of parts) terms.push(expand(part));
    else terms.push(term);
  }
  return terms;
}

// A run of query words that spells out a glossary abbreviation ("retrieval augmented
// generation", 人类反馈强化学习) also matches the abbreviation (RAG, RLHF): each word of the
// run accepts the abbreviation as one of its words. The run must hold the expansion's
// words in order (same stems), covering at least three quarters of its weight.
function readAbbreviations(terms) {
  const same = (a, b) => a === b || stem(a) === stem(b);
  const weight = (word) => {
    const id = vocab.get(word);
    return id === undefined ? idf(0) : rarity[id];
  };
  for (const { abbreviation, variants } of synonyms) {
    for (const variant of variants) {
      const mass = variant.reduce((sum, w) => sum + weight(w), 0);
      for (let i = 0; i < terms.length; i++) {
        let j = i, k = 0, covered = 0;
        while (j < terms.length && k < variant.length) {
          if (same(terms[j].word, variant[k])) {
            covered += weight(variant[k]);
            j++;
          }
          k++;
        }
        if (j - i < 2 || covered < 0.75 * mass) continue;
        const extra = abbreviation.flatMap((word) => expand(word).matches);
        for (const term of terms.slice(i, j)) {
          const matches = new Map(term.matches);
          for (const [id, w] of extra) matches.set(id, Math.max(matches.get(id) || 0, w));
          term.matches = [...matches];
        }
        i = j - 1;
      }
    }
  }
  return terms;
}

// A term's pages (those that hold any of its words) and its weight (idf over those pages).
function weigh(term) {
  if (!term.pages) {
    term.ids = new Set(term.matches.map(([id]) => id));
    term.pages = new Set();
    for (const id of term.ids) for (const p of postings[id]) term.pages.add(p);
  }
  if (term.weight === undefined) term.weight = idf(term.pages.size);
  return term.weight;
}

function idf(df) {
  const n = pages.length;
  return Math.log(1 + (n - df + 0.5) / (df + 0.5));
}

function expand(word) {
  const matches = new Map();
  const add = (id, weight) => {
    if ((matches.get(id) || 0) < weight) matches.set(id, weight);
  };
  const exact = vocab.get(word);
  if (exact !== undefined) add(exact, 1);
  if (HAN.test(word)) {
    // Part of longer index words only: 幻 -> 幻觉.
    if (exact === undefined) for (const id of withPrefix(word, 50)) add(id, PREFIX);
  } else {
    const s = stem(word);
    if (s !== word || word.length > 3) {
      // The same stem: "adapters" ~ "adapter", "обучения" ~ "обучение".
      const base = s.replace(/[ie]$/, "");
      for (const id of withPrefix(base.length >= 2 ? base : s)) if (stem(words[id]) === s) add(id, 1);
    }
    if (word.length >= 3) for (const id of withPrefix(word)) add(id, PREFIX); // half-typed
    // Words that grow from the same stem: "оценить" ~ "оценивать", "оценка".
    if (s.length >= 4 && s !== word) for (const id of withPrefix(s)) add(id, PREFIX);
  }
  return { word, matches: [...matches] };
}

const sat = (tf) => tf / (tf + SATURATION);

// How well a page matches one term: its best matching word, over all fields.
function termScore(page, term) {
  let best = 0;
  for (const [id, weight] of term.matches) {
    let sum = 0;
    for (const field in FIELD) {
      const tf = page.tf[field].get(id);
      if (tf) sum += FIELD[field] * sat(field === "text" ? tf / page.textNorm : tf);
    }
    if (sum * weight > best) best = sum * weight;
  }
  return best;
}

// Two consecutive query terms side by side in a field: that field's weight once more.
function phraseScore(page, terms, weights) {
  let score = 0;
  for (let t = 0; t + 1 < terms.length; t++) {
    if (!terms[t].pages.has(page.number) || !terms[t + 1].pages.has(page.number)) continue;
    const a = terms[t].ids, b = terms[t + 1].ids;
    let best = 0;
    for (const field in FIELD) {
      if (FIELD[field] > best && page.fields[field].some((ids) => adjacent(ids, a, b))) best = FIELD[field];
    }
    score += PHRASE * best * (weights[t] + weights[t + 1]);
  }
  return score;
}

// How nearly a title or an alias is the query itself: the best Dice coefficient between
// the share of the name's weight that the query matches and the share of the query's
// weight that the name matches (weights are idf, so "What is" counts for little).
// "lora" is the alias "LoRA" of the LoRA page (1) and half of "LoRA pitfalls".
function nameScore(page, best, weights, total) {
  let top = 0;
  for (const name of page.names) {
    let mass = 0, hit = 0;
    const used = new Set();
    for (const id of new Set(name)) {
      if (id < 0) continue;
      mass += rarity[id];
      const match = best.get(id);
      if (match) {
        hit += rarity[id] * match[0];
        used.add(match[1]);
      }
    }
    if (!hit) continue;
    let share = 0;
    for (const t of used) share += weights[t];
    const a = hit / mass, b = share / total;
    const dice = (2 * a * b) / (a + b);
    if (dice > top) top = dice;
  }
  return top;
}

function adjacent(ids, a, b) {
  for (let i = 0; i + 1 < ids.length; i++) if (a.has(ids[i]) && b.has(ids[i + 1])) return true;
  return false;
}

function search(query) {
  const terms = parse(query);
  if (!terms.length) return { items: [] };
  const weights = terms.map(weigh);
  // Each matched index word: its best weight, and the term it answers.
  const best = new Map();
  terms.forEach((term, t) => {
    for (const [id, w] of term.matches) if (!best.has(id) || best.get(id)[0] < w) best.set(id, [w, t]);
  });
  const total = weights.reduce((a, b) => a + b, 0) || 1;
  const candidates = new Set();
  for (const term of terms) for (const p of term.pages) candidates.add(p);
  let scored = [];
  for (const p of candidates) {
    const page = pages[p];
    let score = 0, covered = 0;
    terms.forEach((term, t) => {
      if (!term.pages.has(p)) return;
      const s = termScore(page, term);
      if (s > 0) {
        score += weights[t] * s;
        // A word met only in code or only as a prefix covers the term in part.
        covered += weights[t] * Math.min(1, s / COVERED);
      }
    });
    if (score <= 0) continue;
    const name = nameScore(page, best, weights, total);
    scored.push({ page, score: score + NAME * name * name * total, coverage: covered / total });
  }
  const rank = (list) => list.map((s) => ({ ...s, final: s.score * s.coverage * s.coverage * s.page.boost }))
    .sort((a, b) => b.final - a.final);
  // Phrases: only for the pages that can still reach the top.
  scored = rank(scored);
  if (terms.length > 1) {
    for (const s of scored.slice(0, 3 * MAX_PAGES)) s.score += phraseScore(s.page, terms, weights);
    scored = rank(scored);
  }
  const floor = scored.length ? scored[0].final * MIN_SHARE : 0;
  const top = scored.slice(0, MAX_PAGES).filter((s) => s.final >= floor);
  const ids = new Set();
  for (const term of terms) for (const id of term.ids) ids.add(id);
  const result = { items: top.map((s) => group(s.page, s.final, terms, weights, ids)) };
  if (suggestOn) result.suggest = suggest(query, top[0] && top[0].page);
  return result;
}

// --- Results ----------------------------------------------------------------------------------
// A page first (its title and short answer), then its best sections. Material shows the
// sections that score at least as high as the page and folds the others away; the best
// section is shown when it holds more of the query than the page's first entry does.
function group(page, score, terms, weights, ids) {
  const found = {};
  for (const term of terms) found[term.word] = term.pages.has(page.number);
  const own = page.entry ? entryScore(page.entry, terms, weights) : 0;
  const sections = page.sections
    .map((entry) => ({ entry, score: entryScore(entry, terms, weights) }))
    .filter((s) => s.score > 0)
    .sort((a, b) => b.score - a.score)
    .slice(0, SECTIONS);
  const article = page.entry || { location: page.location, title: page.title, html: "", text: NOTHING };
  const items = [{
    location: article.location,
    title: highlight(article.title, ids),
    text: excerpt(article, ids, true),
    tags: page.tags,
    score,
    terms: found,
  }];
  const best = sections.length ? sections[0].score : 0;
  for (const [i, s] of sections.entries()) {
    items.push({
      location: s.entry.location,
      title: highlight(s.entry.title, ids),
      text: excerpt(s.entry, ids, false),
      score: i === 0 && best > own ? score : (score * s.score) / (2 * (best + own)),
      terms: found,
    });
  }
  return items;
}

// An entry's own weight of each word, to order a page's sections: heading 3, code 1/3.
function entryCounts(entry) {
  if (!entry.tf) {
    entry.tf = new Map();
    for (const [{ ids }, weight] of [[entry.heading, 3], [entry.text, 1], [entry.names, 0.3]]) {
      for (const id of ids) entry.tf.set(id, (entry.tf.get(id) || 0) + weight);
    }
  }
  return entry.tf;
}

function entryScore(entry, terms, weights) {
  const tf = entryCounts(entry);
  let score = 0;
  terms.forEach((term, t) => {
    let best = 0;
    for (const [id, weight] of term.matches) {
      const n = tf.get(id);
      if (n && sat(n) * weight > best) best = sat(n) * weight;
    }
    score += weights[t] * best;
  });
  return score;
}

function highlight(value, ids) {
  const html = String(value || "");
  const out = [];
  let last = 0;
  scan(html, (start, end) => {
    const word = html.slice(start, end);
    if (!ids.has(vocab.get(norm(word)))) return;
    out.push(html.slice(last, start), "<mark>", word, "</mark>");
    last = end;
  });
  out.push(html.slice(last));
  return out.join("").replace(/<\/mark>(\s*)<mark>/g, "$1");
}

// About 300 characters of an entry's text, from a little before its first match (or from
// its start, when `always` is set and nothing matches), cut between words and without markup.
function excerpt(entry, ids, always, size = 300) {
  const { html } = entry;
  const text = entry.text !== NOTHING || !html ? entry.text : lookup(html);
  let first = -1;
  for (let i = 0; i < text.ids.length; i++) if (ids.has(text.ids[i])) { first = i; break; }
  if (first < 0 && !always) return "";
  let from = first < 0 ? 0 : Math.max(0, first - 8);
  while (from > 0 && text.at[first] - text.at[from] > size / 3) from++;
  const start = from > 0 ? text.at[from] : 0;
  let to = from;
  while (to < text.at.length && text.at[to] - start < size) to++;
  const end = to < text.at.length ? text.at[to] : html.length;
  const plain = html.slice(start, end)
    .replace(/<\/?(?:p|li|ul|ol|pre|br)>/g, " ")
    .replace(/<[^>]*>?/g, "")
    .replace(/\s+/g, " ")
    .trim();
  if (!plain) return "";
  return `<p>${start > 0 ? "… " : ""}${highlight(plain, ids)}${end < html.length ? " …" : ""}</p>`;
}

// The word ids of a text not indexed yet (-1 for words the index lacks), and where they start.
function lookup(html) {
  const ids = [], at = [];
  scan(html, (start, end) => {
    const id = known.get(html.slice(start, end)) ?? vocab.get(norm(html.slice(start, end)));
    ids.push(id === undefined ? -1 : id);
    at.push(start);
  });
  return { ids, at };
}

// Completion of the word being typed: the most frequent index word on the best page that
// starts with it (Material shows it after the query; the right arrow accepts it).
function suggest(query, page) {
  const last = query.split(/[\s-]+/).pop();
  if (!page || !last || last.length < 2 || HAN.test(last)) return [];
  const prefix = norm(last);
  let bestId = -1;
  for (const id of withPrefix(prefix, 400)) {
    if (words[id] === prefix || !postings[id].includes(page.number)) continue;
    if (bestId < 0 || freq[id] > freq[bestId]) bestId = id;
  }
  return bestId < 0 ? [] : [last + words[bestId].slice(prefix.length)];
}
