/**
 * POST /containers/create, and the images and pins it depends on. A create is decoded as the engine would
 * decode it, judged (create-policy.ts), its image checked, counted against max_containers, its bind
 * sources pinned, and made under a prefixed name with the child labels; one create at a time per instance.
 */
import { randomBytes } from 'node:crypto';
import { readBody } from '../runtime/engine-client.ts';
import { RuntimeError } from '../runtime/runtime.ts';
import { locateBind } from './binds.ts';
import { decodeBody, requireJsonBody } from './body.ts';
import { CHILD_LABEL, CONTAINER_NAME } from './children.ts';
import type { Outcome, ProxyContext, ProxyRequest } from './context.ts';
import { checkCreate } from './create-policy.ts';
import { CREATE_BODY } from './create-schema.ts';
import { ProxyDenial, quote } from './denial.ts';
import { type InspectedImage, namesImage } from './images.ts';
import { refuseSecrets } from './secret-leaks.ts';

export async function create(context: ProxyContext, request: ProxyRequest): Promise<Outcome> {
  const decoded = decodeBody(requireJsonBody(request.body, request.headers, 'container create'), CREATE_BODY);
  const checked = checkCreate(decoded, context.policy);
  refuseSecrets(decoded, await context.tenantSecrets(), 'container create');
  const located = checked.binds.map((bind) => ({ bind, ...locateBind(bind, context.volumes) }));
  const image = context.images.check(checked.image);
  await verifyImage(context, image);
  const name = (request.query.get('name') ?? '').replace(/^\//, '');
  if (name !== '' && !CONTAINER_NAME.test(name)) {
    throw new ProxyDenial(
      400,
      'query',
      `container name ${quote(name)} is invalid: [a-zA-Z0-9][a-zA-Z0-9_.-]+ only`,
    );
  }
  const query = new URLSearchParams({
    name: context.children.engineName(name || `child-${randomBytes(4).toString('hex')}`),
  });
  const platform = request.query.get('platform');
  if (platform) query.set('platform', platform);

  return context.serialize(async () => {
    const most = context.policy.access.maxContainers;
    const existing = await context.children.count(most);
    if (existing >= most) {
      throw new ProxyDenial(
        403,
        'container_limit',
        `this instance already has ${existing} containers, the most it may have (docker.max_containers: ${most}); remove one first`,
      );
    }
    const pinKey = located.length > 0 ? randomBytes(6).toString('hex') : undefined;
    // Pins of containers the engine removed by itself (AutoRemove) go before new ones are made.
    if (pinKey !== undefined) await sweepPins(context);
    try {
      const binds = [];
      for (const [index, bind] of located.entries()) {
        const source = await context.pins.pin(
          pinKey as string,
          index,
          bind.hostPath,
          bind.volume.hostPath,
          bind.bind.source,
          bind.readOnly,
        );
        // The pin is read-only itself when asked; the engine's own read-only remount would drop nosuid,nodev.
        binds.push({ Type: 'bind', Source: source, Target: bind.bind.target, ReadOnly: false });
      }
      const body = {
        ...checked.body,
        Image: image,
        Labels: {
          ...checked.body.Labels,
          ...context.childLabels,
          ...(pinKey ? { [CHILD_LABEL.pins]: pinKey } : {}),
        },
        HostConfig: { ...checked.body.HostConfig, Mounts: [...binds, ...checked.body.HostConfig.Mounts] },
      };
      const response = await context.engine.open('POST', `/containers/create?${query}`, { body });
      const answer = await readBody(response);
      const status = response.statusCode ?? 502;
      if (status === 201) {
        const { Id } = JSON.parse(answer.toString('utf8')) as { Id: string };
        context.children.remember(Id);
        if (pinKey !== undefined) context.pinned.set(Id, pinKey);
      } else if (pinKey) await context.pins.release(pinKey);
      return { kind: 'reply', status, body: answer };
    } catch (error) {
      if (pinKey) await context.pins.release(pinKey);
      throw error;
    }
  });
}

/** How long an image, once seen to be named by its reference, is not inspected again before a create. */
const IMAGE_CHECK_MS = 10_000;

async function verifyImage(context: ProxyContext, image: string): Promise<void> {
  if ((context.verifiedImages.get(image) ?? 0) > Date.now()) return;
  await inspectImage(context, image);
}

/** The engine's view of an allowed image; refuses a reference the engine resolved some other way. */
export async function inspectImage(context: ProxyContext, image: string): Promise<{ raw: Buffer }> {
  let raw: Buffer;
  try {
    raw = (await context.engine.call('GET', `/images/${encodeURI(image)}/json`)).body;
  } catch (error) {
    if (error instanceof RuntimeError && error.status === 404) {
      throw new ProxyDenial(
        404,
        'image',
        `No such image: ${image} (there is no registry here: it must be built on this host)`,
        {
          bare: true,
          quiet: true,
        },
      );
    }
    throw error;
  }
  if (!namesImage(image, JSON.parse(raw.toString('utf8')) as InspectedImage)) {
    throw new ProxyDenial(
      403,
      'image',
      `image ${quote(image)} did not resolve to an image tagged so; refused`,
    );
  }
  context.verifiedImages.set(image, Date.now() + IMAGE_CHECK_MS);
  return { raw };
}

/** Unmounts the pinned bind sources of containers that no longer exist. */
export async function releaseStalePins(context: ProxyContext): Promise<void> {
  await context.serialize(() => sweepPins(context));
}

async function sweepPins(context: ProxyContext): Promise<void> {
  context.pinned.clear();
  for (const child of await context.children.list()) {
    const key = child.Labels?.[CHILD_LABEL.pins];
    if (key !== undefined) context.pinned.set(child.Id, key);
  }
  await context.pins.releaseAllBut(new Set(context.pinned.values()));
}
