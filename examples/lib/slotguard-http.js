// Shared by the Node examples: slotguard's SQLSTATEs (API.md §6) as HTTP
// answers, the alternatives of a conflict parsed from its HINT, and a retry
// for serialization failures. Plain node:http, one dependency: `pg`.
'use strict';

// HINT of a 23P01: 'Free alternatives: ["2030-01-23 11:00:00+00","2030-01-23 12:00:00+00"), [...).'
// (or 'No free alternative of the same length nearby.'). Each range becomes
// {start, end} in ISO 8601.
function parseAlternatives(hint) {
  const out = [];
  if (!hint) return out;
  const re = /[[(]"?([^",]+?)"?,"?([^")\]]+?)"?[)\]]/g;
  let m;
  while ((m = re.exec(hint)) !== null) {
    out.push({ start: toIso(m[1]), end: toIso(m[2]) });
  }
  return out;
}

function toIso(pgTimestamp) {
  // '2030-01-23 11:00:00+00' -> '2030-01-23T11:00:00.000Z'
  const d = new Date(pgTimestamp.replace(' ', 'T').replace(/([+-]\d\d)$/, '$1:00'));
  return isNaN(d) ? pgTimestamp : d.toISOString();
}

// An error from `pg` -> [status, body].
function pgToHttp(err) {
  const code = err && err.code;
  const body = { error: err && err.message, sqlstate: code };
  if (code === '23P01') {                        // conflict: slot, capacity, worker
    body.detail = err.detail;
    body.alternatives = parseAlternatives(err.hint);
    return [409, body];
  }
  if (code === '55P03') return [409, body];      // claimed by someone else / lock timeout
  if (code === '55000') return [409, body];      // wrong state: cancelled, hold expired
  if (code === '23505') return [409, body];      // duplicate key
  if (code === 'P0002') return [404, body];      // unknown (or another tenant's) booking
  if (code === '42501') return [403, body];      // not allowed (confinement, missing claim)
  if (code === '25006') return [503, body];      // read-only: a standby or read-only transaction
  if (code === '57014') return [504, body];      // statement_timeout / cancel
  if (typeof code === 'string' && code.startsWith('22')) return [400, body]; // bad input
  console.error(err);
  return [500, { error: 'internal error', sqlstate: code }];
}

// Serialization failures and deadlocks roll the whole transaction back:
// running it again is safe. Anything else is the answer.
async function withRetry(fn, attempts = 5) {
  for (let i = 1; ; i++) {
    try {
      return await fn();
    } catch (err) {
      if (i >= attempts || (err.code !== '40001' && err.code !== '40P01')) throw err;
      await new Promise((r) => setTimeout(r, 10 * i));
    }
  }
}

function send(res, status, body) {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

function readJson(req) {
  return new Promise((resolve, reject) => {
    let data = '';
    req.setEncoding('utf8');
    req.on('data', (c) => {
      data += c;
      if (data.length > 1e6) reject(Object.assign(new Error('body too large'), { http: 413 }));
    });
    req.on('end', () => {
      try { resolve(data ? JSON.parse(data) : {}); } catch (e) { reject(Object.assign(e, { http: 400 })); }
    });
    req.on('error', reject);
  });
}

// routes: [[method, /regex/, async (req, match, body) => [status, body]], ...]
function serve(routes, pool, name) {
  const http = require('node:http');
  const server = http.createServer(async (req, res) => {
    const path = new URL(req.url, 'http://x').pathname;
    if (req.method === 'GET' && path === '/healthz') {
      try { await pool.query('SELECT 1'); return send(res, 200, { status: 'ok' }); } catch (e) { return send(res, 503, { error: e.message }); }
    }
    for (const [method, re, handler] of routes) {
      const m = req.method === method && re.exec(path);
      if (!m) continue;
      try {
        const body = method === 'GET' ? {} : await readJson(req);
        const [status, out] = await handler(req, m, body);
        return send(res, status, out);
      } catch (err) {
        if (err.http) return send(res, err.http, { error: err.message });
        const [status, out] = pgToHttp(err);
        return send(res, status, out);
      }
    }
    send(res, 404, { error: 'no such endpoint' });
  });
  const port = Number(process.env.PORT || 3000);
  server.listen(port, '127.0.0.1', () => console.log(`${name}: listening on 127.0.0.1:${port}`));
  return server;
}

module.exports = { parseAlternatives, pgToHttp, withRetry, send, readJson, serve };
