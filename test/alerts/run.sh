#!/usr/bin/env bash
# run.sh DB: notification delivery by the background worker against a real
# local receiver (contract §6.6).  Needs the running cluster (PGHOST/PGPORT/
# PGUSER, tools/cluster.sh's layout: $CLUSTER_DIR, default the folder of
# $PGHOST's parent) with analytics in shared_preload_libraries and
# analytics.worker_database = DB.  Starts test/alerts/receiver.py (which
# checks the Standard Webhooks signature with Python's hmac), then checks:
# a 200 delivery signed and verified; a 503 with Retry-After retried with
# the same webhook-id; a plain 500 retried after analytics.delivery_retry_base_ms
# (set to 500 ms here); a 429 with Retry-After: 1 retried after 1 s; a
# receiver slower than analytics.delivery_timeout_ms (set to 1.5 s here) is
# cut off and retried, and a fast channel's notification sent in the same
# round reaches its receiver while the slow one is in flight; a refused
# connection (a closed port) is retried; 410 disables the channel; 400 fails
# at once; a
# delivery in flight when the server is killed (kill -9) is retried after
# the restart.  E-mail: test/alerts/smtp_receiver.py (aiosmtpd, a real
# SMTP server) receives a message with the right envelope, headers (From,
# To, Subject, Date, Message-ID from the webhook-id) and body; a 451 is
# retried with the same Message-ID; a 550 fails at once; a loopback SMTP
# server is refused while analytics.delivery_allow_private is off.  Every
# wait is bounded.
set -uo pipefail
cd "$(dirname "$0")/../.."
DB=${1:?usage: $0 DB}
CLUSTER_DIR=${CLUSTER_DIR:-$(dirname "$PGHOST")}
source tools/cluster.sh
W=$(mktemp -d /tmp/analytics-alerts.XXXXXX)
chmod 755 "$W"
fail=0
RPID=
SPID=
CPORT=
# the Python that has aiosmtpd (Debian's python3-aiosmtpd: /usr/bin/python3)
SMTP_PY=
for p in python3 /usr/bin/python3; do "$p" -c 'import aiosmtpd' 2>/dev/null && { SMTP_PY=$p; break; }; done
q() { psql -X -At -d "$DB" -c "$1"; }
stop() {
  [[ -n "$RPID" ]] && kill "$RPID" 2>/dev/null
  [[ -n "$SPID" ]] && kill "$SPID" 2>/dev/null
  psql -X -q -d "$DB" -c "ALTER SYSTEM RESET analytics.delivery_allow_private" -c "ALTER SYSTEM RESET analytics.smtp_url" \
    -c "ALTER SYSTEM RESET analytics.delivery_retry_base_ms" -c "ALTER SYSTEM RESET analytics.delivery_timeout_ms" \
    -c "ALTER SYSTEM RESET analytics.smtp_from" -c "SELECT pg_reload_conf()" >/dev/null 2>&1
  q "DELETE FROM analytics.notification_channels WHERE tenant_id IS NULL AND target LIKE 'http://127.0.0.1:$PORT/%'" >/dev/null 2>&1
  q "DELETE FROM analytics.notification_channels WHERE tenant_id IS NULL AND target LIKE '%@alerts-test.example.com'" >/dev/null 2>&1
  [[ -n "$CPORT" ]] && q "DELETE FROM analytics.notification_channels WHERE tenant_id IS NULL AND target LIKE 'http://127.0.0.1:$CPORT/%'" >/dev/null 2>&1
  rm -rf "$W"
}
trap stop EXIT
check() { if [[ "$2" == "$3" ]]; then echo "ok - $1"; else echo "not ok - $1: got '$2', want '$3'"; fail=1; fi; }
# wait_status ID STATUS [SECONDS]: until the notification has that status
wait_status() {
  local i
  for ((i = 0; i < ${3:-30} * 10; i++)); do
    [[ "$(q "SELECT status FROM analytics.notification_outbox WHERE delivery_id = $1" 2>/dev/null)" == "$2" ]] && return 0
    sleep 0.1
  done
  return 1
}

python3 test/alerts/receiver.py "$W/port" "$W/log" "$W/secrets" &
RPID=$!
for ((i = 0; i < 100; i++)); do [[ -s "$W/port" ]] && break; sleep 0.1; done
PORT=$(cat "$W/port")
psql -X -q -d "$DB" -c "ALTER SYSTEM SET analytics.delivery_allow_private = on" \
  -c "ALTER SYSTEM SET analytics.delivery_retry_base_ms = 500" -c "SELECT pg_reload_conf()" >/dev/null
sleep 0.5
touch "$W/log"
declare -A CH D
for p in ok retry gone bad slow error ratelimit timeout fast; do
  out=$(q "SELECT analytics_api.create_channel('webhook', 'http://127.0.0.1:$PORT/$p')")
  CH[$p]=$(echo "$out" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
  echo "$out" | python3 -c 'import json,sys; print(json.load(sys.stdin)["secret"])' >>"$W/secrets"
done
for p in ok retry gone bad; do
  D[$p]=$(q "SELECT analytics_api.test_channel('${CH[$p]}') ->> 'delivery_id'")
done
wait_status "${D[ok]}" succeeded; check "200: succeeded" "$(q "SELECT status || '/' || attempts FROM analytics.notification_outbox WHERE delivery_id = ${D[ok]}")" "succeeded/1"
check "200: the receiver verified the signature" "$(grep '"/ok"' "$W/log" | python3 -c 'import json,sys; print(all(json.loads(l)["verified"] for l in sys.stdin))')" "True"
wait_status "${D[retry]}" succeeded; check "503 + Retry-After: retried, then succeeded" "$(q "SELECT status || '/' || attempts FROM analytics.notification_outbox WHERE delivery_id = ${D[retry]}")" "succeeded/2"
check "503: attempts recorded" "$(q "SELECT string_agg(coalesce(status_code::text, '-') || ':' || outcome, ',' ORDER BY attempt) FROM analytics.notification_attempts WHERE delivery_id = ${D[retry]}")" "503:retry,200:succeeded"
check "503: the same webhook-id on both tries, both verified" "$(grep '"/retry"' "$W/log" | python3 -c 'import json,sys; r=[json.loads(l) for l in sys.stdin]; print(len(r), len({x["webhook_id"] for x in r}), all(x["verified"] for x in r))')" "2 1 True"

# a plain 500 (no Retry-After): retried after the base delay (500 ms here)
D[error]=$(q "SELECT analytics_api.test_channel('${CH[error]}') ->> 'delivery_id'")
# 429 with Retry-After: 1: retried after 1 s, not the base delay
D[ratelimit]=$(q "SELECT analytics_api.test_channel('${CH[ratelimit]}') ->> 'delivery_id'")
# gap_ok ID MIN MAX: the second attempt started MIN to MAX seconds after the first ended
gap() { q "SELECT round(extract(epoch FROM b.started_at - a.finished_at)::numeric, 1) BETWEEN $2 AND $3
           FROM analytics.notification_attempts a JOIN analytics.notification_attempts b USING (delivery_id)
           WHERE delivery_id = $1 AND a.attempt = 1 AND b.attempt = 2"; }
wait_status "${D[error]}" succeeded 15
check "500 (no Retry-After): retried, then succeeded" "$(q "SELECT string_agg(coalesce(status_code::text, '-') || ':' || outcome, ',' ORDER BY attempt) FROM analytics.notification_attempts WHERE delivery_id = ${D[error]}")" "500:retry,200:succeeded"
check "500: retried after the base delay (0.5 s, and the next round)" "$(gap "${D[error]}" 0.4 3)" "t"
check "500: the same webhook-id on both tries" "$(grep '"/error"' "$W/log" | python3 -c 'import json,sys; r=[json.loads(l) for l in sys.stdin]; print(len(r), len({x["webhook_id"] for x in r}), all(x["verified"] for x in r))')" "2 1 True"
wait_status "${D[ratelimit]}" succeeded 15
check "429 + Retry-After: retried, then succeeded" "$(q "SELECT string_agg(coalesce(status_code::text, '-') || ':' || outcome, ',' ORDER BY attempt) FROM analytics.notification_attempts WHERE delivery_id = ${D[ratelimit]}")" "429:retry,200:succeeded"
check "429: retried after Retry-After's 1 s, not the 0.5 s base" "$(gap "${D[ratelimit]}" 0.95 4)" "t"

# a refused connection (a closed port): no answer, retried
CPORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
CH[refused]=$(q "SELECT analytics_api.create_channel('webhook', 'http://127.0.0.1:$CPORT/refused') ->> 'id'")
D[refused]=$(q "SELECT analytics_api.test_channel('${CH[refused]}') ->> 'delivery_id'")
for ((i = 0; i < 150; i++)); do
  [[ "$(q "SELECT count(*) FROM analytics.notification_attempts WHERE delivery_id = ${D[refused]}")" -ge 2 ]] && break
  sleep 0.1
done
check "refused connection: retried (two attempts without an answer, still to deliver)" "$(q "SELECT string_agg(coalesce(status_code::text, '-') || ':' || outcome, ',' ORDER BY attempt) || '/' || bool_and(error IS NOT NULL)
  || '/' || (SELECT status IN ('pending', 'delivering') FROM analytics.notification_outbox WHERE delivery_id = ${D[refused]})
  FROM (SELECT * FROM analytics.notification_attempts WHERE delivery_id = ${D[refused]} ORDER BY attempt LIMIT 2) a")" "-:retry,-:retry/true/true"
q "UPDATE analytics.notification_channels SET enabled = false WHERE channel_id = ${CH[refused]}" >/dev/null

# a receiver slower than delivery_timeout_ms (1.5 s here; /timeout answers
# after 3 s the first time): cut off and retried; a fast channel's
# notification claimed in the same round reaches its receiver and is
# answered while the slow one is still in flight
psql -X -q -d "$DB" -c "ALTER SYSTEM SET analytics.delivery_timeout_ms = 1500" -c "SELECT pg_reload_conf()" >/dev/null
sleep 1.2
read -r D[timeout] D[fast] < <(psql -X -At -F ' ' -d "$DB" -c "BEGIN" \
  -c "SELECT analytics_api.test_channel('${CH[timeout]}') ->> 'delivery_id', analytics_api.test_channel('${CH[fast]}') ->> 'delivery_id'" -c "COMMIT" | grep -v '^[A-Z]*$')
wait_status "${D[timeout]}" succeeded 20
check "timeout: cut off, retried, then succeeded" "$(q "SELECT string_agg(coalesce(status_code::text, '-') || ':' || outcome, ',' ORDER BY attempt) FROM analytics.notification_attempts WHERE delivery_id = ${D[timeout]}")" "-:retry,200:succeeded"
check "timeout: the first attempt gave up after delivery_timeout_ms (1.5 s, before the receiver's 3 s)" "$(q "SELECT extract(epoch FROM finished_at - started_at) BETWEEN 1.4 AND 2.9 AND error ILIKE '%time%' FROM analytics.notification_attempts WHERE delivery_id = ${D[timeout]} AND attempt = 1")" "t"
wait_status "${D[fast]}" succeeded 10
check "fast channel beside the slow one: succeeded in one attempt" "$(q "SELECT status || '/' || attempts FROM analytics.notification_outbox WHERE delivery_id = ${D[fast]}")" "succeeded/1"
check "fast channel: answered while the slow one was in flight (not after the slow one's cut-off)" "$(python3 -c '
import json, sys
r = [json.loads(l) for l in open(sys.argv[1])]
slow = [x["at"] for x in r if x["path"] == "/timeout"]
fast = [x["at"] for x in r if x["path"] == "/fast"]
print(len(fast) == 1 and len(slow) == 2 and fast[0] < slow[0] + 1.0)' "$W/log")" "True"
psql -X -q -d "$DB" -c "ALTER SYSTEM RESET analytics.delivery_timeout_ms" -c "SELECT pg_reload_conf()" >/dev/null
sleep 0.5

wait_status "${D[gone]}" failed; check "410: failed" "$(q "SELECT status || '/' || attempts FROM analytics.notification_outbox WHERE delivery_id = ${D[gone]}")" "failed/1"
check "410: the channel is disabled" "$(q "SELECT enabled FROM analytics.notification_channels WHERE channel_id = ${CH[gone]}")" "f"
wait_status "${D[bad]}" failed; check "400: failed at once" "$(q "SELECT status || '/' || attempts || '/' || last_status_code FROM analytics.notification_outbox WHERE delivery_id = ${D[bad]}")" "failed/1/400"

# e-mail over SMTP, to a real SMTP server (aiosmtpd)
if [[ -z "$SMTP_PY" ]]; then
  echo "not ok - e-mail: no Python with aiosmtpd (tools/deps.sh installs python3-aiosmtpd)"; fail=1
else
  "$SMTP_PY" test/alerts/smtp_receiver.py "$W/smtp_port" "$W/mail" &
  SPID=$!
  for ((i = 0; i < 100; i++)); do [[ -s "$W/smtp_port" ]] && break; sleep 0.1; done
  SPORT=$(cat "$W/smtp_port")
  touch "$W/mail"
  psql -X -q -d "$DB" -c "ALTER SYSTEM SET analytics.smtp_url = 'smtp://127.0.0.1:$SPORT'" \
    -c "ALTER SYSTEM SET analytics.smtp_from = 'alerts@analytics-test.example.com'" -c "SELECT pg_reload_conf()" >/dev/null
  sleep 0.5
  declare -A MC MD
  for p in ok tempfail reject; do
    MC[$p]=$(q "SELECT analytics_api.create_channel('email', '$p@alerts-test.example.com') ->> 'id'")
    MD[$p]=$(q "SELECT analytics_api.test_channel('${MC[$p]}') ->> 'delivery_id'")
  done
  wait_status "${MD[ok]}" succeeded
  check "e-mail: 250: succeeded" "$(q "SELECT status || '/' || attempts || '/' || last_status_code FROM analytics.notification_outbox WHERE delivery_id = ${MD[ok]}")" "succeeded/1/250"
  MID=$(q "SELECT message_id FROM analytics.notification_outbox WHERE delivery_id = ${MD[ok]}")
  check "e-mail: the message arrived with its envelope and headers" "$(grep '"ok@alerts-test.example.com"' "$W/mail" | MID="$MID" python3 -c '
import email.utils, json, os, sys, time
r = [json.loads(l) for l in sys.stdin if "message_id" in l]
m = r[0]
d = email.utils.parsedate_to_datetime(m["date"]).timestamp()
print(len(r), m["mail_from"], ",".join(m["rcpt_tos"]), m["from"], m["to"], m["subject"],
      m["message_id"] == "<" + os.environ["MID"] + "@analytics>", abs(time.time() - d) < 600, m["content_type"])')" \
    "1 alerts@analytics-test.example.com ok@alerts-test.example.com alerts@analytics-test.example.com ok@alerts-test.example.com Test notification from analytics True True text/plain; charset=\"utf-8\""
  check "e-mail: the body has the text and the notification's JSON" "$(grep '"ok@alerts-test.example.com"' "$W/mail" | MID="$MID" python3 -c '
import json, os, sys
m = json.loads(sys.stdin.readline())
b = m["body"]
j = json.loads(b[b.index("{"):])
print(b.startswith("Test notification from analytics"), j["type"], "test notification" in j["data"]["message"])')" "True test True"
  wait_status "${MD[tempfail]}" succeeded 30
  check "e-mail: 451 retried, then 250" "$(q "SELECT string_agg(coalesce(status_code::text, '-') || ':' || outcome, ',' ORDER BY attempt) FROM analytics.notification_attempts WHERE delivery_id = ${MD[tempfail]}")" "451:retry,250:succeeded"
  check "e-mail: both tries carry the same Message-ID" "$(grep '"tempfail@alerts-test.example.com"' "$W/mail" | python3 -c 'import json,sys; r=[json.loads(l) for l in sys.stdin if "message_id" in l]; print(len(r), len({x["message_id"] for x in r}), [x["reply"] for x in r])')" "2 1 [451, 250]"
  wait_status "${MD[reject]}" failed
  check "e-mail: 550 fails at once" "$(q "SELECT status || '/' || attempts || '/' || last_status_code FROM analytics.notification_outbox WHERE delivery_id = ${MD[reject]}")" "failed/1/550"
  # the private-address rule holds for the SMTP server too
  psql -X -q -d "$DB" -c "ALTER SYSTEM SET analytics.delivery_allow_private = off" -c "SELECT pg_reload_conf()" >/dev/null
  sleep 1
  n_before=$(grep -c '"ok@alerts-test.example.com"' "$W/mail")
  MD[private]=$(q "SELECT analytics_api.test_channel('${MC[ok]}') ->> 'delivery_id'")
  wait_status "${MD[private]}" failed
  check "e-mail: a loopback SMTP server is refused while delivery_allow_private is off" "$(q "SELECT string_agg(outcome, ',') FROM analytics.notification_attempts WHERE delivery_id = ${MD[private]}")" "refused"
  check "e-mail: nothing reached the SMTP server" "$(grep -c '"ok@alerts-test.example.com"' "$W/mail")" "$n_before"
  psql -X -q -d "$DB" -c "ALTER SYSTEM SET analytics.delivery_allow_private = on" -c "SELECT pg_reload_conf()" >/dev/null
  sleep 0.5
fi

# crash: kill -9 the server while the receiver holds a delivery
D[slow]=$(q "SELECT analytics_api.test_channel('${CH[slow]}') ->> 'delivery_id'")
for ((i = 0; i < 100; i++)); do grep -q '"/slow"' "$W/log" && break; sleep 0.1; done
check "slow: the request is in flight" "$(q "SELECT status FROM analytics.notification_outbox WHERE delivery_id = ${D[slow]}")" "delivering"
PM=$(head -1 "$CLUSTER_DIR/data/postmaster.pid")
kill -9 "$PM"
# (its children notice the postmaster gone and exit; then it can start again)
for ((i = 0; i < 30; i++)); do
  sleep 1
  pgrep -P "$PM" >/dev/null 2>&1 && continue
  as_pg "$PGBIN/pg_ctl" -D "$CLUSTER_DIR/data" -l "$CLUSTER_DIR/server.log" -w start >/dev/null 2>&1 && break
done
wait_status "${D[slow]}" succeeded 60
check "after kill -9 and restart: retried and delivered" "$(q "SELECT status FROM analytics.notification_outbox WHERE delivery_id = ${D[slow]}")" "succeeded"
check "the retry carries the same webhook-id" "$(grep '"/slow"' "$W/log" | python3 -c 'import json,sys; r=[json.loads(l) for l in sys.stdin]; print(len(r) >= 2, len({x["webhook_id"] for x in r}))')" "True 1"
(( fail )) && echo "alerts: FAILED" || echo "alerts: all passed"
exit $fail
