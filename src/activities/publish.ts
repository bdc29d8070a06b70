/** publishModelUrl: the seed's model publisher, made idempotent per key. */
import { Context } from '@temporalio/activity';
import { publishDescriptorOnce } from '../messaging/model-descriptors';
import type { PublishResult } from '../workflows/types';
import type { ActivityDeps } from './deps';

export function publishActivities(deps: ActivityDeps) {
  return {
    async publishModelUrl(input: {
      slot: string;
      version: number;
      url: string;
      key: string;
      description: string;
    }): Promise<PublishResult> {
      const result = await publishDescriptorOnce(deps.kafka, deps.config.topics.models, input.key, {
        name: input.slot,
        description: input.description,
        url: input.url,
      });
      Context.current().log.info(result.published ? 'published model URL' : 'model URL already published', {
        key: input.key,
        url: input.url,
      });
      return { key: input.key, url: input.url, ...result };
    },
  };
}
