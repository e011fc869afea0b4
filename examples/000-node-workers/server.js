// Seed 000 (Node/Express field service): "validate worker availability,
// then insert booking_workers" let two managers put one worker on two
// overlapping jobs. Rewritten on slotguard: assign_workers sets a booking's
// workers all or nothing, and refuses (23P01 -> 409) a worker who is already
// on an overlapping active booking, on any resource, however many managers
// click at once. No FOR UPDATE, no Redis, no retry loop of our own.
//
//   DATABASE_URL=postgres://app:app-secret@127.0.0.1:5432/postgres PORT=3000 node server.js
//
//   POST /api/bookings                        {"resource":"acme:van-1","start":"…","end":"…"} -> 201
//   POST /api/bookings/:id/assign-workers     {"workers":[{"worker_id":"acme:ann","role":"primary"}],
//                                              "assignedBy":"manager-1"}  -> 200 | 409 | 404 | 400
//   GET  /api/workers/:worker/schedule?from=&to=                          -> 200 [{bookingId,start,end}]
'use strict';
const { Pool } = require('pg');
const { serve, withRetry } = require('../lib/slotguard-http');

const pool = new Pool({ connectionString: process.env.DATABASE_URL, max: 20 });

serve([
  ['POST', /^\/api\/bookings$/, async (_req, _m, body) => {
    const { rows } = await withRetry(() => pool.query(
      `SELECT id, resource_key, status FROM slotguard.book_slot($1, tstzrange($2::timestamptz, $3::timestamptz))`,
      [body.resource, body.start, body.end]));
    return [201, { id: Number(rows[0].id), resource: rows[0].resource_key, status: rows[0].status }];
  }],
  ['POST', /^\/api\/bookings\/(\d+)\/assign-workers$/, async (_req, m, body) => {
    if (!Array.isArray(body.workers)) return [400, { error: 'workers must be an array' }];
    const workers = body.workers.map((w) => (typeof w === 'string' ? w : w.worker_id));
    // One role per call in slotguard's signature: the seed's per-worker role
    // is kept when all workers share it, else 'mixed'.
    const roles = [...new Set(body.workers.map((w) => (w && w.role) || 'primary'))];
    const { rows } = await withRetry(() => pool.query(
      `SELECT worker, role, status, assigned_by FROM slotguard.assign_workers($1, $2::text[], $3, $4)`,
      [m[1], workers, body.assignedBy ?? null, roles.length === 1 ? roles[0] : 'mixed']));
    return [200, { bookingId: Number(m[1]), workers: rows }];
  }],
  ['GET', /^\/api\/workers\/([^/]+)\/schedule$/, async (req, m) => {
    const q = new URL(req.url, 'http://x').searchParams;
    const { rows } = await pool.query(
      `SELECT booking_id AS "bookingId", lower(during) AS start, upper(during) AS "end", resource_key AS resource
         FROM slotguard.worker_schedule($1, tstzrange($2::timestamptz, $3::timestamptz))`,
      [decodeURIComponent(m[1]), q.get('from') || new Date().toISOString(),
       q.get('to') || new Date(Date.now() + 366 * 86400e3).toISOString()]);
    return [200, rows.map((r) => ({ ...r, bookingId: Number(r.bookingId) }))];
  }],
], pool, 'workers (seed 000)');
