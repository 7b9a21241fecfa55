/**
 * Running code inside an instance's container the way its own process would: `docker exec` through the
 * engine as the workload's user (uid 1000), with a Node script (the NanoClaw image has node, no docker CLI).
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const exec = promisify(execFile);

/** Runs `script` (an ES module) with `input` as JSON on argv[1]; returns what it printed as JSON. */
export async function runInInstance<T>(
  containerId: string,
  script: string,
  input: unknown = null,
): Promise<T> {
  const { stdout } = await exec(
    'docker',
    ['exec', '-u', '1000', containerId, 'node', '--input-type=module', '-e', script, JSON.stringify(input)],
    { maxBuffer: 16 * 1024 * 1024 },
  );
  try {
    return JSON.parse(stdout) as T;
  } catch {
    throw new Error(`the script in ${containerId.slice(0, 12)} printed no JSON: ${stdout.slice(0, 500)}`);
  }
}

export interface SocketAnswer {
  status: number;
  // biome-ignore lint/suspicious/noExplicitAny: tests assert on the Engine API's JSON bodies.
  body: any;
}

export interface SocketRequest {
  method: string;
  path: string;
  body?: unknown;
}

/**
 * Sends Engine API requests, in order, to the Docker socket the instance was given (its DOCKER_HOST, the
 * filtered per-instance socket), from inside the instance.
 */
export function askInstanceSocket(containerId: string, requests: SocketRequest[]): Promise<SocketAnswer[]> {
  return runInInstance<SocketAnswer[]>(containerId, SOCKET_CLIENT, requests);
}

const SOCKET_CLIENT = `
import { request } from 'node:http';
const socketPath = new URL(process.env.DOCKER_HOST).pathname;
const ask = ({ method, path, body }) => new Promise((resolve, reject) => {
  const payload = body === undefined ? undefined : JSON.stringify(body);
  const req = request({ socketPath, method, path, headers: payload === undefined ? {} : {
    'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } }, (res) => {
    const chunks = [];
    res.on('data', (chunk) => chunks.push(chunk));
    res.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      let parsed = text;
      try { parsed = JSON.parse(text); } catch {}
      resolve({ status: res.statusCode, body: parsed });
    });
  });
  req.on('error', reject);
  req.end(payload);
});
const answers = [];
for (const one of JSON.parse(process.argv[1])) answers.push(await ask(one));
console.log(JSON.stringify(answers));
`;
