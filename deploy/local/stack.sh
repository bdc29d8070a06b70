#!/usr/bin/env bash
# The local stack: Temporal dev server (+ web UI), Apache Kafka (KRaft), MinIO.
# usage: stack.sh install|start|stop|restart|status [temporal|kafka|minio ...]
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
for c in minio kafka temporal; do source "$REPO_ROOT/deploy/local/components/$c.sh"; done

ALL=(minio kafka temporal)
cmd=${1:-status}; shift || true
comps=("$@"); [ ${#comps[@]} -gt 0 ] || comps=("${ALL[@]}")
for c in "${comps[@]}"; do
  case " ${ALL[*]} " in *" $c "*) ;; *) die "unknown component '$c' (choose from: ${ALL[*]})";; esac
done

case $cmd in
  install) for c in "${comps[@]}"; do "${c}_install"; done ;;
  start)
    for c in "${comps[@]}"; do "${c}_install"; done
    for c in "${comps[@]}"; do "${c}_start"; done ;;
  stop)
    # reverse order: clients of MinIO/Kafka (none here) before the stores
    for ((i=${#comps[@]}-1; i>=0; i--)); do "${comps[$i]}_stop"; done ;;
  restart) "$0" stop "${comps[@]}"; "$0" start "${comps[@]}" ;;
  status)
    rc=0; for c in "${comps[@]}"; do "${c}_status" || rc=1; done
    echo "stack home: $STACK_HOME"; exit $rc ;;
  *) die "usage: stack.sh install|start|stop|restart|status [${ALL[*]}]" ;;
esac
