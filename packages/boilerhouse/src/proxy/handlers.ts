/**
 * What each endpoint does: checks that the container (or exec instance) is the caller's own, judges bodies,
 * and says what to send to the engine and how the answer is to be shown. Transport (streaming, upgrades)
 * is the server's; nothing here writes to a socket.
 */
import { RuntimeError } from '../runtime/runtime.ts';
import { decodeBody, requireJsonBody } from './body.ts';
import { checkUser } from './child-identity.ts';
import { forward, type Handler, type ProxyContext, withQuery } from './context.ts';
import { create, inspectImage, releaseStalePins } from './create.ts';
import { EXEC_CREATE_BODY, EXEC_START_BODY } from './create-schema.ts';
import { ProxyDenial } from './denial.ts';
import type { GoStruct } from './go-decode.ts';
import type { RouteName } from './routes.ts';
import { refuseSecrets } from './secret-leaks.ts';
import { ownEvents, ownFilters, ownInfo, ownInspect, ownList } from './views.ts';

export const HANDLERS: Record<RouteName, Handler> = {
  ping: async (_, request) => forward(request.method, '/_ping'),
  version: async () => forward('GET', '/version'),
  info: async (context) => {
    const states = (await context.children.list()).map((child) => child.State);
    return forward('GET', '/info', { view: (body) => ownInfo(body, states) });
  },
  events: async (context, request) => {
    const query = new URLSearchParams(request.query);
    query.set('filters', ownFilters(request.query.get('filters'), context.children));
    return forward('GET', withQuery('/events', query), { stream: () => ownEvents(context.children) });
  },
  'image.inspect': async (context, request) => {
    const image = context.images.check(request.param as string);
    const { raw } = await inspectImage(context, image);
    return { kind: 'reply', status: 200, body: raw };
  },
  'container.create': create,
  'container.list': async (context, request) => {
    const query = new URLSearchParams(request.query);
    query.set('filters', ownFilters(request.query.get('filters'), context.children));
    return forward('GET', withQuery('/containers/json', query), {
      view: (body) => ownList(body, context.children),
    });
  },
  'container.inspect': async (context, request) => {
    const id = await ownContainer(context, request.param);
    return forward('GET', withQuery(`/containers/${id}/json`, request.query), {
      view: (body) => ownInspect(body, context.children),
    });
  },
  'container.start': containerAction('start'),
  'container.wait': containerAction('wait'),
  'container.attach': containerAction('attach'),
  'container.logs': async (context, request) => {
    const id = await ownContainer(context, request.param);
    return forward('GET', withQuery(`/containers/${id}/logs`, request.query));
  },
  'container.stop': containerAction('stop'),
  'container.kill': containerAction('kill'),
  'container.resize': containerAction('resize'),
  'container.remove': async (context, request) => {
    const id = await ownContainer(context, request.param);
    if (goBool(request.query.get('link'))) {
      throw new ProxyDenial(
        403,
        'query',
        'removing a link (link=1) is refused: containers have no links here',
      );
    }
    // Anonymous volumes go with the container: nothing else could ever reach them.
    const query = new URLSearchParams({ v: '1' });
    if (goBool(request.query.get('force'))) query.set('force', '1');
    return forward('DELETE', `/containers/${id}?${query}`, {
      after: (status) => {
        if (status >= 300) return;
        context.children.forget(id);
        const key = context.pinned.get(id);
        context.pinned.delete(id);
        if (key !== undefined) context.background(() => context.pins.release(key));
        // Others still pinned may be gone without a word (AutoRemove): look, when there are any.
        if (context.pinned.size > 0) context.background(() => releaseStalePins(context));
      },
    });
  },
  'exec.create': async (context, request) => {
    requireExec(context);
    const id = await ownContainer(context, request.param);
    const exec = decodeBody(requireJsonBody(request.body, request.headers, 'exec create'), EXEC_CREATE_BODY);
    const problems: string[] = [];
    if (exec.Privileged === true) problems.push('Privileged is refused');
    const user = checkUser(exec.User, context.policy.runAs, 'User', (what) => problems.push(what));
    if (problems.length > 0)
      throw new ProxyDenial(403, 'create_policy', `exec create refused: ${problems.join('; ')}`);
    refuseSecrets(exec, await context.tenantSecrets(), 'exec create');
    const body = pick(exec, [
      'Tty',
      'AttachStdin',
      'AttachStdout',
      'AttachStderr',
      'Detach',
      'DetachKeys',
      'Env',
      'WorkingDir',
      'Cmd',
    ]);
    return forward('POST', `/containers/${id}/exec`, {
      body: { ...body, User: user },
      view: (answer) => {
        const { Id } = JSON.parse(answer.toString('utf8')) as { Id: string };
        context.execs.add(Id);
        return answer;
      },
    });
  },
  'exec.start': async (context, request) => {
    requireExec(context);
    const id = await ownExec(context, request.param as string);
    const start = decodeBody(requireJsonBody(request.body, request.headers, 'exec start'), EXEC_START_BODY);
    return forward('POST', `/exec/${id}/start`, { body: pick(start, ['Detach', 'Tty']) });
  },
  'exec.inspect': async (context, request) => {
    requireExec(context);
    return forward('GET', `/exec/${await ownExec(context, request.param as string)}/json`);
  },
  'exec.resize': async (context, request) => {
    requireExec(context);
    const id = await ownExec(context, request.param as string);
    return forward('POST', withQuery(`/exec/${id}/resize`, request.query));
  },
};

function containerAction(action: string): Handler {
  return async (context, request) => {
    const id = await ownContainer(context, request.param);
    return forward('POST', withQuery(`/containers/${id}/${action}`, request.query));
  };
}

/** The full id of the caller's own container; 404 alike for another's and for none. */
async function ownContainer(context: ProxyContext, reference: string | undefined): Promise<string> {
  const found = await context.children.resolve(reference as string);
  if ('id' in found) return found.id;
  throw new ProxyDenial(404, 'not_own_container', `No such container: ${reference}`, {
    bare: true,
    quiet: 'missing' in found,
  });
}

async function ownExec(context: ProxyContext, id: string): Promise<string> {
  if (context.execs.has(id)) return id;
  const missing = () =>
    new ProxyDenial(404, 'not_own_container', `No such exec instance: ${id}`, { bare: true, quiet: true });
  let exec: { ContainerID?: string };
  try {
    exec = await context.engine.json<{ ContainerID?: string }>('GET', `/exec/${id}/json`);
  } catch (error) {
    if (error instanceof RuntimeError && error.status === 404) throw missing();
    throw error;
  }
  const owner = await context.children.resolve(exec.ContainerID ?? '');
  if (!('id' in owner))
    throw new ProxyDenial(404, 'not_own_container', `No such exec instance: ${id}`, { bare: true });
  context.execs.add(id);
  return id;
}

function requireExec(context: ProxyContext): void {
  if (!context.policy.access.exec) {
    throw new ProxyDenial(
      403,
      'exec_disabled',
      'exec is not enabled for this workload (docker.exec: true allows it)',
    );
  }
}

function pick(value: GoStruct, fields: string[]): GoStruct {
  return Object.fromEntries(
    fields.filter((field) => value[field] !== undefined).map((field) => [field, value[field]]),
  );
}

/** A boolean query parameter as the engine reads one: anything but "", 0, no, false, none is true. */
function goBool(value: string | null): boolean {
  const text = (value ?? '').trim().toLowerCase();
  return !['', '0', 'no', 'false', 'none'].includes(text);
}
