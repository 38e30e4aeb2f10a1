// The escaping audit in a real browser: every HTML page of the `hostile`
// fixture (every front-matter value an attack string, and a case study
// using every Markdown feature an attacker might) is opened in headless
// Chromium, and nothing may run: alert, confirm, prompt, print and the
// console are hooked before any page script and every call is counted (it
// must stay 0), and no event-handler attribute, script element the theme
// did not write, or link to a script URL may be in the page. Each page is
// hovered, focused and tabbed through, so handlers that need an event
// would fire too. The
// explorer, which draws values from search-index.json, is searched for the
// attack string and must show it as text.
//
// Usage: node hostile.js OUTPUT_DIR
'use strict';
const { chromium } = require('playwright-core');
const fs = require('fs');
const path = require('path');
const { serve } = require('./static-server');

const OUT = path.resolve(process.argv[2]);
const ALL = '<script>alert(1)</script> "onmouseover="alert(1) </script> javascript:alert(1)';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

function htmlFiles(dir, rel = '') {
  let out = [];
  for (const e of fs.readdirSync(path.join(dir, rel), { withFileTypes: true })) {
    const r = path.posix.join(rel, e.name);
    if (e.isDirectory()) out = out.concat(htmlFiles(dir, r));
    else if (e.name.endsWith('.html')) out.push(r);
  }
  return out.sort();
}

let failures = 0;
function check(cond, what, detail) {
  if (!cond) { failures++; console.log('FAIL ' + what + (detail !== undefined ? ': ' + JSON.stringify(detail) : '')); }
}

(async () => {
  const { server, base } = await serve(OUT);
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ARGS });
  const dialogs = [];
  try {
    const context = await browser.newContext();
    // Before any script of the page: every way a payload shows it ran.
    await context.addInitScript(() => {
      window.__casebookHits = [];
      const hit = (what) => function () { window.__casebookHits.push(what + ' ' + Array.from(arguments).join(' ')); };
      for (const f of ['alert', 'confirm', 'prompt', 'print']) window[f] = hit(f);
      for (const f of ['log', 'info', 'warn', 'error', 'debug']) console[f] = hit('console.' + f);
    });
    const page = await context.newPage();
    page.on('dialog', async d => { dialogs.push(d.message()); await d.dismiss(); });
    page.on('pageerror', e => dialogs.push('page error: ' + e.message));
    let hits = 0;
    const files = htmlFiles(OUT);
    for (const f of files) {
      await page.goto(base + f.replace(/index\.html$/, ''));
      // Hover everything, in case an attribute did get through.
      await page.evaluate(() => document.querySelectorAll('body *').forEach(e => {
        for (const type of ['mouseover', 'focus', 'load', 'error']) e.dispatchEvent(new Event(type, { bubbles: true }));
        if (typeof e.focus === 'function') e.focus();
      }));
      for (let k = 0; k < 10; k++) await page.keyboard.press('Tab');
      await page.waitForTimeout(50);
      const ran = await page.evaluate(() => window.__casebookHits);
      hits += ran.length;
      check(ran.length === 0, `${f}: script ran`, ran);
      const found = await page.evaluate(() => {
        const bad = [];
        for (const e of document.querySelectorAll('*')) {
          for (const a of e.attributes) {
            if (/^on/i.test(a.name)) bad.push(`${e.tagName} ${a.name}`);
            if (/^(href|src|action|formaction)$/i.test(a.name) && /^\s*javascript:/i.test(a.value)) bad.push(`${e.tagName} ${a.name}=${a.value}`);
          }
        }
        for (const s of document.scripts) {
          const own = s.type === 'application/ld+json' || /\/(explore|print)\.js\?v=/.test(s.getAttribute('src') || '');
          if (!own) bad.push('script ' + (s.src || s.textContent.slice(0, 60)));
          if (s.type === 'application/ld+json') { try { JSON.parse(s.textContent); } catch (e) { bad.push('broken JSON-LD'); } }
        }
        return bad;
      });
      check(found.length === 0, `${f}: markup from values`, found);
    }
    console.log(`opened ${files.length} pages`);

    await page.goto(base + 'explore/');
    await page.waitForSelector('#explorer:not([hidden])');
    await page.fill('#explorer-q', 'onmouseover');
    // The body of the Markdown case study holds the word as text too.
    await page.waitForFunction(() => document.querySelectorAll('.explorer-list .card-title').length <= 2);
    const titles = await page.$$eval('.explorer-list .card-title', hs => hs.map(h => h.textContent));
    check(titles.includes(ALL), 'the explorer shows the attack string as text', titles);
    const labels = await page.$$eval('.facet label', ls => ls.map(l => l.firstChild.textContent.trim()));
    check(labels.includes(ALL), 'facet values are text too', labels.slice(0, 5));
    check(dialogs.length === 0, 'no dialog opened and no page error', dialogs);
    console.log(`script executions counted: ${hits}`);
  } finally {
    await browser.close();
    server.close();
  }
  console.log(failures ? `${failures} checks failed` : 'no value became markup or script');
  process.exit(failures ? 1 : 0);
})().catch(e => { console.error(e); process.exit(1); });
