/** publishModelUrl: the seed's model publisher, made idempotent per key. */
import { Context } from '@temporalio/activity';
import { publishDescriptorOnce, publisherOf } from '../messaging/model-descriptors';
import { predictUrlFor } from '../messaging/predict-url';
import type { DescriptorPublished } from '../workflows/types';
import type { ActivityDeps } from './deps';
import { callingRun } from './registry';

export function publishActivities(deps: ActivityDeps) {
  return {
    async publishModelUrl(input: {
      slot: string;
      version: number;
      /** kept for workflow histories that pass it; the URL published is built from the configured slot */
      url?: string;
      key: string;
      description: string;
    }): Promise<DescriptorPublished> {
      const slot = deps.config.slots.find((s) => s.name === input.slot);
      if (!slot)
        throw new Error(
          `publishModelUrl: ${JSON.stringify(input.slot)} is not a configured slot (${deps.config.slots.map((s) => s.name).join(', ')})`,
        );
      if (!Number.isSafeInteger(input.version) || input.version < 1)
        throw new Error(`publishModelUrl: version ${input.version} is not a positive integer`);
      const url = predictUrlFor(slot.baseUrl, slot.name, input.version);
      if (input.url !== undefined && input.url !== url) {
        Context.current().log.warn("ignoring the URL handed to publishModelUrl: publishing the configured slot's URL", {
          given: input.url,
          url,
        });
      }
      const result = await publishDescriptorOnce(deps.kafka, deps.config.topics.models, input.key, {
        name: input.slot,
        description: input.description,
        url,
        publisher: publisherOf(callingRun()),
      });
      Context.current().log.info(result.published ? 'published model URL' : 'model URL already published', { key: input.key, url });
      return { key: input.key, url, ...result };
    },
  };
}
