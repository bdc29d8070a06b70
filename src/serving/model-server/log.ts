/** The model server's logging: one JSON line per event, injectable so tests stay quiet. */

export type LogLevel = 'info' | 'warn' | 'error';
export type Log = (level: LogLevel, message: string, fields?: Record<string, unknown>) => void;

export const jsonLineLog: Log = (level, message, fields) => {
  const line = JSON.stringify({ time: new Date().toISOString(), level, component: 'model-server', message, ...fields });
  if (level === 'info') console.log(line);
  else console.error(line);
};

export const silentLog: Log = () => undefined;

export function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
