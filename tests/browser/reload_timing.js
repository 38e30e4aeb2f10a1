// Measures what a writer waits for: from saving a case study to the open
// page showing the new text, with `casebook serve` and a real Chromium.
// A measurement, not a test: prints each run and the median.
//
// Usage: node reload_timing.js PAGE_URL FILE_TO_EDIT [RUNS] [body|summary]
//
// A `body` save (the default) adds a line to the text; a `summary` save
// puts the marker in the front matter's summary, which the page shows as
// its lede and every listing of the case study shows on its card.
'use strict';
const { chromium } = require('playwright-core');
const fs = require('fs');

const [URL, FILE, RUNS = '10', EDIT = 'body'] = process.argv.slice(2);
if (EDIT !== 'body' && EDIT !== 'summary') {
  console.error(`the edit is body or summary, not ${EDIT}`);
  process.exit(2);
}
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

(async () => {
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ARGS });
  const page = await browser.newPage();
  await page.goto(URL);
  const original = fs.readFileSync(FILE, 'utf8');
  const times = [];
  try {
    for (let i = 0; i < Number(RUNS); i++) {
      await page.waitForFunction(() => document.documentElement.getAttribute('data-casebook-live') === 'open', null, { timeout: 10000 });
      await page.waitForTimeout(300);
      const marker = `reload-marker-${Date.now()}-${i}`;
      const t0 = Date.now();
      if (EDIT === 'summary') {
        if (!original.includes('\nsummary: ')) throw new Error(`${FILE} has no summary line`);
        fs.writeFileSync(FILE, original.replace('\nsummary: ', `\nsummary: ${marker} `));
      } else {
        fs.writeFileSync(FILE, `${original}\n${marker}\n`);
      }
      await page.waitForFunction(m => document.body.innerText.includes(m), marker, { timeout: 10000, polling: 'raf' });
      const ms = Date.now() - t0;
      times.push(ms);
      console.log(`run ${i + 1}: new text visible after ${ms} ms`);
    }
  } finally {
    fs.writeFileSync(FILE, original);
    await browser.close();
  }
  times.sort((a, b) => a - b);
  console.log(`median: ${times[Math.floor(times.length / 2)]} ms over ${times.length} saves`);
})().catch(e => { console.error(e); process.exit(1); });
