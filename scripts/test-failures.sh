#!/usr/bin/env bash
# Repeats the failed tests of a `dotnet test` console log (verbosity normal) at the end of the
# output, with their messages and stack traces, so that the tail of a long run names them.
# Usage: scripts/test-failures.sh LOG
set -uo pipefail
log="${1:?usage: scripts/test-failures.sh LOG}"
echo
echo "==== failed tests (repeated from $log) ===="
# A failure is a "  Failed Name [time]" line followed by its indented Error Message / Stack Trace
# block; the block ends at the next "  Passed", "  Failed" or "  Skipped" line.
awk '
  /^  Failed / { show = 1; n = 0 }
  /^  (Passed|Skipped) / { show = 0 }
  show && n < 60 { print; n++ }
' "$log"
grep -E "^(Total tests|     Passed|     Failed|The active test run was aborted|Data collector .Blame. message)" "$log" || true
