// The explorer and the printed report, as a reader uses them, in a real
// headless Chromium, with the site under a subpath.
//
// Usage: node explore.js OUTPUT_DIR SHOTS_DIR
//
// OUTPUT_DIR is tests/fixtures/explore built with
// --base-url http://127.0.0.1/learning/ (any host: only the path matters).
// A small static server here serves it under /learning/ and answers 404
// (and records the request) anywhere else.
'use strict';
const { chromium } = require('playwright-core');
const { serve } = require('./static-server');
const fs = require('fs');
const path = require('path');

const [OUT, SHOTS] = process.argv.slice(2);
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];
let failures = 0;
function check(cond, what, detail) {
  if (cond) {
    console.log('ok   ' + what);
  } else {
    failures++;
    console.log('FAIL ' + what + (detail !== undefined ? ': ' + JSON.stringify(detail) : ''));
  }
}

async function titles(page) {
  return page.$$eval('.explorer-list .card-title', els => els.map(e => e.textContent.trim()));
}

async function settle(page) {
  // Rendering is synchronous after each event; one animation frame is enough.
  await page.evaluate(() => new Promise(r => requestAnimationFrame(() => r())));
}

async function count(page, id) {
  return page.$eval('label[for="' + id + '"] .count', e => Number(e.textContent));
}

(async () => {
  fs.mkdirSync(SHOTS, { recursive: true });
  const { server, outside, base } = await serve(path.resolve(OUT));
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ARGS });
  try {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    const errors = [];
    page.on('pageerror', e => errors.push(e.message));
    page.on('console', m => { if (m.type() === 'error') errors.push(m.text()); });

    await page.goto(base + 'explore/');
    await page.waitForSelector('#explorer:not([hidden])');
    check(await page.isHidden('#explorer-fallback'), 'the no-JavaScript links are hidden once the explorer runs');
    let t = await titles(page);
    check(t.length === 6, 'all six case studies are listed at first', t);
    check(t[0] === 'A chatbot for expecting mothers', 'newest first by default', t);
    const firstDate = await page.textContent('.explorer-item time');
    check(firstDate === '1 June 2024', 'results show dates in the format of every other page', firstDate);
    const findLabels = await page.$$eval('.facet-find', els => els.map(e => e.placeholder));
    check(findLabels.every(p => !/ngos|Find a/.test(p)), 'facet filters keep the taxonomy\'s own words', findLabels);

    // Two values of one facet: OR.
    await page.check('#f-sector-health');
    await page.check('#f-sector-education');
    await settle(page);
    t = await titles(page);
    check(JSON.stringify(t) === JSON.stringify([
      'A chatbot for expecting mothers', 'Clinic records move to tablets',
      'Homework help for rural schools', 'A reading app for Santiago libraries']),
      'Health OR Education shows the four case studies in those sectors', t);
    check(await count(page, 'f-country-india') === 2 && await count(page, 'f-country-kenya') === 1 &&
      await count(page, 'f-country-chile') === 1, 'country counts follow the sector filter');

    // A second facet: AND.
    await page.check('#f-country-india');
    await settle(page);
    t = await titles(page);
    check(JSON.stringify(t) === JSON.stringify(['A chatbot for expecting mothers', 'Homework help for rural schools']),
      '(Health OR Education) AND India shows two', t);
    check(await count(page, 'f-sector-agriculture') === 0 && await page.isDisabled('#f-sector-agriculture'),
      'a value that would match nothing shows 0 and is disabled');
    check(await count(page, 'f-sector-mental-health') === 1 && !(await page.isDisabled('#f-sector-mental-health')),
      'a value that would add matches stays enabled with its count');
    check(await page.textContent('.explorer-status') === '2 case studies', 'the status says how many match');

    // Text: titles, summaries and body words; relevance puts the title match first.
    await page.fill('#explorer-q', 'chatbot');
    await settle(page);
    t = await titles(page);
    check(JSON.stringify(t) === JSON.stringify(['A chatbot for expecting mothers', 'Homework help for rural schools']),
      '"chatbot" finds the title match and the one that says it only in its body, title first', t);
    let url = new URL(page.url());
    check(url.pathname === '/learning/explore/', 'the URL stays under the subpath', url.pathname);
    check(JSON.stringify(url.searchParams.getAll('sector')) === '["education","health"]' &&
      url.searchParams.get('country') === 'india' && url.searchParams.get('q') === 'chatbot',
      'the URL holds every filter', url.search);

    await page.fill('#explorer-q', 'homework');
    await settle(page);
    t = await titles(page);
    check(JSON.stringify(t) === JSON.stringify(['Homework help for rural schools']), 'a new query replaces the old', t);
    await page.fill('#explorer-q', 'marathi');
    await settle(page);
    check(JSON.stringify(await titles(page)) === JSON.stringify(['Homework help for rural schools']),
      'a word found only in the body text matches');
    // "C++" and "C#" are words: each finds its own case study, not every
    // word that starts with c.
    await page.fill('#explorer-q', 'c++');
    await settle(page);
    check(JSON.stringify(await titles(page)) === JSON.stringify(['Homework help for rural schools']),
      'C++ finds the case study tagged C++', await titles(page));
    await page.fill('#explorer-q', 'C#');
    await settle(page);
    check(JSON.stringify(await titles(page)) === JSON.stringify(['A chatbot for expecting mothers']),
      'C# finds the case study tagged C#', await titles(page));
    await page.fill('#explorer-q', 'kisumu');
    await settle(page);
    check((await titles(page)).length === 0 && await page.textContent('.explorer-status') === 'No case studies match',
      'no match says so');

    // The back button: typing made one history entry, so one step back
    // undoes the search, the next the country.
    await page.goBack();
    await page.waitForFunction(() => !new URL(location.href).searchParams.has('q'));
    await settle(page);
    t = await titles(page);
    check(t.length === 2 && await page.inputValue('#explorer-q') === '' && await page.isChecked('#f-country-india'),
      'back undoes the search and keeps the facets', t);
    await page.goBack();
    await page.waitForFunction(() => !new URL(location.href).searchParams.has('country'));
    await settle(page);
    t = await titles(page);
    check(t.length === 4 && !(await page.isChecked('#f-country-india')), 'back again undoes the country', t);

    // A bookmarked view opens as it was left.
    const shared = base + 'explore/?sector=health&country=kenya';
    const page2 = await context.newPage();
    await page2.goto(shared);
    await page2.waitForSelector('#explorer:not([hidden])');
    t = await titles(page2);
    check(JSON.stringify(t) === JSON.stringify(['Clinic records move to tablets']) &&
      await page2.isChecked('#f-sector-health') && await page2.isChecked('#f-country-kenya'),
      'a shared URL restores its filters', t);
    await page2.selectOption('#explorer-sort', 'oldest');
    await page2.click('.explorer-clear');
    await settle(page2);
    check((await titles(page2)).length === 6, 'clear shows everything again');
    await page2.selectOption('#explorer-sort', 'oldest');
    await settle(page2);
    t = await titles(page2);
    check(t[0] === 'Market prices by text message' && new URL(page2.url()).searchParams.get('sort') === 'oldest',
      'sort by oldest, kept in the URL', t);
    const href = await page2.getAttribute('.explorer-list .card-title a', 'href');
    check(href === '/learning/case-studies/farmers/', 'result links are under the subpath', href);
    await page2.click('.explorer-list .card-title a');
    await page2.waitForSelector('h1');
    check(await page2.textContent('h1') === 'Market prices by text message', 'a result opens its case study');
    await page.screenshot({ path: path.join(SHOTS, 'explore-desktop.png'), fullPage: true });
    check(errors.length === 0, 'no script errors', errors);

    // Without JavaScript the page offers the taxonomy pages.
    const nojs = await browser.newContext({ javaScriptEnabled: false });
    const page3 = await nojs.newPage();
    await page3.goto(base + 'explore/');
    check(await page3.isVisible('#explorer-fallback') && await page3.isHidden('#explorer'),
      'without JavaScript the explorer stays hidden and the fallback shows');
    const links = await page3.$$eval('#explorer-fallback a', as => as.map(a => a.getAttribute('href')));
    check(links.includes('/learning/sector/') && links.includes('/learning/sector/health/'),
      'the fallback links to the taxonomy and term pages', links);
    const said = await page3.evaluate(() => document.querySelector('#explorer-fallback').innerText);
    check(/needs JavaScript/.test(said) && !/Loading/.test(said),
      'without JavaScript the page says the explorer needs it, not that it is loading', said);
    await nojs.close();

    // While its index loads, the explorer says so; a sort order the
    // control does not offer falls back to one it does.
    const slow = await context.newPage();
    let release;
    const held = new Promise(r => { release = r; });
    await slow.route('**/search-index.json', async route => { await held; await route.continue(); });
    await slow.goto(base + 'explore/?sort=bogus', { waitUntil: 'domcontentloaded' });
    const loading = await slow.textContent('.explorer-fallback-note');
    check(/Loading the explorer/.test(loading) && await slow.isVisible('.explorer-fallback-note'),
      'a loading state shows while the index loads', loading);
    release();
    await slow.waitForSelector('#explorer:not([hidden])');
    const sortShown = await slow.$eval('#explorer-sort', s => ({ value: s.value, text: s.options[s.selectedIndex] && s.options[s.selectedIndex].text }));
    check(sortShown.value === 'date' && sortShown.text === 'Newest first',
      'an unknown sort in the URL shows the default order, never a blank control', sortShown);
    await slow.close();

    // Printing a report: no navigation, its case studies included, links
    // written out, and cards kept whole.
    const page4 = await context.newPage();
    await page4.goto(base + 'reports/year-2024/');
    await page4.emulateMedia({ media: 'print' });
    const print = await page4.evaluate(() => {
      const shown = sel => [...document.querySelectorAll(sel)].filter(e => e.checkVisibility());
      const card = document.querySelector('.report-case-studies .card');
      const link = document.querySelector('.report-case-studies .card-title a');
      return {
        header: shown('.site-header').length,
        footer: shown('.site-footer').length,
        nav: shown('nav.site-nav').length,
        cards: shown('.report-case-studies .card').map(c => c.querySelector('.card-title').textContent.trim()),
        after: link ? getComputedStyle(link, '::after').content : '',
        breakInside: card ? getComputedStyle(card).breakInside : '',
        head: shown('.print-header').map(e => e.innerText.replace(/\s+/g, ' ').trim()).join(''),
        body: getComputedStyle(document.querySelector('.prose a[href]'), '::after').content,
        kicker: getComputedStyle(document.querySelector('.kicker a'), '::after').content,
        appendix: getComputedStyle(document.querySelector('.report-case-studies')).breakBefore,
        th: document.querySelector('.prose thead') ? getComputedStyle(document.querySelector('.prose thead')).display : 'table-header-group',
      };
    });
    // Paper says who published it, where it lives and when it was printed;
    // links in the text carry their full address, labels and tags do not;
    // the case studies follow as an appendix on a page of their own.
    check(print.head.includes('Explore fixture') && /http:\/\/127\.0\.0\.1(:\d+)?\/learning\/reports\/year-2024\//.test(print.head) &&
      /Printed \d{1,2} [A-Z][a-z]+ \d{4}/.test(print.head), 'the printed page names the site, its address and the print date', print.head);
    check(print.body.includes(base + 'case-studies/mothers/'), 'a link in the text prints its full address', print.body);
    check(print.kicker === 'none', 'a term link outside the text prints no address', print.kicker);
    check(print.appendix === 'page', "the report's case studies start a page of their own", print.appendix);
    check(print.th === 'table-header-group', 'a table repeats its header on each printed page', print.th);
    check(print.header === 0 && print.footer === 0 && print.nav === 0, 'print hides the header, navigation and footer', print);
    check(JSON.stringify(print.cards) === JSON.stringify(['A chatbot for expecting mothers', 'Clinic records move to tablets']),
      "print keeps the report's case studies", print.cards);
    check(print.after.includes(base + 'case-studies/mothers/'), 'print writes out where each case study lives, in full', print.after);
    check(print.breakInside === 'avoid', 'cards are not split across pages', print.breakInside);
    await page4.screenshot({ path: path.join(SHOTS, 'report-print.png'), fullPage: true });
    const pdf = await page4.pdf({ path: path.join(SHOTS, 'report.pdf'), format: 'A4' });
    check(pdf.length > 1000, 'the report saves as a PDF', pdf.length);
    // The PDF, page by page, as PNGs to look at; and its text, to read.
    const { execFileSync } = require('child_process');
    for (const f of fs.readdirSync(SHOTS)) if (/^report-page-\d+\.png$/.test(f)) fs.unlinkSync(path.join(SHOTS, f));
    execFileSync('pdftoppm', ['-png', '-r', '70', path.join(SHOTS, 'report.pdf'), path.join(SHOTS, 'report-page')]);
    const pngs = fs.readdirSync(SHOTS).filter(f => /^report-page-\d+\.png$/.test(f));
    const text = execFileSync('pdftotext', ['-layout', path.join(SHOTS, 'report.pdf'), '-']).toString();
    check(pngs.length >= 2, 'the printed report has the report, then its appendix, on separate pages', pngs);
    check(/Appendix: Case studies in this report/.test(text) && text.includes('Printed ') && text.includes('Explore fixture'),
      'the PDF carries the appendix heading, the print date and the site name', text.slice(0, 600));
    check(!/<\/learning\/(sector|program|tags)\//.test(text), 'no term link prints its path', text.slice(0, 600));

    const page5 = await context.newPage();
    await page5.goto(base + 'explore/?sector=health');
    await page5.waitForSelector('#explorer:not([hidden])');
    await page5.emulateMedia({ media: 'print' });
    check(await page5.isHidden('.explorer-form'), 'print hides the filters');

    check(outside.length === 0, 'no request left the subpath', outside);
  } finally {
    await browser.close();
    server.close();
  }
  console.log(failures ? `${failures} checks failed` : 'all explorer checks passed');
  process.exit(failures ? 1 : 0);
})().catch(e => { console.error(e); process.exit(1); });
