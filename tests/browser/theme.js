// The default theme, judged in a real headless Chromium on a built site
// served under /learning/: every template at 360, 768 and 1280 px wide, in
// light and dark colour schemes.
//
// Usage: node theme.js OUTPUT_DIR SHOTS_DIR
//
// For each template: axe-core finds no violations (light and dark); the
// page never scrolls sideways; nothing shifts after load (cumulative layout
// shift 0); no request fails or leaves the subpath; CSS stays under 30 KB
// and JavaScript under 20 KB (the explorer excepted); the page works with
// JavaScript off. On the home and explore pages, the keyboard reaches
// every control, each with a visible focus ring, the skip link first.
// Screenshots go to SHOTS_DIR/<template>-<width>.png.
'use strict';
const { chromium } = require('playwright-core');
const fs = require('fs');
const path = require('path');
const { serve } = require('./static-server');

const [OUT, SHOTS] = process.argv.slice(2);
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const AXE = fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
const WIDTHS = [360, 768, 1280];

let failures = 0;
function check(cond, what, detail) {
  if (cond) return;
  failures++;
  console.log('FAIL ' + what + (detail !== undefined ? ': ' + JSON.stringify(detail, null, 1).slice(0, 2000) : ''));
}

// One page of each template in the example site.
function templates(out) {
  const firstDir = (dir) => fs.readdirSync(path.join(out, dir))
    .filter(d => fs.existsSync(path.join(out, dir, d, 'index.html')) && d !== 'page').sort()[0];
  const caseStudy = firstDir('case-studies');
  const report = firstDir('reports');
  const term = firstDir('sector');
  const plain = fs.readdirSync(out).filter(d => fs.existsSync(path.join(out, d, 'index.html')) &&
    !['case-studies', 'reports', 'explore', 'outcomes', 'ngo', 'sector', 'program', 'country', 'tags'].includes(d))[0];
  const t = {
    home: '',
    'case-study': `case-studies/${caseStudy}/`,
    report: `reports/${report}/`,
    'case-study-list': 'case-studies/',
    'report-list': 'reports/',
    'term-index': 'sector/',
    term: `sector/${term}/`,
    explore: 'explore/',
    outcomes: 'outcomes/',
    '404': '404.html',
  };
  if (plain) t.page = `${plain}/`;
  // A case study with a lead photo and a photo in its text.
  const photo = fs.readdirSync(path.join(out, 'case-studies')).sort().find(d => {
    const f = path.join(out, 'case-studies', d, 'index.html');
    return fs.existsSync(f) && /lead-photo/.test(fs.readFileSync(f, 'utf8')) && /<p><picture>/.test(fs.readFileSync(f, 'utf8'));
  });
  if (photo) t.photo = `case-studies/${photo}/`;
  return t;
}

async function layoutShift(page) {
  return page.evaluate(() => new Promise(resolve => {
    let total = 0;
    new PerformanceObserver(list => {
      for (const e of list.getEntries()) if (!e.hadRecentInput) total += e.value;
    }).observe({ type: 'layout-shift', buffered: true });
    setTimeout(() => resolve(total), 300);
  }));
}

async function axe(page) {
  await page.addScriptTag({ content: AXE });
  const res = await page.evaluate(async () => {
    const r = await axe.run(document, { resultTypes: ['violations'] });
    return r.violations.map(v => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 3).map(n => n.html) }));
  });
  return res;
}

// Tabs through the page; returns what got focus and whether each showed a ring.
async function tabThrough(page, max) {
  const seen = [];
  for (let i = 0; i < max; i++) {
    await page.keyboard.press('Tab');
    const f = await page.evaluate(() => {
      const e = document.activeElement;
      if (!e || e === document.body) return null;
      const s = getComputedStyle(e);
      const ring = (s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 2) || (s.boxShadow && s.boxShadow !== 'none');
      return { tag: e.tagName.toLowerCase(), id: e.id, cls: e.className, text: (e.textContent || e.value || '').trim().slice(0, 40), type: e.type || '', ring };
    });
    if (!f) break;
    seen.push(f);
  }
  return seen;
}

(async () => {
  fs.mkdirSync(SHOTS, { recursive: true });
  const { server, outside, base } = await serve(path.resolve(OUT));
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ARGS });
  const pages = templates(path.resolve(OUT));
  try {
    for (const [name, rel] of Object.entries(pages)) {
      for (const width of WIDTHS) {
        for (const scheme of width === 1280 || width === 360 ? ['light', 'dark'] : ['light']) {
          const context = await browser.newContext({ viewport: { width, height: 800 }, colorScheme: scheme });
          const page = await context.newPage();
          const errors = [];
          const bytes = { css: 0, js: 0 };
          page.on('pageerror', e => errors.push('pageerror: ' + e.message));
          page.on('console', m => { if (m.type() === 'error' && !/404/.test(m.text())) errors.push('console: ' + m.text()); });
          page.on('requestfailed', r => errors.push('requestfailed ' + r.url()));
          page.on('response', async r => {
            const u = r.url();
            if (r.status() >= 400 && !u.endsWith('/404.html')) errors.push(`HTTP ${r.status()} ${u}`);
            const type = r.headers()['content-type'] || '';
            try {
              const len = (await r.body()).length;
              if (type.includes('css')) bytes.css += len;
              if (type.includes('javascript')) bytes.js += len;
            } catch (e) { /* redirects have no body */ }
          });
          const resp = await page.goto(base + rel, { waitUntil: 'load' });
          const where = `${name} at ${width}px (${scheme})`;
          check(resp.status() === 200 || name === '404', `${where}: HTTP ${resp.status()}`);
          if (name === 'explore') await page.waitForSelector('#explorer:not([hidden])');
          const overflow = await page.evaluate(() => ({ scroll: document.documentElement.scrollWidth, inner: window.innerWidth }));
          check(overflow.scroll <= overflow.inner, `${where}: scrolls sideways`, overflow);
          const cls = await layoutShift(page);
          check(cls === 0, `${where}: layout shift ${cls}`);
          if (width !== 768) {
            const v = await axe(page);
            check(v.length === 0, `${where}: axe violations`, v);
          }
          check(errors.length === 0, `${where}: errors`, errors);
          check(bytes.css < 30 * 1024, `${where}: CSS ${bytes.css} bytes`);
          if (name !== 'explore') check(bytes.js < 20 * 1024, `${where}: JavaScript ${bytes.js} bytes`);
          if (scheme === 'light') {
            await page.screenshot({ path: path.join(SHOTS, `${name}-${width}.png`), fullPage: true });
          } else if (width === 1280) {
            await page.screenshot({ path: path.join(SHOTS, `${name}-${width}-dark.png`), fullPage: true });
          }
          const lang = await page.getAttribute('html', 'lang');
          check(lang === 'en', `${where}: lang attribute`, lang);
          await context.close();
        }
      }
      console.log(`checked ${name} (${rel || '/'})`);
    }

    // Photos on a phone (2 device pixels a CSS pixel): WebP, the 960-pixel
    // copy for a full-width photo, every photo decoded once scrolled to.
    if (pages.photo) {
      const context = await browser.newContext({ viewport: { width: 360, height: 740 }, deviceScaleFactor: 2 });
      const page = await context.newPage();
      await page.goto(base + pages.photo, { waitUntil: 'load' });
      await page.evaluate(async () => {
        for (let y = 0; y < document.body.scrollHeight; y += 400) { window.scrollTo(0, y); await new Promise(r => setTimeout(r, 50)); }
      });
      await page.waitForFunction(() => [...document.querySelectorAll('picture img')].every(i => i.complete));
      const imgs = await page.evaluate(() => [...document.querySelectorAll('picture img')].map(i => ({
        src: i.currentSrc, natural: i.naturalWidth, lead: !!i.closest('.lead-photo'), lazy: i.loading })));
      check(imgs.length >= 2, 'the photo page has a lead photo and one in its text', imgs);
      check(imgs.every(i => i.natural > 0 && i.src.endsWith('.webp')), 'every photo loads, as WebP', imgs);
      const lead = imgs.find(i => i.lead) || {};
      check(/\.960\.webp$/.test(lead.src || '') && lead.lazy !== 'lazy', 'the lead photo is the 960 copy, loaded at once', lead);
      check(imgs.filter(i => !i.lead).every(i => i.lazy === 'lazy'), 'photos in the text load lazily', imgs);
      await context.close();
      console.log(`checked photos (${pages.photo})`);
    }

    // The keyboard: the skip link comes first and moves focus to the main
    // content; every link and control gets a visible ring.
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await context.newPage();
    await page.goto(base);
    let seen = await tabThrough(page, 60);
    check(seen.length > 10 && seen[0].cls === 'skip-link', 'the skip link is the first tab stop', seen[0]);
    check(seen.every(f => f.ring), 'every tab stop on the home page shows a focus ring', seen.filter(f => !f.ring));
    await page.goto(base);
    await page.keyboard.press('Tab');
    await page.keyboard.press('Enter');
    const focused = await page.evaluate(() => document.activeElement && document.activeElement.id);
    check(focused === 'main', 'the skip link moves focus to the main content', focused);

    await page.goto(base + 'explore/');
    await page.waitForSelector('#explorer:not([hidden])');
    seen = await tabThrough(page, 80);
    const kinds = new Set(seen.map(f => f.id === 'explorer-q' ? 'search' : f.id === 'explorer-sort' ? 'sort' : f.type === 'checkbox' ? 'checkbox' : f.cls));
    check(kinds.has('search') && kinds.has('sort') && kinds.has('checkbox') && kinds.has('facet-toggle'),
      'the keyboard reaches the search box, the sort, the facet values and "show all"', [...kinds]);
    check(seen.every(f => f.ring), 'every explorer control shows a focus ring', seen.filter(f => !f.ring));
    // A facet value ticked from the keyboard filters the list.
    await page.focus('.facet input[type="checkbox"]');
    const before = await page.textContent('.explorer-status');
    await page.keyboard.press('Space');
    const after = await page.textContent('.explorer-status');
    check(before !== after, 'Space on a facet value filters', { before, after });
    await context.close();

    // The 404 page: a search box that opens the explorer with the words,
    // and a way to the explorer.
    const lost = await browser.newContext({ viewport: { width: 360, height: 800 } });
    const p404 = await lost.newPage();
    await p404.goto(base + 'no/such/page/');
    check(await p404.isVisible('a[href$="/explore/"] >> nth=-1'), 'the 404 page links to the explorer');
    await p404.fill('#not-found-q', 'chatbot');
    await Promise.all([p404.waitForNavigation(), p404.press('#not-found-q', 'Enter')]);
    await p404.waitForSelector('#explorer:not([hidden])');
    const found = { url: p404.url(), q: await p404.inputValue('#explorer-q'), n: await p404.locator('.explorer-list .card').count() };
    check(found.url.includes('/learning/explore/?q=chatbot') && found.q === 'chatbot' && found.n > 0,
      'searching from the 404 page shows the matching case studies', found);
    await lost.close();

    // The mobile header is two rows; a case study's first sentence shows on
    // the first screen of a phone.
    const phone = await browser.newContext({ viewport: { width: 360, height: 740 } });
    const ph = await phone.newPage();
    // With a lead photo too: it must leave room for the text.
    for (const which of ['case-study', 'photo'].filter(k => pages[k])) {
      await ph.goto(base + pages[which]);
      const first = await ph.evaluate(() => {
        const header = document.querySelector('.site-header').getBoundingClientRect().height;
        const row = document.querySelector('.site-nav a').getBoundingClientRect().height;
        const p = document.querySelector('.doc-body p');
        return { header, row, top: p ? p.getBoundingClientRect().top : 1e9 };
      });
      check(first.header < 110, 'the header takes two rows on a phone', first);
      check(first.top < 740 - 40, `the ${which} page's first sentence is on the first screen of a phone`, first);
    }
    // Cards: no meta line starts with a separator, and dates in a row line up.
    await ph.close();
    await phone.close();
    const wide = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const wp = await wide.newPage();
    for (const rel of ['', 'case-studies/', 'reports/']) {
      await wp.goto(base + rel);
      const cards = await wp.evaluate(() => [...document.querySelectorAll('.card')].map(c => {
        const r = c.getBoundingClientRect();
        const date = c.querySelector('.card-date');
        const meta = c.querySelector('.card-meta');
        // Where each line of the meta line begins, and the separator there.
        const strays = [];
        if (meta) {
          const clip = c.querySelector('.card-foot').getBoundingClientRect().left;
          for (const s of meta.querySelectorAll('span')) {
            const dot = s.getBoundingClientRect().left;
            if (dot >= clip - 0.5 && s.previousElementSibling && s.previousElementSibling.getBoundingClientRect().top < s.getBoundingClientRect().top) strays.push(s.textContent);
          }
        }
        return { top: Math.round(r.top), left: Math.round(r.left), date: date ? Math.round(date.getBoundingClientRect().top) : null, strays };
      }));
      const rows = {};
      for (const c of cards) (rows[c.top] = rows[c.top] || []).push(c);
      const misaligned = Object.values(rows).filter(r => new Set(r.map(c => c.date)).size > 1);
      check(misaligned.length === 0, `${rel || 'home'}: dates line up across each row of cards`, misaligned);
      check(cards.every(c => c.strays.length === 0), `${rel || 'home'}: no card's meta line starts with a separator`, cards.filter(c => c.strays.length));
      if (rel === 'reports/') check(Object.values(rows)[0].length === 3, 'reports show three cards a row at 1280 px', Object.values(rows).map(r => r.length));
    }
    await wide.close();

    // Without JavaScript every template still reads and links work.
    const nojs = await browser.newContext({ javaScriptEnabled: false, viewport: { width: 1280, height: 800 } });
    const p = await nojs.newPage();
    for (const [name, rel] of Object.entries(pages)) {
      await p.goto(base + rel);
      const text = await p.evaluate(() => document.querySelector('main').innerText.trim().length);
      check(text > 40, `${name} without JavaScript shows its content`, text);
    }
    await nojs.close();
    check(outside.length === 0, 'no request left the subpath', outside);
  } finally {
    await browser.close();
    server.close();
  }
  console.log(failures ? `${failures} checks failed` : 'all theme checks passed');
  process.exit(failures ? 1 : 0);
})().catch(e => { console.error(e); process.exit(1); });
