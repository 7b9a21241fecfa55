/**
 * Gateway traffic per instance, reported to the daemon in batches (wire.ts TrafficReport): requests
 * answered, what is open (requests, streams, WebSockets), and answers by status class. Refusals the gateway
 * gives itself are counted by workload.
 */
import type { InstanceTraffic, TrafficReport } from './wire.ts';

export class TrafficCounts {
  readonly #instances = new Map<string, InstanceTraffic>();
  readonly #refused = new Map<string, { workload: string; status: string; count: number }>();

  /** A request or WebSocket to an instance starts; the function returned ends it, with its status. */
  open(instanceId: string, workload: string): (status: number) => void {
    const entry = this.#entry(instanceId, workload);
    entry.open++;
    let ended = false;
    return (status) => {
      if (ended) return;
      ended = true;
      const current = this.#entry(instanceId, workload);
      current.open = Math.max(0, current.open - 1);
      current.requests++;
      const group = statusClass(status);
      current.statuses[group] = (current.statuses[group] ?? 0) + 1;
    };
  }

  refused(workload: string, status: number): void {
    const group = statusClass(status);
    const key = `${workload}\0${group}`;
    const entry = this.#refused.get(key) ?? { workload, status: group, count: 0 };
    entry.count++;
    this.#refused.set(key, entry);
  }

  /** What happened since the last report (undefined: nothing), counters zeroed; what is open stays. */
  take(): TrafficReport | undefined {
    const instances = [...this.#instances.values()].filter((entry) => entry.requests > 0 || entry.open > 0);
    const refused = [...this.#refused.values()];
    this.#refused.clear();
    for (const [id, entry] of this.#instances) {
      if (entry.open === 0) this.#instances.delete(id);
      else this.#instances.set(id, { ...entry, requests: 0, statuses: {} });
    }
    if (instances.length === 0 && refused.length === 0) return undefined;
    return { type: 'traffic', instances, refused };
  }

  #entry(instanceId: string, workload: string): InstanceTraffic {
    let entry = this.#instances.get(instanceId);
    if (entry === undefined) {
      entry = { instanceId, workload, requests: 0, open: 0, statuses: {} };
      this.#instances.set(instanceId, entry);
    }
    return entry;
  }
}

function statusClass(status: number): string {
  return status === 101 ? '101' : `${Math.floor(status / 100)}xx`;
}
