#!/usr/bin/python3
"""Seed 003 (Node/SQLite cooking school): "read booked, check capacity,
increment" overbooked a class of 10 to 14. Rewritten on slotguard in Python
(Debian's python3-psycopg, standard library HTTP server): one statement books
the seats or refuses; the class can never go above its capacity.

    DATABASE_URL=postgresql://app:app-secret@127.0.0.1:5432/postgres PORT=3003 ./server.py

    POST /api/confirm-booking  {"classId": 7, "participants": 2, "customer": "c-1"}
         -> 201 booking | 409 class full (alternatives: other times, if any)
            | 404 no such class | 400 bad input
    GET  /api/classes/<id>     -> 200 {"capacity":10,"booked":8,"available":2}
"""
import json
import os
import queue
import re
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import psycopg

DSN = os.environ.get("DATABASE_URL", "")
ALTERNATIVE = re.compile(r'[\[(]"?([^",]+?)"?,"?([^")\]]+?)"?[)\]]')


class Pool:
    """A tiny connection pool (Debian has no psycopg_pool for 3.1 here).

    prepare_threshold=None: psycopg 3 prepares a statement on the server
    after 5 executions by default; behind a transaction pooler the next
    execution may land on a server connection that never saw it."""

    def __init__(self, size):
        self.free = queue.LifoQueue()
        for _ in range(size):
            self.free.put(None)

    def run(self, sql, params):
        conn = self.free.get()
        try:
            if conn is None or conn.closed:
                conn = psycopg.connect(DSN, autocommit=True, prepare_threshold=None)
            for attempt in range(5):
                try:
                    with conn.cursor() as cur:
                        cur.execute(sql, params)
                        return cur.fetchall(), [d.name for d in cur.description]
                except psycopg.errors.SerializationFailure:
                    if attempt == 4:
                        raise
                    time.sleep(0.01 * (attempt + 1))
        except psycopg.OperationalError:
            conn = None
            raise
        finally:
            self.free.put(conn)


POOL = Pool(10)


def http_error(err):
    """slotguard's SQLSTATEs (API.md §6) as (status, body)."""
    diag = err.diag
    code = err.sqlstate or ""
    body = {"error": diag.message_primary, "sqlstate": code}
    if code == "23P01":
        body["alternatives"] = [
            {"start": a, "end": b} for a, b in ALTERNATIVE.findall(diag.message_hint or "")
        ]
        return 409, body
    if code in ("55P03", "55000", "23505"):
        return 409, body
    if code == "P0002":
        return 404, body
    if code == "42501":
        return 403, body
    if code.startswith("22"):
        return 400, body
    print(f"error: {err!r}", file=sys.stderr)
    return 500, {"error": "internal error", "sqlstate": code}


def confirm_booking(body):
    class_id, participants = body.get("classId"), body.get("participants", 1)
    if not isinstance(class_id, int) or not isinstance(participants, int):
        return 400, {"error": "classId and participants must be integers"}
    # The class's time comes from the application's table; the seats are
    # taken by book_slot in the same statement: nothing to race between.
    rows, cols = POOL.run(
        """SELECT b.id, b.seats, b.status, b.holder
             FROM classes c,
                  slotguard.book_slot('cooking:class-' || c.id, tstzrange(c.starts_at, c.ends_at),
                                      seats => %s, holder => %s) AS b
            WHERE c.id = %s""",
        (participants, body.get("customer"), class_id),
    )
    if not rows:
        return 404, {"error": f"no class {class_id}"}
    return 201, dict(zip(cols, rows[0]))


def class_info(class_id):
    rows, _ = POOL.run(
        """SELECT c.capacity, c.capacity - coalesce(min(a.free_seats), c.capacity)
             FROM classes c
             LEFT JOIN LATERAL slotguard.availability('cooking:class-' || c.id,
                                                       tstzrange(c.starts_at, c.ends_at)) a ON true
            WHERE c.id = %s GROUP BY c.capacity""",
        (class_id,),
    )
    if not rows:
        return 404, {"error": f"no class {class_id}"}
    capacity, booked = rows[0]
    return 200, {"capacity": capacity, "booked": booked, "available": capacity - booked}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def answer(self, status, body):
        data = json.dumps(body, default=str).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def handle_call(self, fn, *args):
        try:
            self.answer(*fn(*args))
        except psycopg.Error as err:
            if err.sqlstate:
                self.answer(*http_error(err))
            else:
                print(f"error: {err!r}", file=sys.stderr)
                self.answer(503, {"error": "database unavailable"})

    def do_POST(self):
        if self.path != "/api/confirm-booking":
            return self.answer(404, {"error": "no such endpoint"})
        length = int(self.headers.get("Content-Length") or 0)
        if length > 1_000_000:
            return self.answer(413, {"error": "body too large"})
        try:
            body = json.loads(self.rfile.read(length) or b"{}")
        except ValueError:
            return self.answer(400, {"error": "bad JSON"})
        if not isinstance(body, dict):
            return self.answer(400, {"error": "a JSON object, please"})
        self.handle_call(confirm_booking, body)

    def do_GET(self):
        if self.path == "/healthz":
            return self.handle_call(lambda: (200, {"status": "ok"}) if POOL.run("SELECT 1", ()) else None)
        m = re.fullmatch(r"/api/classes/(\d+)", self.path)
        if not m:
            return self.answer(404, {"error": "no such endpoint"})
        self.handle_call(class_info, int(m.group(1)))

    def log_message(self, fmt, *args):
        pass


if __name__ == "__main__":
    port = int(os.environ.get("PORT", "3003"))
    ThreadingHTTPServer.request_queue_size = 128  # the default backlog (5) drops a burst
    ThreadingHTTPServer.daemon_threads = True
    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    print(f"classes (seed 003): listening on 127.0.0.1:{port}", flush=True)
    server.serve_forever()
