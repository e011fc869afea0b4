#!/usr/bin/env python3
"""A tiny server for the live demo page (docs/feed.md): one resource's day,
updated as bookings change, through slotguard's change feed.

Python standard library plus psycopg 3 (Debian: python3-psycopg), no framework.

    python3 examples/live-page/server.py --dsn "host=... dbname=..." \
        --resource acme:room-1 --day 2031-01-01 --port 8080

GET /            the page (index.html next to this file)
GET /api/day     the resource's live bookings that day, as JSON
GET /events      Server-Sent Events: one "change" event per slotguard.change
                 row of the resource's tenant, in seq order

One thread follows the feed: LISTEN slotguard_changes, and on every
notification (or every second, for rows held back behind a transaction
that was still open when the notification came) changes(after => the last
seq it passed on). The role in --dsn needs EXECUTE on slotguard.changes and
SELECT on slotguard.booking (or is slotguard's owner).
"""
import argparse
import json
import os
import queue
import select
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import psycopg

HERE = os.path.dirname(os.path.abspath(__file__))


class Feed:
    """Follows slotguard.changes() and hands each row to every subscriber."""

    def __init__(self, dsn, tenant):
        self.dsn = dsn
        self.tenant = tenant
        self.subscribers = set()
        self.lock = threading.Lock()

    def subscribe(self):
        q = queue.Queue()
        with self.lock:
            self.subscribers.add(q)
        return q

    def unsubscribe(self, q):
        with self.lock:
            self.subscribers.discard(q)

    def run(self):
        with psycopg.connect(self.dsn, autocommit=True) as conn:
            conn.execute("LISTEN slotguard_changes")
            # Start at the newest change: the page loads the day itself.
            last = conn.execute("SELECT coalesce(max(seq), 0) FROM slotguard.changes(0, 2147483647)").fetchone()[0]
            while True:
                while True:
                    rows = conn.execute(
                        "SELECT seq, tenant, entity, id, event, at, data FROM slotguard.changes(%s, 1000)",
                        (last,)).fetchall()
                    for seq, tenant, entity, id_, event, at, data in rows:
                        last = seq
                        if tenant != self.tenant:
                            continue
                        msg = json.dumps({"seq": seq, "entity": entity, "id": id_, "event": event,
                                          "at": at.isoformat(), "data": data})
                        with self.lock:
                            for q in self.subscribers:
                                q.put(msg)
                    if len(rows) < 1000:
                        break
                # Sleep until a NOTIFY arrives (or a second passes).
                select.select([conn.pgconn.socket], [], [], 1.0)
                conn.pgconn.consume_input()
                while conn.pgconn.notifies() is not None:
                    pass


def make_handler(args, feed):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, fmt, *a):
            pass

        def send(self, code, ctype, body):
            self.send_response(code)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self):
            if self.path == "/":
                with open(os.path.join(HERE, "index.html"), "rb") as f:
                    self.send(200, "text/html; charset=utf-8", f.read())
            elif self.path == "/api/day":
                with psycopg.connect(args.dsn, autocommit=True) as conn:
                    rows = conn.execute(
                        """SELECT id, lower(during), upper(during), status, holder FROM slotguard.booking
                           WHERE resource_key = %s AND status IN ('held', 'confirmed')
                             AND during && tstzrange(%s::date::timestamptz, %s::date::timestamptz + interval '1 day')
                           ORDER BY lower(during), id""", (args.resource, args.day, args.day)).fetchall()
                body = {"resource": args.resource, "day": args.day,
                        "bookings": [{"id": r[0], "from": r[1].isoformat(), "to": r[2].isoformat(),
                                      "status": r[3], "holder": r[4]} for r in rows]}
                self.send(200, "application/json", json.dumps(body).encode())
            elif self.path == "/events":
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Cache-Control", "no-store")
                self.end_headers()
                q = feed.subscribe()
                try:
                    self.wfile.write(b": connected\n\n")
                    self.wfile.flush()
                    while True:
                        try:
                            msg = q.get(timeout=15)
                            self.wfile.write(b"event: change\ndata: " + msg.encode() + b"\n\n")
                        except queue.Empty:
                            self.wfile.write(b": keep-alive\n\n")
                        self.wfile.flush()
                except (BrokenPipeError, ConnectionResetError):
                    pass
                finally:
                    feed.unsubscribe(q)
            else:
                self.send(404, "text/plain", b"not found\n")

    return Handler


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--dsn", default=os.environ.get("DATABASE_URL", ""))
    p.add_argument("--resource", required=True)
    p.add_argument("--day", required=True, help="YYYY-MM-DD (UTC)")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8080)
    args = p.parse_args()
    tenant = args.resource.split(":", 1)[0]
    feed = Feed(args.dsn, tenant)
    threading.Thread(target=feed.run, daemon=True).start()
    server = ThreadingHTTPServer((args.host, args.port), make_handler(args, feed))
    server.daemon_threads = True
    print("live page on http://%s:%d/" % (args.host, args.port), flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
