/**
 * What the assistant answers while no model is configured: what to set, and where. On its own, NanoClaw
 * reads the key from its `.env` or environment when it starts. Under Boilerhouse the key is one of the
 * tenant's secrets, which Boilerhouse writes into that `.env` when it starts the host for a claim: stored
 * with `bh secrets set`, it reaches a host that starts after, not the running one (a claim that finds the
 * tenant's instance still running keeps its process). So the operator also destroys the instance, which
 * saves the tenant's state first, and the tenant's next claim (a message through the gateway wakes it)
 * starts a new host with the key.
 */
import type { Config } from '../config.ts';

const OTHERWISE = '(or ANTHROPIC_AUTH_TOKEN, with ANTHROPIC_BASE_URL for another endpoint)';

export function noModelReply(config: Config): string {
  const endpoint =
    config.model.baseUrl === undefined
      ? ''
      : ' ANTHROPIC_BASE_URL is set, but a key or token is still needed (any value, if your endpoint checks none).';
  const hosted = config.boilerhouse;
  if (hosted === undefined) {
    return `No model is configured, so I cannot answer yet. Set ANTHROPIC_API_KEY ${OTHERWISE} in ${config.home}/.env or the environment, then restart NanoClaw.${endpoint}`;
  }
  const workload = hosted.workload ?? '<workload>';
  const instance = hosted.instance ?? '<instance>';
  return (
    `No model is configured, so I cannot answer yet. This assistant runs on Boilerhouse, where the model's key is one of ${hosted.tenant}'s secrets. ` +
    `Boilerhouse's operator sets it with \`bh secrets set ${hosted.tenant} --workload ${workload} ANTHROPIC_API_KEY\` ${OTHERWISE}, ` +
    `then runs \`bh instances destroy ${instance}\`: this assistant reads its secrets when it starts, so it is saved and stopped, and the next message (or claim) starts it again with the key.${endpoint}`
  );
}
