#!/usr/bin/env node
// Mirrors the complete versions of one slot from the models bucket to a
// local directory that real TensorFlow Serving polls (TF Serving images from
// 2.7 on cannot read s3:// paths).
//
//   node sync-versions.mjs <slot> <dir> [--once]
//
// It runs the project's own model-store code (src/store: the same claim,
// size and SHA-256 checks as the project's slots), so it FAILS CLOSED:
//  - a version is copied only when its claim `<slot>/_claims/<v>.json` is
//    valid, every claimed file is stored with the claimed size and digest,
//    saved_model.pb included, and the downloaded bytes hash to the claim;
//  - it is fetched into `.incoming-<v>-<random>` (TF Serving ignores names
//    that are not integers), checked, then renamed to `<v>`: atomic on one
//    file system, so TF Serving never sees part of a version;
//  - a local version is removed only when the store answered that it is no
//    longer complete (removed after a failed readiness check); when the store
//    cannot be read (MinIO down, wrong credentials, no bucket) nothing local
//    is touched and the pass is reported as failed (`--once` exits 1).
// The store is configured as the rest of the system: MINIO_ENDPOINT,
// MINIO_ACCESS_KEY, MINIO_SECRET_KEY, MINIO_REGION, MODELS_BUCKET
// (src/config.ts). SYNC_INTERVAL_SECONDS sets the poll interval (default 2).
// The code comes from the image's dist/ or, in a checkout run with
// `node --import tsx`, from src/ (RECOMMENDER_CODE=src).
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const code = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..', process.env.RECOMMENDER_CODE ?? 'dist');
const { loadConfig } = require(path.join(code, 'config'));
const { createMinioClient } = require(path.join(code, 'storage/minio-client'));
const { completeVersionFiles, downloadVersion, listClaimedVersions } = require(path.join(code, 'store'));
const { VERSION_NAME, validateSlotName } = require(path.join(code, 'store/layout'));

const INCOMING = '.incoming-';
const log = (message) => console.log(`${new Date().toISOString()} ${message}`);

/** Local version directories (integer names as TF Serving reads them), and our own leftover temporary directories. */
async function localEntries(dir) {
  const names = await fs.readdir(dir);
  return {
    versions: names.filter((n) => VERSION_NAME.test(n)).map(Number),
    incoming: names.filter((n) => n.startsWith(INCOMING)),
  };
}

/** Fetches one version into a temporary directory, verified byte by byte, then renames it into place. */
async function materialise(client, bucket, slot, dir, version) {
  const tmp = path.join(dir, `${INCOMING}${version}-${randomBytes(4).toString('hex')}`);
  try {
    await downloadVersion(client, bucket, slot, version, tmp); // throws naming a file whose bytes differ from the claim
    await fs.rename(tmp, path.join(dir, String(version)));
    log(`synced ${slot}/${version}`);
  } finally {
    await fs.rm(tmp, { recursive: true, force: true });
  }
}

/**
 * One pass. Throws (touching nothing) when the store cannot be read; a
 * version that fails its checks is reported, left out, and tried again next pass.
 */
export async function syncOnce({ client, bucket, slot, dir, reported = new Set() }) {
  await fs.mkdir(dir, { recursive: true });
  const local = await localEntries(dir);
  for (const name of local.incoming) await fs.rm(path.join(dir, name), { recursive: true, force: true });
  const claimed = await listClaimedVersions(client, bucket, slot); // throws when MinIO cannot be read: fail closed
  const problems = [];
  for (const v of claimed.filter((c) => !local.versions.includes(c))) {
    try {
      if (!(await completeVersionFiles(client, bucket, slot, v))) continue; // claimed, not (yet or any more) complete
      await materialise(client, bucket, slot, dir, v);
    } catch (error) {
      const message = `not synced ${slot}/${v}: ${error instanceof Error ? error.message : String(error)}`;
      problems.push(message);
      if (!reported.has(message)) console.error(`${new Date().toISOString()} ${message}`);
      reported.add(message);
    }
  }
  for (const v of local.versions) {
    // only on the store's answer "not complete": an error leaves the version alone
    if ((await completeVersionFiles(client, bucket, slot, v)) === undefined) {
      await fs.rm(path.join(dir, String(v)), { recursive: true, force: true });
      log(`removed ${slot}/${v} (no longer complete in ${bucket})`);
    }
  }
  return { local: (await localEntries(dir)).versions.sort((a, b) => a - b), problems };
}

async function main(argv) {
  const [slot, dir] = argv.filter((a) => !a.startsWith('--'));
  if (!slot || !dir) throw new Error('usage: sync-versions.mjs <slot> <dir> [--once]');
  validateSlotName(slot);
  const cfg = loadConfig();
  const target = { client: createMinioClient(cfg.minio), bucket: cfg.buckets.models, slot, dir: path.join(dir, slot), reported: new Set() };
  const where = `${cfg.minio.useSSL ? 'https' : 'http'}://${cfg.minio.endPoint}:${cfg.minio.port}/${target.bucket}/${slot}/`;
  const intervalMs = 1000 * Number(process.env.SYNC_INTERVAL_SECONDS ?? 2);
  for (;;) {
    try {
      const { problems } = await syncOnce(target);
      if (argv.includes('--once')) return problems.length === 0 ? 0 : 2;
    } catch (error) {
      console.error(`${new Date().toISOString()} cannot read ${where}; local versions left as they are: ${error?.message ?? error}`);
      if (argv.includes('--once')) return 1;
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).then(
    (status) => process.exit(status),
    (error) => {
      console.error(error instanceof Error ? error.message : String(error));
      process.exit(64);
    },
  );
}
