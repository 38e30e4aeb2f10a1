// A small static file server for the browser tests: serves a built site
// under a subpath (`/learning/` by default) and answers 404 anywhere else,
// recording such requests so a test can assert that none left the subpath.
'use strict';
const http = require('http');
const fs = require('fs');
const path = require('path');

const TYPES = { '.html': 'text/html; charset=utf-8', '.css': 'text/css', '.js': 'text/javascript',
  '.json': 'application/json', '.svg': 'image/svg+xml', '.xml': 'application/xml', '.csv': 'text/csv',
  '.ico': 'image/x-icon', '.png': 'image/png', '.jpg': 'image/jpeg', '.txt': 'text/plain' };

function serve(root, prefix = '/learning/') {
  const outside = [];
  const server = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://x');
    if (!url.pathname.startsWith(prefix)) {
      outside.push(url.pathname);
      res.writeHead(404);
      return res.end('outside the subpath');
    }
    let file = path.join(root, decodeURIComponent(url.pathname.slice(prefix.length)));
    if (!file.startsWith(root)) { res.writeHead(403); return res.end(); }
    if (file.endsWith(path.sep) || (fs.existsSync(file) && fs.statSync(file).isDirectory())) file = path.join(file, 'index.html');
    fs.readFile(file, (err, data) => {
      if (err) {
        res.writeHead(404, { 'Content-Type': TYPES['.html'] });
        return res.end(fs.existsSync(path.join(root, '404.html')) ? fs.readFileSync(path.join(root, '404.html')) : 'not found');
      }
      res.writeHead(200, { 'Content-Type': TYPES[path.extname(file)] || 'application/octet-stream' });
      res.end(data);
    });
  });
  return new Promise(resolve => server.listen(0, '127.0.0.1', () => {
    resolve({ server, outside, base: `http://127.0.0.1:${server.address().port}${prefix}` });
  }));
}

module.exports = { serve };
