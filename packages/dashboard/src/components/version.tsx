/** An instance's version: the workload file's hash it was made from, flagged when that is an old one. */
import type { Instance } from '../api/types.ts';

export function VersionTag(props: { instance: Pick<Instance, 'version' | 'version_status'> }) {
  const { version, version_status } = props.instance;
  return (
    <span className="version" data-version-status={version_status}>
      <span className="mono small">{version}</span>
      {version_status === 'old' ? (
        <span className="badge version-old" title="Made from an earlier version of the workload file">
          old version
        </span>
      ) : null}
    </span>
  );
}
