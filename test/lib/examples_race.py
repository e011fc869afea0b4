#!/usr/bin/python3
"""The seeds' races against the example services (called by test/examples.sh).

    examples_race.py SCENARIO ROUND BASE_URL [extra...]

Each scenario fires its requests all at once (threads released together by a
barrier), checks the HTTP answers, and checks the database as its owner
(OWNER_DSN) — the HTTP answers alone could lie. Exit status 1 on the first
failed check. Keys carry ROUND, so the direct and the pgbouncer rounds do not
see each other's rows.
"""
import base64
import hashlib
import hmac
import http.client
import json
import os
import sys
import threading
import urllib.parse

import psycopg

OWNER_DSN = os.environ["OWNER_DSN"]


def fail(msg):
    print(f"examples: FAIL: {msg}", file=sys.stderr)
    sys.exit(1)


def request(base, method, path, body=None, headers=None):
    u = urllib.parse.urlsplit(base)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=120)
    data = None if body is None else json.dumps(body)
    h = {"Content-Type": "application/json", **(headers or {})}
    conn.request(method, path, body=data, headers=h)
    r = conn.getresponse()
    text = r.read().decode()
    conn.close()
    try:
        return r.status, json.loads(text) if text else None
    except ValueError:
        return r.status, text


def race(base, calls):
    """calls: [(method, path, body, headers)], all sent at the same moment."""
    results = [None] * len(calls)
    barrier = threading.Barrier(len(calls))

    def one(i, call):
        barrier.wait()
        try:
            results[i] = request(base, *call)
        except Exception as e:  # noqa: BLE001 - reported as a result
            results[i] = (0, repr(e))

    threads = [threading.Thread(target=one, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def statuses(results):
    out = {}
    for s, _ in results:
        out[s] = out.get(s, 0) + 1
    return out


def expect_counts(what, results, want):
    got = statuses(results)
    if got != want:
        bad = [r for r in results if r[0] not in want or r[0] >= 500 or r[0] == 0][:3]
        fail(f"{what}: status counts {got}, want {want}; e.g. {bad}")
    print(f"examples: {what}: {got}")


def db(sql, params=()):
    with psycopg.connect(OWNER_DSN, autocommit=True) as c:
        return c.execute(sql, params).fetchall()


def check_alternatives(what, results, taken_start, taken_end):
    for s, body in results:
        if s != 409:
            continue
        alts = body.get("alternatives") if isinstance(body, dict) else None
        if not alts:
            fail(f"{what}: a 409 without alternatives: {body}")
        for a in alts:
            if not (a["end"] <= taken_start or a["start"] >= taken_end):
                fail(f"{what}: alternative {a} overlaps the taken slot")
    print(f"examples: {what}: every 409 carries alternatives, none overlapping the taken slot")


def slot_race(what, results, start, end):
    expect_counts(what, results, {201: 1, 409: len(results) - 1})
    check_alternatives(what, results, start, end)


def hhmm(minutes):
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


# --- seed 000: one worker, twenty overlapping jobs, twenty managers ---------
def seed000(rnd, base):
    n = 20
    ids = []
    for i in range(n):  # 10:00+2i .. 11:00+2i (i < 20): every two of them overlap
        s, b = request(base, "POST", "/api/bookings", {
            "resource": f"acme-{rnd}:van-{i}",
            "start": f"2030-04-01T{hhmm(600 + 2 * i)}:00Z", "end": f"2030-04-01T{hhmm(660 + 2 * i)}:00Z"})
        if s != 201:
            fail(f"seed000: creating booking {i}: {s} {b}")
        ids.append(b["id"])
    worker = f"acme-{rnd}:ann"
    results = race(base, [("POST", f"/api/bookings/{bid}/assign-workers",
                           {"workers": [{"worker_id": worker, "role": "primary"}],
                            "assignedBy": f"manager-{k}"}, None)
                          for k, bid in enumerate(ids)])
    expect_counts("seed000 worker race (20 managers, 20 overlapping jobs)", results, {200: 1, 409: n - 1})
    s, sched = request(base, "GET", f"/api/workers/{urllib.parse.quote(worker)}/schedule"
                       "?from=2030-04-01T00:00:00Z&to=2030-04-02T00:00:00Z")
    if s != 200 or len(sched) != 1:
        fail(f"seed000: the worker's schedule: {s} {sched}")
    rows = db("""SELECT count(*) FROM slotguard.assignment a JOIN slotguard.assignment b
                   ON a.worker = b.worker AND a.booking_id < b.booking_id
                  JOIN slotguard.booking x ON x.id = a.booking_id JOIN slotguard.booking y ON y.id = b.booking_id
                 WHERE a.worker = %s AND a.status = 'active' AND b.status = 'active'
                   AND x.status <> 'cancelled' AND y.status <> 'cancelled' AND x.during && y.during""", (worker,))
    if rows[0][0] != 0:
        fail(f"seed000: the worker is on {rows[0][0]} overlapping pairs")
    # A job that overlaps nothing: the worker may take it (no false refusal).
    s, b = request(base, "POST", "/api/bookings", {"resource": f"acme-{rnd}:van-0",
                   "start": "2030-04-02T10:00:00Z", "end": "2030-04-02T11:00:00Z"})
    s2, b2 = request(base, "POST", f"/api/bookings/{b['id']}/assign-workers", {"workers": [worker]})
    if s2 != 200:
        fail(f"seed000: a non-overlapping job refused: {s2} {b2}")
    s3, b3 = request(base, "POST", "/api/bookings/999999999/assign-workers", {"workers": [worker]})
    s4, b4 = request(base, "POST", f"/api/bookings/{b['id']}/assign-workers", {"workers": [worker, worker]})
    if (s3, s4) != (404, 400):
        fail(f"seed000: unknown booking / duplicate worker: {s3} {b3} / {s4} {b4}")
    print("examples: seed000: one worker on exactly one of the overlapping jobs; 404 and 400 mapped")


# --- seed 001: PostgREST-style, 20 clients of one practice, one slot --------
def jwt(claims):
    secret = os.environ["JWT_SECRET"].encode()
    enc = lambda o: base64.urlsafe_b64encode(json.dumps(o).encode()).rstrip(b"=")  # noqa: E731
    head_payload = enc({"alg": "HS256", "typ": "JWT"}) + b"." + enc(claims)
    sig = base64.urlsafe_b64encode(hmac.new(secret, head_payload, hashlib.sha256).digest()).rstrip(b"=")
    return "Bearer " + (head_payload + b"." + sig).decode()


def seed001(rnd, base):
    res = f"clinic-a:dr-{rnd}"
    during = "[2030-03-04 14:00+00,2030-03-04 15:00+00)"
    auth = lambda sub, tenant="clinic-a", role="authenticated": {  # noqa: E731
        "Authorization": jwt({"role": role, "sub": sub, "tenant": tenant})}
    results = race(base, [("POST", "/rpc/book_slot", {"resource": res, "during": during},
                           auth(f"client-{i}")) for i in range(20)])
    slot_race("seed001 20 clients, one slot (PostgREST-style)", results,
              "2030-03-04T14:00:00.000Z", "2030-03-04T15:00:00.000Z")
    winner = next(b for s, b in results if s == 201)
    if not winner["holder"].startswith("client-"):
        fail(f"seed001: the booking's holder is not the client from the JWT: {winner}")
    # Hold, then confirm in a second request (another transaction, and through
    # pgbouncer likely another server connection).
    s, held = request(base, "POST", "/rpc/book_slot", {"resource": res, "hold": "15 minutes",
                      "during": "[2030-03-05 14:00+00,2030-03-05 15:00+00)"}, auth("client-h"))
    if s != 201 or held["status"] != "held":
        fail(f"seed001: hold: {s} {held}")
    s, other = request(base, "POST", "/rpc/confirm_booking", {"booking_id": held["id"]}, auth("client-x"))
    if s != 404:
        fail(f"seed001: another client confirming the hold: {s} {other}")
    s, conf = request(base, "POST", "/rpc/confirm_booking", {"booking_id": held["id"]}, auth("client-h"))
    if s != 200 or conf["status"] != "confirmed":
        fail(f"seed001: confirm in a second request: {s} {conf}")
    s, b = request(base, "POST", "/rpc/cancel_booking", {"booking_id": held["id"]}, auth("client-h", "clinic-b"))
    if s != 404:
        fail(f"seed001: another practice cancelling: {s} {b}")
    # A token without the tenant claim, right after many requests with one:
    # nothing of theirs may linger on a (pooled) server connection.
    no_tenant = {"Authorization": jwt({"role": "authenticated", "sub": "client-1"})}
    results = race(base, [("POST", "/rpc/book_slot", {"resource": res,
                           "during": "[2030-03-06 14:00+00,2030-03-06 15:00+00)"}, no_tenant)] * 10)
    expect_counts("seed001 no tenant claim (10 at once)", results, {403: 10})
    s, b = request(base, "POST", "/rpc/book_slot", {"resource": res, "during": during})
    if s != 403:
        fail(f"seed001: anon booking: {s} {b}")
    s, b = request(base, "POST", "/rpc/free_slots", {"resource": res, "duration": "1 hour",
                   "search": "[2030-03-04 09:00+00,2030-03-04 17:00+00)"})
    if s != 200 or len(b) != 7:
        fail(f"seed001: anon free slots (want 7 of 8 hours): {s} {b}")
    print("examples: seed001: hold -> confirm in two requests; other client 404; other practice 404; "
          "no claim 403; anon sees free time only")


# --- seed 002: 20 customers, one venue slot; hold then confirm -------------
def seed002(rnd, base):
    venue = f"venue-{rnd}:hall"
    body = lambda c: {"type": venue, "scheduledAt": "2030-05-01T14:00:00Z",  # noqa: E731
                      "durationMinutes": 60, "customer": c}
    results = race(base, [("POST", "/api/bookings", body(f"c-{i}"), None) for i in range(20)])
    slot_race("seed002 20 customers, one slot", results, "2030-05-01T14:00:00.000Z", "2030-05-01T15:00:00.000Z")
    n = db("SELECT count(*) FROM slotguard.booking WHERE resource_key = %s AND status <> 'cancelled'", (venue,))[0][0]
    if n != 1:
        fail(f"seed002: {n} active bookings for the slot")
    # Hold -> confirm in separate requests (separate transactions).
    hold = {"type": venue, "scheduledAt": "2030-05-02T14:00:00Z", "durationMinutes": 60, "holdMinutes": 10}
    s, h = request(base, "POST", "/api/bookings", hold, {"Idempotency-Key": f"k-{rnd}"})
    s2, h2 = request(base, "POST", "/api/bookings", hold, {"Idempotency-Key": f"k-{rnd}"})
    if s != 201 or h["status"] != "held" or s2 != 201 or h2["id"] != h["id"]:
        fail(f"seed002: hold / idempotent retry: {s} {h} / {s2} {h2}")
    results = race(base, [("POST", "/api/bookings", {**hold, "holdMinutes": None}, None)] * 5)
    expect_counts("seed002 5 bookings against a live hold", results, {409: 5})
    s, c = request(base, "POST", f"/api/bookings/{h['id']}/confirm")
    if s != 200 or c["status"] != "confirmed":
        fail(f"seed002: confirm: {s} {c}")
    s, c = request(base, "POST", "/api/bookings/999999999/confirm")
    s2, c2 = request(base, "POST", "/api/bookings", {**hold, "durationMinutes": -5})
    if (s, s2) != (404, 400):
        fail(f"seed002: unknown booking / bad duration: {s} {c} / {s2} {c2}")
    print("examples: seed002: hold -> confirm in two requests; idempotent retry; 404 and 400 mapped")


# --- seed 003: a class of 10 ------------------------------------------------
def seed003(rnd, base, class_a, class_b):
    class_a, class_b = int(class_a), int(class_b)
    s, b = request(base, "POST", "/api/confirm-booking", {"classId": class_a, "participants": 8, "customer": "group"})
    if s != 201:
        fail(f"seed003: 8 seats: {s} {b}")
    # The seed's test: capacity 10, 8 booked, parties of 2 at once.
    results = race(base, [("POST", "/api/confirm-booking", {"classId": class_a, "participants": 2,
                           "customer": f"c-{i}"}, None) for i in range(10)])
    expect_counts("seed003 10 parties of 2 for the last 2 seats", results, {201: 1, 409: 9})
    # 30 parties of 1-3 on an empty class: never above 10, and exactly full
    # unless what is left is smaller than every refused party.
    parties = [1 + i % 3 for i in range(30)]
    results = race(base, [("POST", "/api/confirm-booking", {"classId": class_b, "participants": p,
                           "customer": f"p-{i}"}, None) for i, p in enumerate(parties)])
    won = sum(p for p, (s, _) in zip(parties, results) if s == 201)
    refused = [p for p, (s, _) in zip(parties, results) if s == 409]
    if any(s not in (201, 409) for s, _ in results):
        fail(f"seed003: unexpected answers {statuses(results)}")
    if won > 10 or (refused and min(refused) <= 10 - won):
        fail(f"seed003: {won} seats sold; refused parties {refused}")
    for cls, want in ((class_a, 10), (class_b, won)):
        s, info = request(base, "GET", f"/api/classes/{cls}")
        seats = db("SELECT coalesce(sum(seats), 0) FROM slotguard.booking WHERE resource_key = %s "
                   "AND status = 'confirmed'", (f"cooking:class-{cls}",))[0][0]
        if s != 200 or info["booked"] != want or seats != want:
            fail(f"seed003: class {cls}: {s} {info}, {seats} seats in the database, want {want}")
    s, b = request(base, "POST", "/api/confirm-booking", {"classId": 987654, "participants": 1})
    s2, b2 = request(base, "POST", "/api/confirm-booking", {"classId": class_b, "participants": 0})
    if (s, s2) != (404, 400):
        fail(f"seed003: unknown class / 0 participants: {s} {b} / {s2} {b2}")
    print(f"examples: seed003: class of 10 never above 10 (random parties sold {won}); 404 and 400 mapped")


# --- seed 004: fifty drivers, one order -------------------------------------
def seed004(rnd, base):
    key = f"shop-{rnd}:order-1"
    s, b = request(base, "POST", "/api/orders", {"key": key})
    if s != 201:
        fail(f"seed004: add order: {s} {b}")
    path = f"/api/driver/orders/{urllib.parse.quote(key)}/assign"
    results = race(base, [("POST", path, None, {"X-Driver-Id": str(d)}) for d in range(50)])
    expect_counts("seed004 50 drivers, one order", results, {200: 1, 409: 49})
    winner = next(b for s, b in results if s == 200)["claimant"]
    s, b = request(base, "POST", path, None, {"X-Driver-Id": winner.removeprefix("driver-")})
    if s != 200 or b["claimant"] != winner:
        fail(f"seed004: the winner's retry: {s} {b}")
    rows = db("SELECT status, claimant FROM slotguard.orders WHERE key = %s", (key,))
    if rows != [("claimed", winner)]:
        fail(f"seed004: order row {rows}, want claimed by {winner}")
    s, b = request(base, "POST", f"/api/driver/orders/shop-{rnd}:nope/assign", None, {"X-Driver-Id": "1"})
    s2, b2 = request(base, "POST", "/api/orders", {"key": key})
    if (s, s2) != (404, 409):
        fail(f"seed004: unknown order / duplicate key: {s} {b} / {s2} {b2}")
    print("examples: seed004: one claim, the winner's retry gets it back; 404 and 409 mapped")


if __name__ == "__main__":
    scenario, rnd, base, *extra = sys.argv[1:]
    globals()[scenario](rnd, base, *extra)
