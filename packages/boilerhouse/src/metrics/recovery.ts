/**
 * What this daemon's start-up recovery did (pool/recovery.ts), read at scrape time: it happens before the
 * metrics listen, and a gauge per start says more after a crash than a counter that starts at zero.
 */
import { Gauge, type Registry } from 'prom-client';
import type { RecoveryReport } from '../pool/recovery.ts';

export function recoveryGauge(registry: Registry, report: () => RecoveryReport | undefined): void {
  new Gauge({
    name: 'boilerhouse_last_recovery_instances',
    help: 'What the last start-up recovery did, by action: adopted, rolled_back, finished, failed (container dead, saved from the host), unrecorded_claims (of those failed: claimed after the database was saved, as in a restored backup), stray_containers, stray_networks, stray_directories.',
    labelNames: ['action'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [action, count] of Object.entries(report() ?? {})) {
        this.set({ action: action.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`) }, count);
      }
    },
  });
}
