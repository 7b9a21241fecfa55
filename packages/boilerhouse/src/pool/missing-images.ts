/**
 * The images a workload needs that are not on this host, as `workload apply` warns of them, and how a
 * missing image is said wherever one is found (an instance's start, an upgrade): there is no registry, so
 * an image that is not built yet leaves the pool unable to fill until it is.
 */
import type { WorkloadSpec } from '@boilerhouse/spec';
import { exactImages } from '../proxy/images.ts';
import type { ContainerRuntime } from '../runtime/runtime.ts';

/** Where the workload names the image: the one its instances run, or one its own containers use. */
export type ImageField = 'image' | 'docker.images';

/** `version`: the workload version that needs it, when that is not the one loaded (an upgrade). */
export function imageNotOnHost(image: string, field: ImageField, version?: string): string {
  const of = version === undefined ? '' : ` of version ${version}`;
  const which = field === 'image' ? '' : ', which its containers use (docker.images),';
  return `image ${image}${of}${which} is not on this host (there is no registry: build it first)`;
}

export async function missingImages(
  runtime: ContainerRuntime,
  spec: WorkloadSpec,
): Promise<{ field: ImageField; image: string; message: string }[]> {
  // Globs name no one image; the exact names are what its containers will ask for.
  const needed = [
    { field: 'image' as const, image: spec.image },
    ...exactImages(spec.docker?.images ?? []).map((image) => ({ field: 'docker.images' as const, image })),
  ];
  const missing: { field: ImageField; image: string; message: string }[] = [];
  for (const { field, image } of needed) {
    if ((await runtime.inspectImage(image)) !== undefined) continue;
    // An instance's start checks both (lifecycle.ts), so either one missing stops the pool.
    missing.push({
      field,
      image,
      message: `${imageNotOnHost(image, field)}; no instance can start until it is`,
    });
  }
  return missing;
}
