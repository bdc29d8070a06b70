/** The data publisher's logging: one JSON line per event (the model server's format), injectable so tests stay quiet. */
import type { Log } from '../serving/model-server/log';

export { errorText, silentLog, type Log } from '../serving/model-server/log';

export const publisherLog: Log = (level, message, fields) => {
  const line = JSON.stringify({ time: new Date().toISOString(), level, component: 'data-publisher', message, ...fields });
  if (level === 'info') console.log(line);
  else console.error(line);
};
