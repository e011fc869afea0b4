#!/usr/bin/env bash
# Stress test of the change feed (API.md §13): WRITERS sessions (default 6)
# run transactions that book, reschedule and cancel, wait a random time
# (0-40 ms) before they end, and roll back one in four (whole, or a
# savepoint); so transactions commit out of seq order all the time. ONE
# consumer polls changes(after => the last seq it processed) as fast as it
# can, like an application would, with small pages (max 7). After the
# writers stop it drains the feed. Passes only if
#   * every change of every committed transaction was seen exactly once
#     (compared as (booking id, event) multisets with what the writers
#     committed), nothing of a rolled-back transaction or savepoint was seen;
#   * the seqs the consumer got were strictly ascending.
# (A consumer reading slotguard.change directly, "seq > last", misses
# changes here within seconds: FEED_CONSUMER_NAIVE=1 shows it.)
# Runs for DURATION seconds (default 25).
set -euo pipefail
cd "$(dirname "$0")/.."
source test/lib/cluster.sh
cluster_start "fsync = off" "max_connections = 50"

cluster_psql <<'SQL'
SET client_min_messages = warning;
CREATE EXTENSION slotguard CASCADE;
SELECT slotguard.enable_change_feed();
SELECT count(*) FROM (SELECT slotguard.upsert_resource('fc:room-' || i, 1000) FROM generate_series(1, 8) i) s;
SQL

WRITERS=${WRITERS:-6} DURATION=${DURATION:-25} /usr/bin/python3 - <<'PY'
import os, random, sys, threading, time, collections
import psycopg

WRITERS = int(os.environ["WRITERS"])
DURATION = float(os.environ["DURATION"])
dsn = "host=127.0.0.1 port=%s user=postgres dbname=postgres" % os.environ["PGPORT"]

committed = collections.Counter()   # (id, event) -> times
rolled_back_ids = set()
lock = threading.Lock()
stop = threading.Event()
errors = []

def writer(n):
    rnd = random.Random(n)
    try:
        with psycopg.connect(dsn, autocommit=True) as conn:
            day = 0
            while not stop.is_set():
                day += 1
                room = "fc:room-%d" % rnd.randint(1, 8)
                base = "2031-01-01 00:00+00"
                start = "('%s'::timestamptz + interval '%d hours' * %d)" % (base, n * 100000 + day, 1)
                ev = []
                undone = set()
                conn.execute("BEGIN")
                bid = conn.execute("SELECT id FROM slotguard.book_slot(%%s, tstzrange(%s, %s + interval '30 minutes'))"
                                   % (start, start), (room,)).fetchone()[0]
                ev.append((bid, "booked"))
                r = rnd.random()
                if r < 0.3:
                    conn.execute("SELECT slotguard.reschedule_booking(%%s, tstzrange(%s + interval '1 hour', %s + interval '2 hours'))"
                                 % (start, start), (bid,))
                    ev.append((bid, "rescheduled"))
                elif r < 0.5:
                    conn.execute("SELECT slotguard.cancel_booking(%s)", (bid,))
                    ev.append((bid, "cancelled"))
                elif r < 0.65:
                    conn.execute("SAVEPOINT s")
                    b2 = conn.execute("SELECT id FROM slotguard.book_slot(%%s, tstzrange(%s + interval '3 hours', %s + interval '4 hours'))"
                                      % (start, start), (room,)).fetchone()[0]
                    conn.execute("ROLLBACK TO SAVEPOINT s")
                    undone.add(b2)
                time.sleep(rnd.random() * 0.04)
                if rnd.random() < 0.25:
                    conn.execute("ROLLBACK")
                    with lock:
                        rolled_back_ids.add(bid)
                        rolled_back_ids.update(undone)
                else:
                    conn.execute("COMMIT")
                    with lock:
                        for e in ev:
                            committed[e] += 1
                        rolled_back_ids.update(undone)
    except Exception as e:
        errors.append("writer %d: %r" % (n, e))
        stop.set()

seen = collections.Counter()
seen_ids = set()
last = 0
short_polls = 0
polls = 0

def poll(conn):
    global last
    q = ("SELECT seq, entity, id, event FROM slotguard.change WHERE seq > %s ORDER BY seq LIMIT 7"
         if os.environ.get("FEED_CONSUMER_NAIVE") else "SELECT seq, entity, id, event FROM slotguard.changes(%s, 7)")
    rows = conn.execute(q, (last,)).fetchall()
    for seq, entity, id_, event in rows:
        if seq <= last:
            raise SystemExit("feed_consumer: FAIL: seq %d after %d (not ascending)" % (seq, last))
        last = seq
        if entity == "booking":
            seen[(int(id_), event)] += 1
            seen_ids.add(int(id_))
    return len(rows)

threads = [threading.Thread(target=writer, args=(i + 1,)) for i in range(WRITERS)]
with psycopg.connect(dsn, autocommit=True) as conn:
    for t in threads:
        t.start()
    t0 = time.time()
    while time.time() - t0 < DURATION and not stop.is_set():
        polls += 1
        if poll(conn) < 7:
            short_polls += 1
    stop.set()
    for t in threads:
        t.join()
    while poll(conn) > 0:
        pass

if errors:
    sys.exit("feed_consumer: FAIL: " + "; ".join(errors))
dups = [k for k, v in seen.items() if v > 1]
missing = committed - seen
extra = seen - committed
bad = seen_ids & rolled_back_ids
print("feed_consumer: %d committed changes, %d seen, %d rolled-back bookings, %d polls (%d short)"
      % (sum(committed.values()), sum(seen.values()), len(rolled_back_ids), polls, short_polls))
if dups:
    sys.exit("feed_consumer: FAIL: seen twice: %r" % dups[:5])
if missing:
    sys.exit("feed_consumer: FAIL: missed %d committed changes, e.g. %r" % (sum(missing.values()), list(missing)[:5]))
if extra or bad:
    sys.exit("feed_consumer: FAIL: saw changes nobody committed: %r %r" % (list(extra)[:5], list(bad)[:5]))
if sum(committed.values()) < 100 or not rolled_back_ids:
    sys.exit("feed_consumer: FAIL: too little happened to mean anything")
print("feed_consumer: OK")
PY
