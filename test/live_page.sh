#!/usr/bin/env bash
# The live demo page (examples/live-page, docs/feed.md) in a real browser:
# a cluster with the change feed on, the page's server, and headless
# Chromium (Debian's /usr/bin/chromium) showing the page. Two bookings are
# then made from SQL; the SAME page load (no reload: a token the page was
# given at load time must still be there) must show both, read from the
# DOM through the DevTools protocol. A screenshot is kept for the record
# when LIVE_PAGE_SCREENSHOT names a file.
set -euo pipefail
cd "$(dirname "$0")/.."
source test/lib/cluster.sh

fail() { echo "live_page: FAIL: $*" >&2; exit 1; }
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
[[ -x $CHROMIUM ]] || fail "$CHROMIUM is not installed (Debian package chromium)"

cluster_start "fsync = off"
cluster_psql <<'SQL'
SET client_min_messages = warning;
CREATE EXTENSION slotguard CASCADE;
SELECT slotguard.enable_change_feed();
SELECT key FROM slotguard.upsert_resource('demo:room-1', 1);
SQL

WEB_PORT=$(_cluster_pick_port)
/usr/bin/python3 examples/live-page/server.py --dsn "host=127.0.0.1 port=$PGPORT user=postgres dbname=postgres" \
    --resource demo:room-1 --day 2031-03-01 --port "$WEB_PORT" >"$CLUSTER_DIR/web.log" 2>&1 &
web=$!
cluster_at_exit "kill $web 2>/dev/null || true"
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$WEB_PORT/api/day" >/dev/null && break; sleep 0.1; done
curl -sf "http://127.0.0.1:$WEB_PORT/api/day" >/dev/null || { cat "$CLUSTER_DIR/web.log" >&2; fail "server did not start"; }

CDP_PORT=$(_cluster_pick_port)
mkdir -p "$CLUSTER_DIR/chromium"
"$CHROMIUM" --headless=new --no-sandbox --disable-gpu --disable-dev-shm-usage --no-first-run \
    --user-data-dir="$CLUSTER_DIR/chromium" --remote-debugging-address=127.0.0.1 \
    --remote-debugging-port="$CDP_PORT" --remote-allow-origins='*' \
    "http://127.0.0.1:$WEB_PORT/" >"$CLUSTER_DIR/chromium.log" 2>&1 &
browser=$!
cluster_at_exit "kill $browser 2>/dev/null || true"

export CDP_PORT
cdp() { /usr/bin/python3 test/lib/cdp_eval.py "$@"; }
for _ in $(seq 1 200); do
    [[ $(cdp 'document.getElementById("status").textContent' 2>/dev/null || true) == *live* ]] && break
    sleep 0.1
done
[[ $(cdp 'document.getElementById("status").textContent') == *"0 booking(s), live"* ]] ||
    { tail -20 "$CLUSTER_DIR/chromium.log" >&2; fail "the page did not load an empty day"; }
# A token only this page load has: a reload would lose it.
cdp 'window.__liveToken = "tok-" + Math.random(); window.__liveToken' >"$CLUSTER_DIR/token"
token=$(cat "$CLUSTER_DIR/token")

cluster_psql -c "SELECT id FROM slotguard.book_slot('demo:room-1', '[2031-03-01 09:00+00,2031-03-01 10:30+00)', holder => 'ada')" >/dev/null
cluster_psql -c "SELECT id FROM slotguard.book_slot('demo:room-1', '[2031-03-01 14:00+00,2031-03-01 15:00+00)', hold => '1 hour', holder => 'bob')" >/dev/null

text=""
for _ in $(seq 1 300); do
    text=$(cdp 'document.getElementById("day").innerText')
    [[ $text == *"Booking #1 09:00–10:30 confirmed (ada)"* && $text == *"Booking #2 14:00–15:00 held (bob)"* ]] && break
    sleep 0.1
done
echo "live_page: the day shows: $(grep Booking <<<"$text" | paste -sd ';' -)"
[[ $text == *"Booking #1 09:00–10:30 confirmed (ada)"* ]] || fail "booking 1 did not appear"
[[ $text == *"Booking #2 14:00–15:00 held (bob)"* ]] || fail "booking 2 did not appear"
[[ $(cdp 'window.__liveToken') == "$token" ]] || fail "the page was reloaded"
log=$(cdp 'document.getElementById("log").innerText')
[[ $log == *"booking 1 booked"* && $log == *"booking 2 held"* ]] || fail "feed log: $log"
if [[ -n ${LIVE_PAGE_SCREENSHOT:-} ]]; then
    cdp --screenshot "$LIVE_PAGE_SCREENSHOT" && echo "live_page: screenshot in $LIVE_PAGE_SCREENSHOT"
fi
echo "live_page: OK"
