#!/usr/bin/env bash
# Measures the console against the local sandbox, as a user runs it:
#   - time from process start to the first frame (from the log);
#   - CPU time and frames drawn while idle for 30 s;
#   - how long a refresh of each panel takes (5 rounds of refresh-all).
# Usage: scripts/measure.sh [path/to/opsdeck]   (default: release, else debug build)
set -euo pipefail
cd "$(dirname "$0")/.."
export AWS_EC2_METADATA_DISABLED=true
bin=${1:-}
if [ -z "$bin" ]; then
  if [ -x target/release/opsdeck ]; then bin=target/release/opsdeck; else bin=target/debug/opsdeck; fi
fi
moto=$(scripts/ensure-moto.sh)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
endpoint="http://127.0.0.1:$port"
work=$(mktemp -d)
sock="opsdeck-measure-$$"
cleanup() {
  tmux -L "$sock" kill-server 2>/dev/null || true
  [ -n "${moto_pid:-}" ] && kill "$moto_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
"$moto" -H 127.0.0.1 -p "$port" >"$work/moto.log" 2>&1 &
moto_pid=$!
for _ in $(seq 100); do curl -fsS "$endpoint/moto-api/" >/dev/null 2>&1 && break; sleep 0.2; done
"$bin" --config config/sandbox.toml --endpoint-url "$endpoint" sandbox seed >/dev/null

# Auto-refresh off, so that "idle" means nobody asked for anything.
sed 's/^refresh_interval_secs = .*/refresh_interval_secs = 0/' config/sandbox.toml >"$work/config.toml"
log="$work/opsdeck.log"
tmux -L "$sock" new-session -d -x 200 -y 50 -s m \
  "env OPSDECK_LOG=$log OPSDECK_LOG_LEVEL=opsdeck=debug $bin --config $work/config.toml --endpoint-url $endpoint --deployment dev"
for _ in $(seq 100); do grep -q '"fetched"\|fetched' "$log" 2>/dev/null && break; sleep 0.1; done
sleep 2
pid=$(tmux -L "$sock" display-message -p -t m '#{pane_pid}')

echo "binary: $bin"
grep -o 'first frame drawn ms=[0-9.]*' "$log" | sed 's/.*ms=/first frame after start: /; s/$/ ms/'

ticks() { awk '{print $14 + $15}' "/proc/$pid/stat"; }
hz=$(getconf CLK_TCK)
frames_before=$(grep -c 'drew frame' "$log" || true)
t0=$(ticks)
sleep 30
t1=$(ticks)
frames_after=$(grep -c 'drew frame' "$log" || true)
awk -v d=$((t1 - t0)) -v hz="$hz" 'BEGIN { printf "idle 30 s: %.2f s CPU (%.3f%% of one core)\n", d/hz, 100*d/hz/30 }'
echo "idle 30 s: $((frames_after - frames_before)) frames drawn"

: >"$work/mark"
start_line=$(wc -l <"$log")
for _ in 1 2 3 4 5; do
  tmux -L "$sock" send-keys -t m R
  sleep 1.5
done
tail -n +"$((start_line + 1))" "$log" | grep 'fetched' | sed -n 's/.*request=\([A-Za-z]*\).*took=\([0-9.]*\)\(ms\|µs\|s\).*/\1 \2 \3/p' |
  awk '{ v=$2; if ($3=="s") v*=1000; if ($3=="µs") v/=1000; sum[$1]+=v; n[$1]++ }
       END { for (k in sum) printf "refresh %-10s %7.1f ms (mean of %d)\n", k, sum[k]/n[k], n[k] }' | sort
tmux -L "$sock" send-keys -t m q
