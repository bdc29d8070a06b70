/** What the activities are built from: injected, so tests can point them anywhere. */
import type { Client as TemporalClient } from '@temporalio/client';
import type { Kafka } from 'kafkajs';
import type { Client as MinioClient } from 'minio';
import type { Config } from '../config';
import { deployLease, type DeployLease } from '../store/lease';

export interface ActivityDeps {
  config: Config;
  minio: MinioClient;
  kafka: Kafka;
  /** used to signal training progress to the workflow (optional) */
  temporal?: TemporalClient;
}

/** The deploy lease beside the configured registry. */
export function leaseOf(deps: Pick<ActivityDeps, 'config' | 'minio'>): DeployLease {
  return deployLease(deps.minio, deps.config.buckets.models, deps.config.registryKey);
}
