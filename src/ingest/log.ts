/** The data publisher's logging: one JSON line per event (the model server's format), injectable so tests stay quiet. */
import { jsonLineLogFor, type Log } from '../process/json-log';

export { errorText, silentLog, type Log } from '../process/json-log';

export const publisherLog: Log = jsonLineLogFor('data-publisher');
