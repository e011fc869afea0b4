#!/usr/bin/env bash
# Calls every API function a few hundred times with hostile arguments (NULLs,
# empty / infinite / huge ranges, huge strings and arrays, extreme numbers)
# and checks that only the contract's SQLSTATEs come back, the session stays
# usable, and no backend ever crashes.
set -euo pipefail
cd "$(dirname "$0")/.."
source test/lib/cluster.sh
cluster_start

fail() { echo "fuzz_api: FAIL: $*" >&2; exit 1; }
ROUNDS=${ROUNDS:-300}
SEED=${SEED:-$RANDOM}

cluster_psql -c "SET client_min_messages = warning" -c "CREATE EXTENSION slotguard CASCADE"
result=$(PGOPTIONS="-c fuzz.rounds=$ROUNDS" cluster_psql -At -v seed="$SEED" <<'SQL'
SET client_min_messages = warning;
SELECT setseed(:seed / 32768.0);
CREATE TEMP TABLE outcome (fn text, state text, message text, query text);

CREATE FUNCTION pg_temp.pick(VARIADIC v text[]) RETURNS text LANGUAGE sql AS
  $$ SELECT v[1 + floor(random() * array_length(v, 1))::int] $$;
-- Literals (SQL text, so NULL stays NULL) of each argument type.
CREATE FUNCTION pg_temp.t() RETURNS text LANGUAGE sql AS $$ SELECT pg_temp.pick(
  'NULL', '''''', ''' ''', '''r1''', '''r2''', '''acme:room-1''', 'repeat(''x'', 100000)', 'E''\t''', '''ünï''') $$;
CREATE FUNCTION pg_temp.r() RETURNS text LANGUAGE sql AS $$ SELECT pg_temp.pick(
  'NULL', '''empty''::tstzrange', '''(,)''::tstzrange', '''[2030-01-01,infinity)''::tstzrange',
  '''[-infinity,2030-01-01)''::tstzrange', '''[2030-01-01 10:00+00,2030-01-01 11:00+00)''::tstzrange',
  '''[2030-01-01 10:30+00,2030-01-01 12:00+00]''::tstzrange', '''(2030-01-01 10:00+00,2030-01-01 10:00:00.000001+00)''::tstzrange',
  '''[4713-01-01 00:00+00 BC,294276-12-31 00:00+00)''::tstzrange', '''[2030-01-01,2031-01-01)''::tstzrange') $$;
CREATE FUNCTION pg_temp.i() RETURNS text LANGUAGE sql AS $$ SELECT pg_temp.pick(
  'NULL', '-2147483648', '-1', '0', '1', '2', '3', '2147483647') $$;
CREATE FUNCTION pg_temp.b() RETURNS text LANGUAGE sql AS $$ SELECT pg_temp.pick(
  'NULL', '-1', '0', '1', '2', '3', '9223372036854775807') $$;
CREATE FUNCTION pg_temp.iv() RETURNS text LANGUAGE sql AS $$ SELECT pg_temp.pick(
  'NULL', '''-1 day''::interval', '''0''::interval', '''1 microsecond''::interval', '''15 minutes''::interval',
  '''1 hour''::interval', '''178000000 years''::interval', '''-178000000 years''::interval') $$;
CREATE FUNCTION pg_temp.a() RETURNS text LANGUAGE sql AS $$ SELECT pg_temp.pick(
  'NULL', '''{}''::text[]', '''{NULL}''::text[]', '''{a,a}''::text[]', '''{a,b}''::text[]', '''{" "}''::text[]',
  '''{{a},{b}}''::text[]', 'array(SELECT ''w'' || g FROM generate_series(1, 5000) g)') $$;
CREATE FUNCTION pg_temp.o() RETURNS text LANGUAGE sql AS $$ SELECT pg_temp.pick('NULL', 'true', 'false') $$;
CREATE FUNCTION pg_temp.j() RETURNS text LANGUAGE sql AS $$ SELECT pg_temp.pick('NULL', '''{}''::jsonb', '''[1, {"a": null}]''::jsonb') $$;

DO $$
DECLARE
  calls text[] := ARRAY[
    'upsert_resource(%t, %i, %iv, %iv, %t, %j)', 'book_slot(%t, %r, %i, %t, %iv, %t, %j)',
    'try_book_slot(%t, %r, %i, %t, %iv, %t, %j)', 'confirm_booking(%b)', 'cancel_booking(%b)',
    'reschedule_booking(%b, %r)', 'free_slots(%t, %r, %iv, %iv, %i)', 'availability(%t, %r)',
    'assign_workers(%b, %a, %t, %t)', 'unassign_worker(%b, %t)', 'worker_schedule(%t, %r)',
    'add_order(%t, %t, %o, %j)', 'set_order_ready(%t)', 'claim_order(%t, %t, %iv)',
    'claim_next_order(%t, %t, %iv)', 'release_order(%t, %t)', 'complete_order(%t, %t)',
    'try_claim_order(%t, %t, %iv)', 'configure_shard(%i, %i)', 'tenant_of(%t)', 'shard_info()'];
  c text; q text; st text; msg text;
BEGIN
  FOR round IN 1 .. current_setting('fuzz.rounds')::int LOOP
    FOREACH c IN ARRAY calls LOOP
      q := c;
      WHILE q ~ '%(iv|t|r|i|b|a|j|o)' LOOP
        q := CASE substring(q FROM '%(iv|t|r|i|b|a|j|o)')
               WHEN 'o' THEN regexp_replace(q, '%o', pg_temp.o())
               WHEN 'iv' THEN regexp_replace(q, '%iv', replace(pg_temp.iv(), '\', '\\'))
               WHEN 't' THEN regexp_replace(q, '%t', replace(pg_temp.t(), '\', '\\'))
               WHEN 'r' THEN regexp_replace(q, '%r', pg_temp.r())
               WHEN 'i' THEN regexp_replace(q, '%i', pg_temp.i())
               WHEN 'b' THEN regexp_replace(q, '%b', pg_temp.b())
               WHEN 'a' THEN regexp_replace(q, '%a', pg_temp.a())
               ELSE regexp_replace(q, '%j', pg_temp.j()) END;
      END LOOP;
      BEGIN
        EXECUTE 'SELECT count(*) FROM slotguard.' || q;
        st := 'ok';
        msg := NULL;
      EXCEPTION WHEN others THEN
        st := SQLSTATE;
        msg := SQLERRM;
      END;
      INSERT INTO outcome VALUES (split_part(c, '(', 1), st, msg, left(q, 300));
    END LOOP;
  END LOOP;
END $$;
SELECT state || ' ' || count(*) FROM outcome GROUP BY state ORDER BY state;
SELECT 'calls ' || count(*) FROM outcome;
-- Examples of anything outside the contract, to debug from.
SELECT DISTINCT ON (state, fn) 'unexpected ' || state || ' in ' || fn || ': ' || message || ' <- ' || query
FROM outcome WHERE state NOT IN ('ok', '23P01', '23505', '55P03', '55000', 'P0002', '22004', '22000', '22023',
                                 '22008', '54000', '40001');
SQL
) 2>&1 || fail "the fuzz session died: $result"
echo "$result" | grep . | sed 's/^/fuzz_api: /'

# Contract §6 codes, plus 54000 (program_limit_exceeded: a value too large for
# PostgreSQL itself, e.g. a 5000-name array beyond the lock table's reach is not
# one, but a huge text key in an index can be).
allowed='^(ok|23P01|23505|55P03|55000|P0002|22004|22000|22023|22008|54000|40001) '
bad=$(echo "$result" | grep -E '^[0-9A-Z]{5} |^ok ' | grep -Ev "$allowed" || true)
[[ -z "$bad" ]] || fail "SQLSTATEs outside the contract: $bad"
echo "$result" | grep -qE '^ok [0-9]+' || fail "no call succeeded; the fuzz reached nothing"
if grep -E 'terminated by signal|PANIC|TRAP:' "$CLUSTER_LOG"; then fail "a backend crashed"; fi
[[ $(cluster_psql -At -c "SELECT 1") == 1 ]] || fail "the server is not usable"
echo "fuzz_api: OK (seed $SEED)"
