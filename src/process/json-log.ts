/** The long-running processes' logging: one JSON line per event, naming the component, injectable so tests stay quiet. */

export type LogLevel = 'info' | 'warn' | 'error';
export type Log = (level: LogLevel, message: string, fields?: Record<string, unknown>) => void;

/** A log writing JSON lines for `component`: info to stdout, warnings and errors to stderr. */
export function jsonLineLogFor(component: string): Log {
  return (level, message, fields) => {
    const line = JSON.stringify({ time: new Date().toISOString(), level, component, message, ...fields });
    if (level === 'info') console.log(line);
    else console.error(line);
  };
}

export const jsonLineLog: Log = jsonLineLogFor('model-server');

export const silentLog: Log = () => undefined;

export function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
