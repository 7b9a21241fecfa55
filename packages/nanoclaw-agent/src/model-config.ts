/**
 * Whether a model endpoint is configured. Without a key the CLI answers every turn with "Not logged in ·
 * Please run /login", which means nothing in a chat; this says what to set instead. Values never appear
 * in the message, only variable names.
 */
export function modelConfigError(env: NodeJS.ProcessEnv): string | null {
  const key = env.ANTHROPIC_API_KEY?.trim() || env.ANTHROPIC_AUTH_TOKEN?.trim();
  const baseUrl = env.ANTHROPIC_BASE_URL?.trim();
  if (baseUrl) {
    let url: URL | undefined;
    try {
      url = new URL(baseUrl);
    } catch {
      url = undefined;
    }
    if (url === undefined || (url.protocol !== 'http:' && url.protocol !== 'https:'))
      return 'No model is configured: ANTHROPIC_BASE_URL is not an http(s) URL. Set it to the address of an Anthropic-compatible endpoint in the host .env.';
  }
  if (!key)
    return baseUrl
      ? 'No model is configured: ANTHROPIC_BASE_URL is set but neither ANTHROPIC_API_KEY nor ANTHROPIC_AUTH_TOKEN is. Set one of them in the host .env.'
      : 'No model is configured: set ANTHROPIC_API_KEY (or ANTHROPIC_AUTH_TOKEN, with ANTHROPIC_BASE_URL for another Anthropic-compatible endpoint) in the host .env.';
  return null;
}
