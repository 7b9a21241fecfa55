/**
 * Model endpoint failures that retrying cannot fix. The CLI retries every failed request up to 10 times
 * with growing delays (minutes in all), 401s included; for these the run stops at the first sign instead,
 * so the chat hears what to fix rather than nothing until the host's timeout.
 */
import type { SDKAPIRetryMessage } from '@anthropic-ai/claude-agent-sdk';

const FIX: Partial<Record<SDKAPIRetryMessage['error'], string>> = {
  authentication_failed:
    'it refused the credentials: check ANTHROPIC_API_KEY or ANTHROPIC_AUTH_TOKEN in the host .env',
  model_not_found: 'it does not serve that model: check ANTHROPIC_MODEL in the host .env',
  billing_error: 'it refused for billing reasons: check the account behind the key',
  account_on_hold: 'the account behind the key is on hold',
  oauth_org_not_allowed: 'the organisation of the token is not allowed',
  verification_required: 'the account behind the key needs verification',
  cloud_credential_error: "the cloud provider's credentials were refused",
};

/** The error for a person when this retry will not help, or null when retrying may. */
export function unrecoverableModelError(retry: SDKAPIRetryMessage): string | null {
  const fix = FIX[retry.error];
  if (fix === undefined) return null;
  const status = retry.error_status === null ? '' : ` (HTTP ${retry.error_status})`;
  return `The model endpoint failed${status}: ${fix}.`;
}
