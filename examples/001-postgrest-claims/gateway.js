// A PostgREST-shaped RPC gateway, ~100 lines, for seed 001 (Supabase). It
// does per request exactly what PostgREST does, so the same database setup
// (setup.sql) works behind real PostgREST/Supabase:
//
//   BEGIN;
//   SELECT set_config('role', <jwt.role>, true),               -- SET LOCAL ROLE
//          set_config('request.jwt.claims', <claims>, true);   -- SET LOCAL
//   SELECT * FROM slotguard.<fn>(arg => $1, ...);
//   COMMIT;
//
// Everything is transaction-local, so a transaction pooler (pgbouncer
// pool_mode=transaction) can hand the next request another server
// connection, and no claim outlives its request.
//
//   DATABASE_URL=postgres://authenticator:authenticator-secret@127.0.0.1:5432/postgres \
//   JWT_SECRET=... PORT=3001 node gateway.js
//
//   POST /rpc/book_slot        {"resource":"clinic-a:dr-smith","during":"[2030-03-04 14:00+00,2030-03-04 15:00+00)","hold":"15 minutes"}
//   POST /rpc/confirm_booking  {"booking_id": 12}
//   POST /rpc/cancel_booking   {"booking_id": 12}
//   POST /rpc/free_slots       {"resource":"…","search":"[…)","duration":"1 hour"}
//   header Authorization: Bearer <HS256 JWT with role, tenant, sub>
'use strict';
const crypto = require('node:crypto');
const { Pool } = require('pg');
const { serve } = require('../lib/slotguard-http');

const pool = new Pool({ connectionString: process.env.DATABASE_URL, max: 20 });
const SECRET = process.env.JWT_SECRET || '';
if (SECRET.length < 16) throw new Error('JWT_SECRET (16+ characters) is required');

// The functions exposed, with the status of a success (PostgREST answers
// 200 to every RPC; 201 for a new booking reads better to the seed's app).
const RPC = {
  book_slot: 201, try_book_slot: 200, confirm_booking: 200, cancel_booking: 200,
  reschedule_booking: 200, free_slots: 200, availability: 200,
};
const ROLES = new Set(['anon', 'authenticated', 'staff']);

function b64url(buf) { return Buffer.from(buf).toString('base64url'); }

// HS256 only; exp honoured. Returns the claims, or throws {http: 401}.
function verify(header) {
  const unauthorized = (why) => Object.assign(new Error(why), { http: 401 });
  if (!header) return { role: 'anon' };
  const m = /^Bearer ([\w-]+)\.([\w-]+)\.([\w-]+)$/.exec(header);
  if (!m) throw unauthorized('malformed token');
  const head = JSON.parse(Buffer.from(m[1], 'base64url'));
  if (head.alg !== 'HS256') throw unauthorized('HS256 tokens only');
  const want = b64url(crypto.createHmac('sha256', SECRET).update(`${m[1]}.${m[2]}`).digest());
  if (want.length !== m[3].length || !crypto.timingSafeEqual(Buffer.from(want), Buffer.from(m[3]))) {
    throw unauthorized('bad signature');
  }
  const claims = JSON.parse(Buffer.from(m[2], 'base64url'));
  if (claims.exp && claims.exp < Date.now() / 1000) throw unauthorized('token expired');
  return claims;
}

async function rpc(req, m, body) {
  const fn = m[1];
  if (!(fn in RPC)) return [404, { error: `no function ${fn}` }];
  const claims = verify(req.headers.authorization);
  const role = claims.role || 'anon';
  if (!ROLES.has(role)) return [401, { error: `role ${role} is not served` }];
  const names = Object.keys(body);
  if (!names.every((n) => /^[a-z_][a-z0-9_]*$/.test(n))) return [400, { error: 'bad argument name' }];
  const args = names.map((n, i) => `${n} => $${i + 1}`).join(', ');
  const values = names.map((n) => (body[n] !== null && typeof body[n] === 'object' ? JSON.stringify(body[n]) : body[n]));
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query(
      "SELECT set_config('role', $1, true), set_config('request.jwt.claims', $2, true)",
      [role, JSON.stringify(claims)]);
    const { rows } = await client.query(`SELECT * FROM slotguard.${fn}(${args})`, values);
    await client.query('COMMIT');
    return [RPC[fn], rows.length === 1 && !fn.startsWith('free') ? rows[0] : rows];
  } catch (err) {
    await client.query('ROLLBACK').catch(() => {});
    throw err;
  } finally {
    client.release();
  }
}

serve([['POST', /^\/rpc\/([a-z_]+)$/, rpc]], pool, 'rpc gateway (seed 001)');
