// Quiet the Temporal worker's INFO logs in tests; warnings and errors still show.
import { DefaultLogger, Runtime } from '@temporalio/worker';

Runtime.install({ logger: new DefaultLogger('WARN') });
