/**
 * Linux capabilities a workload may grant the containers it starts (`docker.capabilities`), and the ones it
 * may not. Children always start with every capability dropped and run as the instance's own non-root
 * user, under no-new-privileges; a grant adds a name back to what the engine allows them.
 */

import { type Field, reject, scalarField } from '../schema/field.ts';
import { closestKey } from '../suggest.ts';

/** What one refused capability reaches, for the message that refuses it. */
export const REFUSED_CAPABILITIES: Readonly<Record<string, string>> = {
  // Beyond the container: the kernel, the host's devices, clock, power, logs and security modules.
  SYS_ADMIN: 'mounts filesystems and enters namespaces: most of the kernel',
  SYS_MODULE: 'loads kernel modules',
  SYS_RAWIO: "reads and writes the host's devices and memory",
  SYS_BOOT: 'reboots the host',
  SYS_TIME: "sets the host's clock",
  SYS_PACCT: "switches the host's process accounting",
  SYS_TTY_CONFIG: "configures the host's terminals",
  SYS_NICE: 'asks for real-time scheduling, which starves the host',
  SYS_RESOURCE: 'overrides resource limits',
  SYS_PTRACE: 'traces processes and widens the system calls the engine allows',
  SYSLOG: "reads the kernel's log and addresses",
  PERFMON: 'traces the kernel',
  BPF: 'loads BPF programs into the kernel',
  CHECKPOINT_RESTORE: 'sets process ids and reads other processes for checkpointing',
  WAKE_ALARM: 'sets alarms that wake the host',
  BLOCK_SUSPEND: 'keeps the host from suspending',
  AUDIT_CONTROL: "changes the host's audit rules",
  AUDIT_READ: "reads the host's audit log",
  MAC_ADMIN: 'configures the security modules',
  MAC_OVERRIDE: 'overrides the security modules',
  // The network other containers share.
  NET_ADMIN: 'reconfigures the network',
  NET_RAW: 'forges traffic on the network others share',
  // Files on the host's disk, through the instance's volumes.
  MKNOD: 'makes device nodes',
  DAC_READ_SEARCH: 'opens host files by handle, outside any mount (open_by_handle_at)',
  SETFCAP: "writes file capabilities onto the host's disk",
  LINUX_IMMUTABLE: 'makes files in the volumes undeletable, even by Boilerhouse',
  // Children never run as root, nor change who they are.
  SETUID: 'changes to any user, root included',
  SETGID: 'changes to any group, root included',
  SETPCAP: 'changes capability sets',
};

/** What a workload may grant: the rest of Linux's capabilities, which stay inside the container. */
export const GRANTABLE_CAPABILITIES = [
  'AUDIT_WRITE',
  'CHOWN',
  'DAC_OVERRIDE',
  'FOWNER',
  'FSETID',
  'IPC_LOCK',
  'IPC_OWNER',
  'KILL',
  'LEASE',
  'NET_BIND_SERVICE',
  'NET_BROADCAST',
  'SYS_CHROOT',
] as const;

const KNOWN = [...GRANTABLE_CAPABILITIES, ...Object.keys(REFUSED_CAPABILITIES)];

/** `chown`, `CAP_CHOWN` and `CHOWN` alike, as the engine reads them; undefined for anything else. */
export function capabilityName(text: string): string | undefined {
  const name = text.toUpperCase().replace(/^CAP_/, '');
  return KNOWN.includes(name) ? name : undefined;
}

/** One entry of `docker.capabilities`: a grantable name, written `CHOWN` or `CAP_CHOWN`. */
export function capability(): Field<string> {
  const expected = 'a Linux capability name such as CHOWN';
  const spellings = GRANTABLE_CAPABILITIES.flatMap((name) => [name, `CAP_${name}`]);
  return scalarField({
    expected,
    schema: { type: 'string', enum: spellings },
    read(value) {
      const text = typeof value === 'string' ? value : String(value);
      const name = /^[A-Z_]+$/.test(text) ? capabilityName(text) : undefined;
      if (name === undefined) {
        const suggestion = closestKey(text.replace(/^cap_/i, ''), KNOWN);
        return reject(
          `${JSON.stringify(text)} is not a Linux capability name${suggestion ? `; did you mean "${suggestion}"?` : ''}`,
        );
      }
      const why = REFUSED_CAPABILITIES[name];
      if (why !== undefined) return reject(`${name} cannot be granted: it ${why}`);
      return name;
    },
  });
}
