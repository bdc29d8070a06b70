/** Links into the Temporal web UI. */
import type { Config } from '../config';

export function workflowUrl(cfg: Config['temporal'], workflowId: string, runId?: string): string {
  const base = `${cfg.uiUrl}/namespaces/${encodeURIComponent(cfg.namespace)}/workflows/${encodeURIComponent(workflowId)}`;
  return runId ? `${base}/${encodeURIComponent(runId)}/history` : base;
}

export function scheduleUrl(cfg: Config['temporal'], scheduleId: string): string {
  return `${cfg.uiUrl}/namespaces/${encodeURIComponent(cfg.namespace)}/schedules/${encodeURIComponent(scheduleId)}`;
}
