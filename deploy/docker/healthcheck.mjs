#!/usr/bin/env node
// Container health check for the project's images (Docker HEALTHCHECK and
// Kubernetes exec probes). Plain Node (no dependencies, no TypeScript), so it
// starts in ~50 ms and needs nothing but the node binary of the image.
//
//   node healthcheck.mjs slot          GET http://<slot host>:<slot port>/healthz
//   node healthcheck.mjs model-server  GET http://127.0.0.1:<port>/healthz (200 = consuming; 503 = consumer dead)
//   node healthcheck.mjs data-publisher GET http://127.0.0.1:<port>/healthz (503 = consumer dead or a partition stalled)
//   node healthcheck.mjs online-evaluator GET http://127.0.0.1:<port>/healthz (503 = consumer dead or a partition stalled)
//   node healthcheck.mjs temporal      TCP connect to TEMPORAL_ADDRESS
//
// The slot's name and port, and the model server's port, are read from the
// command line of the container's main process (/proc/1/cmdline: --slot,
// --port, --model-server-port, --no-model-server) and from the same
// environment variables as src/config.ts (SLOT_NAMES, SLOT_PORTS, SLOT_HOST),
// so one image checks itself whatever it was started with. HEALTHCHECK_PORT
// overrides the port. Exit 0 = healthy, 1 = unhealthy (the reason on stderr).
/* global fetch, AbortSignal */
import { readFileSync } from 'node:fs';
import { clearTimeout, setTimeout } from 'node:timers';
import net from 'node:net';

const TIMEOUT_MS = Number(process.env.HEALTHCHECK_TIMEOUT_MS ?? 4000);

function fail(message) {
  console.error(`unhealthy: ${message}`);
  process.exit(1);
}

/** The main process's arguments (PID 1 in a container; this process's own otherwise). */
function mainArgs() {
  for (const file of ['/proc/1/cmdline']) {
    try {
      return readFileSync(file, 'utf8').split('\0').filter(Boolean);
    } catch {
      /* not Linux, or no access: fall through */
    }
  }
  return [];
}

function option(args, name) {
  for (let i = 0; i < args.length; i++) {
    if (args[i] === name) return args[i + 1];
    if (args[i].startsWith(`${name}=`)) return args[i].slice(name.length + 1);
  }
  return undefined;
}

/** A bind address is not an address to call: use loopback for wildcard binds. */
function callableHost(host) {
  return !host || host === '0.0.0.0' || host === '::' || host === '[::]' ? '127.0.0.1' : host;
}

async function httpOk(url) {
  let res;
  try {
    res = await fetch(url, { signal: AbortSignal.timeout(TIMEOUT_MS) });
  } catch (err) {
    fail(`${url}: ${err?.cause?.code ?? err?.message ?? err}`);
  }
  const body = await res.text().catch(() => '');
  if (res.status !== 200) fail(`${url}: HTTP ${res.status} ${body.slice(0, 300)}`);
  console.log(`healthy: ${url} ${body.slice(0, 200)}`);
}

function tcpOk(hostPort) {
  const m = /^(.+):(\d+)$/.exec(hostPort);
  if (!m) fail(`TEMPORAL_ADDRESS="${hostPort}" is not host:port`);
  const [, host, port] = m;
  return new Promise((resolve) => {
    const socket = net.connect({ host, port: Number(port) });
    const timer = setTimeout(() => {
      socket.destroy();
      fail(`${hostPort}: no TCP connection within ${TIMEOUT_MS} ms`);
    }, TIMEOUT_MS);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.end();
      console.log(`healthy: ${hostPort} accepts connections`);
      resolve();
    });
    socket.once('error', (err) => {
      clearTimeout(timer);
      fail(`${hostPort}: ${err.code ?? err.message}`);
    });
  });
}

async function checkSlot() {
  const args = mainArgs();
  const name = option(args, '--slot') ?? process.env.HEALTHCHECK_SLOT;
  let port = process.env.HEALTHCHECK_PORT ?? option(args, '--port');
  if (!port) {
    const names = (process.env.SLOT_NAMES ?? 'recommender,recommender1').split(',');
    const ports = (process.env.SLOT_PORTS ?? '8501,8502').split(',');
    const i = names.indexOf(name ?? '');
    if (i < 0) fail(`cannot tell which slot this is (--slot ${name ?? '?'} not in SLOT_NAMES=${names.join(',')})`);
    port = ports[i];
  }
  await httpOk(`http://${callableHost(process.env.SLOT_HOST)}:${port}/healthz`);
}

async function checkModelServer() {
  const args = mainArgs();
  if (args.includes('--no-model-server')) return checkTemporal();
  // --model-server-port: the serving worker's; --port / MODEL_SERVER_PORT:
  // the stand-alone model server's (dist/serving/model-server/main.js)
  const port =
    process.env.HEALTHCHECK_PORT ??
    option(args, '--model-server-port') ??
    option(args, '--port') ??
    process.env.MODEL_SERVER_PORT ??
    '8090';
  await httpOk(`http://127.0.0.1:${port}/healthz`);
}

async function checkDataPublisher() {
  // --port / DATA_PUBLISHER_PORT: src/ingest/main.ts's REST port (config default 8091)
  const port = process.env.HEALTHCHECK_PORT ?? option(mainArgs(), '--port') ?? process.env.DATA_PUBLISHER_PORT ?? '8091';
  await httpOk(`http://127.0.0.1:${port}/healthz`);
}

async function checkOnlineEvaluator() {
  // --port / EVALUATOR_PORT: src/evaluation/main.ts's REST port (config default 8092)
  const port = process.env.HEALTHCHECK_PORT ?? option(mainArgs(), '--port') ?? process.env.EVALUATOR_PORT ?? '8092';
  await httpOk(`http://127.0.0.1:${port}/healthz`);
}

async function checkTemporal() {
  await tcpOk(process.env.TEMPORAL_ADDRESS ?? '127.0.0.1:7233');
}

const checks = {
  slot: checkSlot,
  'model-server': checkModelServer,
  'data-publisher': checkDataPublisher,
  'online-evaluator': checkOnlineEvaluator,
  temporal: checkTemporal,
};
const which = process.argv[2];
if (!Object.hasOwn(checks, which)) {
  console.error(`usage: healthcheck.mjs ${Object.keys(checks).join('|')}`);
  process.exit(2);
}
await checks[which]();
