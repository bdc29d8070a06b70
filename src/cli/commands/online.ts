/** `recommender online`: the online figures per model version, from the evaluator's checkpoints in MinIO. */
import { Command } from 'commander';
import { loadConfig } from '../../config';
import { createMinioClient } from '../../storage/minio-client';
import { onlineFigures } from '../../store/online-figures';
import { onlineTable } from '../online-table';

export function onlineCommand(): Command {
  return new Command('online')
    .description(
      'Online HR@10 per model version with 95 % intervals, beside the popularity and previous-model shadows on the same requests (docs/design.md, "Quality out")',
    )
    .option('--group <id>', 'the evaluator group whose figures to show (default: EVALUATOR_GROUP)')
    .option('--json', 'print the raw counts as JSON')
    .action(async (opts: { group?: string; json?: boolean }) => {
      const config = loadConfig();
      const group = opts.group ?? config.evaluator.groupId;
      const figures = await onlineFigures({ client: createMinioClient(config.minio), bucket: config.buckets.models, group });
      console.log(opts.json ? JSON.stringify(figures, null, 2) : onlineTable(figures));
    });
}
