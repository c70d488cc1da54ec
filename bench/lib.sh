# Shared by the bench/*.sh scripts (sourced, not run): one way to time a command and print it, so
# every benchmark's lines read alike and can be set side by side.
#
# measure NAME RECORDS COMMAND
#   Runs COMMAND with `bash -c` under GNU time, $RUNS times (default 1), and keeps the run with the
#   best wall time. Prints one line:
#     NAME  RECORDS rec  WALL s  RECORDS/WALL rec/s  CPU CPU-s  RECORDS/CPU rec/CPU-s  RSS MB peak RSS
#   CPU is user + system time of every process of COMMAND (a pipeline of three processes on two
#   cores is bound by their sum); peak RSS is the largest single process's. On a shared, noisy
#   machine read the figures as ratios against a baseline measured in the same run.
#   Sets MEASURED_SECS, MEASURED_CPU, MEASURED_RSS_KIB and MEASURED_RATE (records per wall second)
#   for the caller's own ratios. COMMAND's stdout is the caller's to redirect; if COMMAND fails,
#   its stderr is shown and the script stops.

measure() { # name records command
  local name=$1 records=$2 cmd=$3 runs=${RUNS:-1} best="" line i timing
  timing=$(mktemp)
  for ((i = 0; i < runs; i++)); do
    if ! /usr/bin/time -f '%e %U %S %M' -o "$timing" bash -c "$cmd" 2>"$timing.stderr"; then
      cat "$timing.stderr" >&2
      rm -f "$timing" "$timing.stderr"
      echo "bench: \`$name\` failed: $cmd" >&2
      exit 1
    fi
    line=$(awk '{ printf "%s %.2f %s", $1, $2 + $3, $4 }' "$timing")
    if [ -z "$best" ] || awk -v a="${line%% *}" -v b="${best%% *}" 'BEGIN { exit !(a < b) }'; then
      best=$line
    fi
  done
  rm -f "$timing" "$timing.stderr"
  read -r MEASURED_SECS MEASURED_CPU MEASURED_RSS_KIB <<<"$best"
  MEASURED_RATE=$(awk -v r="$records" -v s="$MEASURED_SECS" 'BEGIN { printf "%.0f", (s > 0 ? r / s : 0) }')
  awk -v n="$name" -v r="$records" -v s="$MEASURED_SECS" -v c="$MEASURED_CPU" -v m="$MEASURED_RSS_KIB" 'BEGIN {
    printf "%-48s %10d rec %7.2f s %10.0f rec/s %7.2f CPU-s %10.0f rec/CPU-s %7.1f MB peak RSS\n",
      n, r, s, (s > 0 ? r / s : 0), c, (c > 0 ? r / c : 0), m / 1024 }'
}
