#!/bin/sh
# One-shot (the project's image): creates the Temporal Schedule unless it
# exists. An existing schedule is left as it is (paused, edited, ...): delete
# it first (`recommender schedule delete`) to re-create it with new settings.
set -eu
cli() { node dist/cli/main.js "$@"; }
if cli schedule describe >/dev/null 2>&1; then
  echo "schedule ${SCHEDULE_ID:-recommender-retrain} already exists; left unchanged"
  exit 0
fi
# shellcheck disable=SC2086 # RETRAIN_SCHEDULE_ARGS is a list of flags
exec node dist/cli/main.js schedule create ${RETRAIN_SCHEDULE_ARGS:---interval 1h --data-mode append-day --trigger-now}
