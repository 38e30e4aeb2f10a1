// Lighthouse scores of a built site served under /learning/, with Debian's
// Chromium, fully offline: accessibility, best practices and SEO must be
// 100 on every page tried, performance at least 95 (it is simulated on a
// shared machine, so it gets a little room).
//
// Usage: node lighthouse.js OUTPUT_DIR REPORT_DIR
//
// Pages: home, a case study, a report, a term page, the explorer and the
// outcomes page on a phone (Lighthouse's default, a throttled Moto G), and
// the home page and the case study on a desktop. Each page's JSON report
// goes to REPORT_DIR/<page>-<form>.json; a failing audit is printed with
// its title so the cause is in the test's output.
'use strict';
const fs = require('fs');
const path = require('path');
const { serve } = require('./static-server');

const [OUT, REPORTS] = process.argv.slice(2);
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const CATEGORIES = ['performance', 'accessibility', 'best-practices', 'seo'];
const FLOOR = { performance: 95, accessibility: 100, 'best-practices': 100, seo: 100 };

function firstDir(dir) {
  return fs.readdirSync(path.join(OUT, dir))
    .filter(d => d !== 'page' && fs.existsSync(path.join(OUT, dir, d, 'index.html'))).sort()[0];
}

(async () => {
  const { default: lighthouse } = await import('lighthouse');
  const { default: desktop } = await import('lighthouse/core/config/desktop-config.js');
  const { launch } = await import('chrome-launcher');
  fs.mkdirSync(REPORTS, { recursive: true });
  const { server, outside, base } = await serve(OUT);
  const chrome = await launch({ chromePath: '/usr/bin/chromium', chromeFlags: FLAGS, logLevel: 'silent' });
  const pages = {
    home: '',
    'case-study': `case-studies/${firstDir('case-studies')}/`,
    report: `reports/${firstDir('reports')}/`,
    term: `sector/${firstDir('sector')}/`,
    explore: 'explore/',
    outcomes: 'outcomes/',
  };
  const runs = Object.keys(pages).map(name => [name, 'mobile'])
    .concat([['home', 'desktop'], ['case-study', 'desktop']]);
  let failures = 0;
  console.log(`${'page'.padEnd(40)} ${'form'.padEnd(8)} perf a11y   bp  seo`);
  for (const [name, form] of runs) {
    const url = base + pages[name];
    const result = await lighthouse(url, {
      port: chrome.port, output: 'json', logLevel: 'error', onlyCategories: CATEGORIES,
    }, form === 'desktop' ? desktop : undefined);
    const lhr = result.lhr;
    fs.writeFileSync(path.join(REPORTS, `${name}-${form}.json`), result.report);
    if (lhr.runtimeError) {
      failures++;
      console.log(`FAIL ${name} ${form}: ${lhr.runtimeError.code} ${lhr.runtimeError.message}`);
      continue;
    }
    const score = c => Math.round((lhr.categories[c].score || 0) * 100);
    console.log(`${('/' + pages[name]).padEnd(40)} ${form.padEnd(8)} ${CATEGORIES.map(c => String(score(c)).padStart(4)).join(' ')}`);
    for (const c of CATEGORIES) {
      if (score(c) >= FLOOR[c]) continue;
      failures++;
      console.log(`FAIL ${name} ${form}: ${c} ${score(c)} < ${FLOOR[c]}`);
      for (const ref of lhr.categories[c].auditRefs) {
        const a = lhr.audits[ref.id];
        if (ref.weight > 0 && a.score !== null && a.score < 1) {
          console.log(`    ${a.id}: ${a.title} ${a.displayValue || ''}`);
        }
      }
    }
  }
  await chrome.kill();
  server.close();
  // Lighthouse's SEO audit asks for /robots.txt at the origin's root
  // itself; the site under /learning/ cannot own that file.
  const left = [...new Set(outside)].filter(p => p !== '/robots.txt');
  if (left.length) {
    failures++;
    console.log('FAIL requests left the subpath: ' + JSON.stringify(left));
  }
  if (failures) {
    console.log(`${failures} Lighthouse check(s) failed`);
    process.exit(1);
  }
  console.log('all Lighthouse checks passed');
})().catch(e => { console.error(e); process.exit(1); });
