#!/usr/bin/env bash
# npm run test:containers [-- --cold] [-- --keep-daemon]
#
# Builds the project's images with deploy/docker/Dockerfile on a Docker daemon
# of our own (daemon.sh), from base images made of Debian packages
# (base-images.sh), runs the training worker, the serving worker, the model
# server and both slots from them against the local stack (host networking:
# all traffic on 127.0.0.1), runs one retrainAndDeploy end to end and checks
# that requests are answered by the deployed model (e2e.ts). Everything gets
# private names (ct-<id>: topics, task queues, slots, data prefix, registry
# key, consumer group; free ports), so it runs beside the shared stack's
# other users.
#
# At the end it removes its containers (by id), its images and its objects
# and topics, and stops the daemon (by PID). Kept between runs: the base
# images and BuildKit's cache in $DOCKER_HOME (warm runs); --cold removes both
# first. --keep-daemon leaves the daemon running.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$REPO_ROOT"

COLD=0 KEEP_DAEMON=0
for a in "$@"; do
  case $a in
    --cold) COLD=1 ;;
    --keep-daemon) KEEP_DAEMON=1 ;;
    *) die "unknown option $a (expected --cold, --keep-daemon)" ;;
  esac
done

T0=$SECONDS
phase_start=$SECONDS
TIMES=()
TIMES_LAST=0
phase() { TIMES_LAST=$((SECONDS - phase_start)); TIMES+=("$1 ${TIMES_LAST}s"); phase_start=$SECONDS; }

ID=$(node -e "console.log(require('crypto').randomBytes(4).toString('hex'))")
TAG=ct-$ID
RUN_LOGS=$DOCKER_HOME/logs/$TAG
mkdir -p "$RUN_LOGS"
CONTAINERS=()
DAEMON_STARTED=0

e2e() { TF_CPP_MIN_LOG_LEVEL=2 node --env-file="$ENV_FILE" --import tsx test/containers/e2e.ts "$@"; }

cleanup() {
  local rc=$?
  set +e
  for c in "${CONTAINERS[@]}"; do
    docker logs "$c" >"$RUN_LOGS/$(docker inspect --format '{{.Name}}' "$c" | tr -d /).log" 2>&1
    docker rm -f "$c" >/dev/null
  done
  [ ${#CONTAINERS[@]} -gt 0 ] && say "removed containers ${CONTAINERS[*]}"
  # one started but not yet recorded (interrupted between run and return)
  for c in $(docker ps -aq --filter "name=^/$TAG-" 2>/dev/null); do docker rm -f "$c" >/dev/null; done
  [ -f "${ENV_FILE:-}" ] && e2e cleanup
  for t in training-worker serving-worker slot; do docker rmi "recommender-$t:$TAG" >/dev/null 2>&1; done
  if [ "$KEEP_DAEMON" = 0 ]; then bash test/containers/daemon.sh stop; else say "dockerd left running: test/containers/daemon.sh stop"; fi
  rm -f "${ENV_FILE:-}"
  if [ "$rc" -eq 0 ]; then
    rm -rf "$RUN_LOGS"
    phase cleanup
    say "PASSED in $((SECONDS - T0)) s ($(IFS=,; echo "${TIMES[*]}" | sed 's/,/, /g'))"
  else
    say "FAILED (exit $rc); container logs in $RUN_LOGS"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if bash test/containers/daemon.sh status >/dev/null 2>&1; then KEEP_DAEMON=1; else bash test/containers/daemon.sh start; fi
phase daemon
if [ "$COLD" = 1 ]; then
  say "cold run: removing the base images and the build cache (not counted in the cold time)"
  docker rmi "$BASE_FULL" "$BASE_SLIM" >/dev/null 2>&1 || true
  docker builder prune -af >/dev/null
  phase cold-prune
  T0=$((T0 + TIMES_LAST))
fi

bash test/containers/base-images.sh
phase base-images

# --network host: RUN steps reach the registries (npm, PyPI, Debian) the way
# this machine does (the daemon has no bridge network). No --pull: the base
# images are the local ones.
for t in training-worker serving-worker slot; do
  say "building recommender-$t:$TAG (log: $RUN_LOGS/build-$t.log)"
  nice -n 10 "$DOCKER_BIN" build --network host --progress plain -f deploy/docker/Dockerfile --target "$t" -t "recommender-$t:$TAG" . \
    >"$RUN_LOGS/build-$t.log" 2>&1 || { tail -30 "$RUN_LOGS/build-$t.log" >&2; die "building $t failed"; }
done
docker image ls --format '{{.Repository}}:{{.Tag}} {{.Size}}' | grep ":$TAG" >&2
phase build

read -r PORT_A PORT_B PORT_MS < <(node -e "
  const net = require('net');
  const free = () => new Promise((r) => { const s = net.createServer().listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => r(p)); }); });
  Promise.all([free(), free(), free()]).then((p) => console.log(p.join(' ')));")
SLOT_A=ct${ID}a SLOT_B=ct${ID}b
ENV_FILE=$(mktemp "$DOCKER_HOME/env-$TAG.XXXX")
cat >"$ENV_FILE" <<ENV
TEMPORAL_NAMESPACE=${TEMPORAL_NAMESPACE:-recommender-test}
TASK_QUEUE_TRAINING=training-$TAG
TASK_QUEUE_SERVING=serving-$TAG
TOPIC_REQUESTS=mdata-$TAG
TOPIC_RESULTS=recommendations-$TAG
TOPIC_MODELS=models-$TAG
TOPIC_DLQ=mdata-dlq-$TAG
SLOT_NAMES=$SLOT_A,$SLOT_B
SLOT_PORTS=$PORT_A,$PORT_B
SLOT_HOST=127.0.0.1
DATA_PREFIX=$TAG
REGISTRY_KEY=$TAG/deployments.json
CONTAINERS_RUN_ID=$ID
ENV
e2e prepare

# start VAR NAME IMAGE [docker run options --] ARGS...: the container's id in
# $VAR and in CONTAINERS (not through $(...): that would be a subshell)
start() {
  local var=$1 name=$2 image=$3; shift 3
  local opts=()
  while [ $# -gt 0 ] && [ "$1" != -- ]; do opts+=("$1"); shift; done
  [ "${1:-}" = -- ] && shift
  local id
  id=$(docker run -d --pull never --network host --env-file "$ENV_FILE" --name "$TAG-$name" "${opts[@]}" "$image" "$@")
  CONTAINERS+=("$id")
  printf -v "$var" %s "$id"
}
# logged ID REGEX: the container's log has a line matching REGEX. (Not
# `docker logs | grep -q`: under pipefail, grep -q's early exit makes
# `docker logs` fail with SIGPIPE, and the pipeline with it.)
logged() { local out; out=$(docker logs "$1" 2>&1); grep -Eq "$2" <<<"$out"; }
wait_log() { # wait_log CONTAINER-ID REGEX SECONDS
  local id=$1 re=$2 limit=$3 t=0
  until logged "$id" "$re"; do
    [ "$(docker inspect --format '{{.State.Running}}' "$id")" = true ] || { docker logs "$id" 2>&1 | tail -30 >&2; die "container $id exited before logging /$re/"; }
    [ $t -ge "$limit" ] && { docker logs "$id" 2>&1 | tail -30 >&2; die "container $id did not log /$re/ within $limit s"; }
    sleep 1; t=$((t + 1))
  done
}

say "starting the containers ($TAG)"
start SA slot-a "recommender-slot:$TAG" -- --slot "$SLOT_A"
start SB slot-b "recommender-slot:$TAG" -- --slot "$SLOT_B"
# The model server with a consumer group of its own: the serving worker's
# built-in one always joins group 'model-server' (shared with other users
# of the stack), so it runs with --no-model-server here.
start MS model-server "recommender-serving-worker:$TAG" --entrypoint node -- dist/serving/model-server/main.js --group "model-server-$TAG" --port "$PORT_MS"
start SW serving-worker "recommender-serving-worker:$TAG" -- --no-model-server
start TW training-worker "recommender-training-worker:$TAG"
wait_log "$SA" 'serving http' 60
wait_log "$SB" 'serving http' 60
wait_log "$MS" 'model server started' 60
wait_log "$SW" 'serving worker polling' 60
wait_log "$TW" 'training worker polling' 120
logged "$TW" 'workflows from the prebuilt bundle' || die "the training worker did not load the prebuilt workflow bundle"
say "all five containers up: $(docker ps --filter "name=$TAG" --format '{{.Names}}' | tr '\n' ' ')"
phase containers-up

e2e run
phase e2e

# The images' own HEALTHCHECKs (deploy/docker/healthcheck.mjs) must report
# healthy: by now every container has had its first check (intervals 10-30 s).
for c in "${CONTAINERS[@]}"; do
  n=$(docker inspect --format '{{.Name}}' "$c" | tr -d /)
  for _ in $(seq 1 45); do
    h=$(docker inspect --format '{{if .State.Health}}{{.State.Health.Status}}{{else}}none{{end}}' "$c")
    [ "$h" = starting ] || break
    sleep 1
  done
  [ "$h" = healthy ] || die "$n is $h: $(docker inspect --format '{{json .State.Health.Log}}' "$c" | tail -c 600)"
done
say "HEALTHCHECK: all ${#CONTAINERS[@]} containers healthy"
phase healthchecks
