/**
 * The images a workload needs that are not on this host, as `workload apply` warns of them: there is no
 * registry, so an image that is not built yet leaves the pool unable to fill until it is.
 */
import type { WorkloadSpec } from '@boilerhouse/spec';
import { exactImages } from '../proxy/images.ts';
import type { ContainerRuntime } from '../runtime/runtime.ts';

export async function missingImages(
  runtime: ContainerRuntime,
  spec: WorkloadSpec,
): Promise<{ field: string; message: string }[]> {
  const missing: { field: string; message: string }[] = [];
  if ((await runtime.inspectImage(spec.image)) === undefined) {
    missing.push({
      field: 'image',
      message: `image ${spec.image} is not on this host (there is no registry: build it first); no instance can start until it is`,
    });
  }
  // Globs name no one image; the exact names are what its containers will ask for.
  for (const name of exactImages(spec.docker?.images ?? [])) {
    if ((await runtime.inspectImage(name)) === undefined) {
      missing.push({
        field: 'docker.images',
        message: `image ${name}, which its containers use, is not on this host: build it before a tenant's container needs it`,
      });
    }
  }
  return missing;
}
