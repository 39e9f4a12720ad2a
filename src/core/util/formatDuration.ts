// How a duration is written for a person, the same in the Tasks view, on the dashboard and in the
// CLI. Pure and free of Node and the editor, so the host, the webview bundle and the CLI import it.

/** A duration in ms: "0 ms", "850 ms", "1.24 s", "12.5 s", "2m 05s", "1h 02m". Non-finite or <= 0 is "0 ms". */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms <= 0) return '0 ms';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 10_000) return `${(ms / 1000).toFixed(2)} s`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const s = Math.round(ms / 1000);
  if (s < 3600) return `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}
