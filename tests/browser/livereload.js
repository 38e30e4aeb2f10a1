// Live reload, as a writer sees it, in a real headless Chromium.
//
// Usage: node livereload.js CASEBOOK_BINARY SITE_ROOT
//
// Starts `casebook serve` on a free port, opens a case study in two tabs,
// then: edits the file and waits for both tabs to show the new text; breaks
// the front matter and waits for the error overlay (with file and line);
// fixes it and waits for the overlay to go; restarts the server on the same
// port and checks the page reconnects and reloads by itself; changes the
// stylesheet and checks the page reloads in full. Prints timings.
// Exit code 0 when everything held, 1 otherwise.
'use strict';
const { chromium } = require('playwright-core');
const { spawn } = require('child_process');
const fs = require('fs');
const path = require('path');

const [BIN, ROOT] = process.argv.slice(2);
const FILE = path.join(ROOT, 'content/case-studies/chatbot.md');
const OUT = path.join(ROOT, 'preview');
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

function serve(port) {
  return new Promise((resolve, reject) => {
    const child = spawn(BIN, ['serve', '--root', ROOT, '--output', OUT, '--port', String(port)],
      { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } });
    let buf = '';
    const timer = setTimeout(() => reject(new Error('serve did not start: ' + buf)), 20000);
    child.stdout.on('data', d => {
      buf += d;
      const m = buf.match(/Serving the site at (http:\/\/[^\s]+)/);
      if (m) { clearTimeout(timer); resolve({ child, url: m[1] }); }
    });
    child.stderr.on('data', d => { buf += d; });
    child.on('exit', code => reject(new Error(`serve exited with ${code}: ${buf}`)));
  });
}

function edit(from, to) {
  const text = fs.readFileSync(FILE, 'utf8');
  if (!text.includes(from)) throw new Error(`"${from}" not in ${FILE}`);
  fs.writeFileSync(FILE, text.replace(from, to));
}

async function connected(page) {
  await page.waitForFunction(() => document.documentElement.getAttribute('data-casebook-live') === 'open', null, { timeout: 10000 });
}

(async () => {
  let server = await serve(0);
  const port = new URL(server.url).port;
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ARGS });
  const failures = [];
  try {
    const url = server.url + 'case-studies/chatbot/';
    const tabs = [await browser.newPage(), await browser.newPage()];
    const loads = [0, 0];
    tabs.forEach((t, i) => t.on('load', () => loads[i]++));
    for (const t of tabs) { await t.goto(url); await connected(t); }

    // 1. An edit reloads every open tab with the new text.
    let t0 = Date.now();
    edit('Answers arrive in minutes.', 'Answers arrive while you wait.');
    for (const t of tabs) {
      await t.waitForFunction(() => document.body.innerText.includes('Answers arrive while you wait.'), null, { timeout: 10000 });
    }
    console.log(`edit -> both tabs show the new text after ${Date.now() - t0} ms (loads: ${loads.join(', ')})`);
    for (const t of tabs) await connected(t);

    // 2. A broken save shows the error over the last good page.
    t0 = Date.now();
    edit('title: A mental-health chatbot in Gadchiroli', 'title: [unclosed');
    await tabs[0].waitForSelector('#casebook-error', { timeout: 10000 });
    const overlay = await tabs[0].textContent('#casebook-error');
    console.log(`broken save -> overlay after ${Date.now() - t0} ms`);
    if (!overlay.includes('content/case-studies/chatbot.md:2')) failures.push('overlay lacks file and line: ' + overlay);
    if (!overlay.includes('not valid YAML')) failures.push('overlay lacks the message: ' + overlay);
    const heading = await tabs[0].textContent('h1');
    if (heading !== 'A mental-health chatbot in Gadchiroli') failures.push('the last good page is gone: ' + heading);
    const role = await tabs[0].getAttribute('#casebook-error', 'role');
    if (role !== 'alert') failures.push('overlay is not announced (role=alert)');

    // 3. Fixing it removes the overlay.
    t0 = Date.now();
    edit('title: [unclosed', 'title: A mental-health chatbot in Gadchiroli, revised');
    await tabs[0].waitForFunction(() => !document.querySelector('#casebook-error') &&
      document.querySelector('h1').textContent.includes('revised'), null, { timeout: 10000 });
    console.log(`fix -> overlay gone, new title after ${Date.now() - t0} ms`);
    await connected(tabs[0]);

    // 4. The server restarts; the page reconnects and reloads by itself.
    server.child.kill();
    await new Promise(r => server.child.on('exit', r));
    edit('Answers arrive while you wait.', 'Written while the server was down.');
    server = await serve(port);
    t0 = Date.now();
    await tabs[0].waitForFunction(() => document.body.innerText.includes('Written while the server was down.'), null, { timeout: 15000 });
    console.log(`restart -> page reconnected and reloaded after ${Date.now() - t0} ms`);

    // 5. A change to the stylesheet cannot be swapped in: the page reloads.
    const css = path.join(ROOT, 'static/style.css');
    fs.mkdirSync(path.dirname(css), { recursive: true });
    const before = loads[0];
    await connected(tabs[0]);
    fs.writeFileSync(css, 'body { background: rgb(1, 2, 3); }');
    await tabs[0].waitForFunction(() => getComputedStyle(document.body).backgroundColor === 'rgb(1, 2, 3)', null, { timeout: 10000 });
    // The new stylesheet can apply before the reloaded page's `load` event
    // fires (it waits for every image): give the event a moment to come.
    for (let waited = 0; loads[0] <= before && waited < 5000; waited += 50) {
      await new Promise(r => setTimeout(r, 50));
    }
    console.log(`stylesheet change -> full reload (loads ${before} -> ${loads[0]})`);
    if (loads[0] <= before) failures.push('a stylesheet change did not reload the page');
  } catch (e) {
    failures.push(String(e && e.stack || e));
  } finally {
    await browser.close();
    server.child.kill();
  }
  if (failures.length) {
    console.log('FAIL:\n  ' + failures.join('\n  '));
    process.exit(1);
  }
  console.log('OK');
})();
