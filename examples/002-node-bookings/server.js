// Seed 002 (Next.js/Prisma): "check conflicts, then create" let two
// customers book the same venue at the same time. Rewritten on slotguard:
// one call books or refuses atomically; a refusal is 409 with the nearest
// free alternatives (parsed from the error's HINT).
//
//   DATABASE_URL=postgres://app:app-secret@127.0.0.1:5432/postgres PORT=3002 node server.js
//
//   POST   /api/bookings              {"type":"venue:hall","scheduledAt":"2030-05-01T14:00:00Z",
//                                      "durationMinutes":60,"customer":"c-1","holdMinutes":10}
//                                     (header Idempotency-Key: a retry returns the same booking)
//          -> 201 booking | 409 {alternatives:[{start,end}]} | 400
//   POST   /api/bookings/:id/confirm  -> 200 | 404 | 409 (hold expired and slot taken)
//   DELETE /api/bookings/:id          -> 200 (idempotent)
//   GET    /api/free?type=&from=&to=&durationMinutes=   -> 200 [{start,end}]
'use strict';
const { Pool } = require('pg');
const { serve, withRetry } = require('../lib/slotguard-http');

// No session state: every request is one statement (its own transaction), so
// this works unchanged through pgbouncer in transaction pooling mode. `pg`
// sends parameterized queries as unnamed prepared statements (safe there).
const pool = new Pool({ connectionString: process.env.DATABASE_URL, max: 20 });

const booking = (r) => ({
  id: Number(r.id), type: r.resource_key, start: r.lower_, end: r.upper_,
  status: r.status, customer: r.holder, holdExpiresAt: r.hold_expires_at,
});
const COLS = `b.id, b.resource_key, lower(b.during) AS lower_, upper(b.during) AS upper_,
              b.status, b.holder, b.hold_expires_at`;

serve([
  ['POST', /^\/api\/bookings$/, async (req, _m, body) => {
    const start = new Date(body.scheduledAt);
    if (!body.type || isNaN(start) || !(body.durationMinutes > 0)) {
      return [400, { error: 'type, scheduledAt and durationMinutes > 0 are required' }];
    }
    const { rows } = await withRetry(() => pool.query(
      `SELECT ${COLS} FROM slotguard.book_slot(
          resource        => $1,
          during          => tstzrange($2::timestamptz, $2::timestamptz + make_interval(mins => $3)),
          holder          => $4,
          hold            => make_interval(mins => $5),
          idempotency_key => $6) AS b`,
      [body.type, start.toISOString(), body.durationMinutes, body.customer ?? null,
       body.holdMinutes ?? null, req.headers['idempotency-key'] ?? null]));
    return [201, booking(rows[0])];
  }],
  ['POST', /^\/api\/bookings\/(\d+)\/confirm$/, async (_req, m) => {
    const { rows } = await withRetry(() => pool.query(
      `SELECT ${COLS} FROM slotguard.confirm_booking($1) AS b`, [m[1]]));
    return [200, booking(rows[0])];
  }],
  ['DELETE', /^\/api\/bookings\/(\d+)$/, async (_req, m) => {
    const { rows } = await withRetry(() => pool.query(
      `SELECT ${COLS} FROM slotguard.cancel_booking($1) AS b`, [m[1]]));
    return [200, booking(rows[0])];
  }],
  ['GET', /^\/api\/free$/, async (req) => {
    const q = new URL(req.url, 'http://x').searchParams;
    const { rows } = await pool.query(
      `SELECT lower(s) AS start, upper(s) AS "end"
         FROM slotguard.free_slots($1, tstzrange($2::timestamptz, $3::timestamptz), make_interval(mins => $4)) AS s`,
      [q.get('type'), q.get('from'), q.get('to'), Number(q.get('durationMinutes') || 60)]);
    return [200, rows];
  }],
], pool, 'bookings (seed 002)');
