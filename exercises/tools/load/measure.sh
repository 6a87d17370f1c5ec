#!/usr/bin/env bash
# measure.sh: the run behind RESULTS.md. From the root of the repository:
#
#   bash exercises/tools/load/measure.sh            # 3 rounds, about 12 minutes on 2 cores
#   ROUNDS=1 bash exercises/tools/load/measure.sh   # one round, to try it
#
# It builds each server and the load tool, then, round after round, starts each
# server in turn on localhost:9999, measures it and stops it: the servers take
# turns, so that the runs of one round were taken side by side, under the same
# conditions. Every run is written to a fresh results.tsv in this folder (git
# keeps the one before); then the table and the chart are made from it.
# Linux: the CPU and memory figures come from /proc.
set -euo pipefail
cd "$(dirname "$0")/../../.."
out=exercises/tools/load
bin=$(mktemp -d)
trap 'rm -rf "$bin"' EXIT

servers=(stage2 stage3 stage5 slow hub complete)
for s in "${servers[@]}"; do
  case $s in stage*) pkg=./$s ;; *) pkg=./exercises/$s/answer ;; esac
  go build -o "$bin/$s" "$pkg"
done
go build -o "$bin/load" ./$out

# 10,000 clients need more than 10,000 open files, in the tool and in the server.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
rm -f $out/results.tsv

for round in $(seq 1 "${ROUNDS:-3}"); do
  for s in "${servers[@]}"; do
    echo "== round $round: $s" >&2
    args=(-addr localhost:9999)
    [[ $s == complete ]] && args+=(-max-clients 20000 -max-per-addr 20000)
    "$bin/$s" "${args[@]}" 2>/dev/null &
    pid=$!
    until (exec 3<>/dev/tcp/localhost/9999) 2>/dev/null; do sleep 0.1; done
    load=("$bin/load" -addr localhost:9999 -label "$s" -results $out/results.tsv)
    case $s in
      stage2 | stage3) # echo: 100,000 deliveries each
        "${load[@]}" -sweep 10:10000,100:1000,1000:100 || true ;;
      *) # chat: 90,000 to 2,000,000 deliveries
        "${load[@]}" -sweep 10:1000,100:100,1000:2 || true ;;
    esac
    # A busy chat room: one line a second per person.
    "${load[@]}" -sweep 10,100,1000 -msgs 5 -rate 1 || true
    if [[ $s != stage2 && $s != stage3 ]]; then
      # 100 people, 20 and 200 lines a second each: 200,000 and 2 million deliveries a second.
      "${load[@]}" -clients 100 -msgs 100 -rate 20 -timeout 30s || true
      [[ $s != stage5 ]] && { "${load[@]}" -clients 100 -msgs 1000 -rate 200 -timeout 30s || true; }
      # 10,000 clients connected, one line: what each costs the server in memory.
      "${load[@]}" -clients 10000 -senders 1 -msgs 1 -timeout 2m || true
    fi
    kill "$pid"
    wait "$pid" 2>/dev/null || true
  done
done
"$bin/load" -report $out/results.tsv -baseline stage5 -svg $out/results.svg
