#!/usr/bin/env bash
# The local stack: Temporal dev server (+ web UI), Apache Kafka (KRaft), MinIO,
# and on request the project's workers.
# usage: stack.sh install|start|stop|restart|status [minio|kafka|temporal|workers ...]
# Without names: the three servers (start/install/status), or everything
# that runs, workers first (stop).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
for c in minio kafka temporal workers; do source "$REPO_ROOT/deploy/local/components/$c.sh"; done

SERVERS=(minio kafka temporal)
ALL=(minio kafka temporal workers)
cmd=${1:-status}; shift || true
comps=("$@")
if [ ${#comps[@]} -eq 0 ]; then
  comps=("${SERVERS[@]}")
  # a plain stop also stops workers started with `start workers`: they would
  # only crash-loop against stopped servers
  [ "$cmd" = stop ] && comps=("${ALL[@]}")
fi
for c in "${comps[@]}"; do
  case " ${ALL[*]} " in *" $c "*) ;; *) die "unknown component '$c' (choose from: ${ALL[*]})";; esac
done

case $cmd in
  install) for c in "${comps[@]}"; do "${c}_install"; done ;;
  start)
    # the workers need the servers
    case " ${comps[*]} " in *" workers "*) comps=("${SERVERS[@]}" workers) ;; esac
    for c in "${comps[@]}"; do "${c}_install"; done
    for c in "${comps[@]}"; do "${c}_start"; done ;;
  stop)
    # reverse order: the workers (clients) before the servers
    for ((i=${#comps[@]}-1; i>=0; i--)); do "${comps[$i]}_stop"; done ;;
  restart) "$0" stop "${comps[@]}"; "$0" start "${comps[@]}" ;;
  status)
    rc=0; for c in "${comps[@]}"; do "${c}_status" || rc=1; done
    echo "stack home: $STACK_HOME"; exit $rc ;;
  *) die "usage: stack.sh install|start|stop|restart|status [${ALL[*]}]" ;;
esac
