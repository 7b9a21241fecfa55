/**
 * Errors that reach an API caller. Each carries its HTTP status and a stable code; the API turns them into
 * `{"error": {"code", "message"}}` in one place, so handlers never catch.
 */
export class BoilerhouseError extends Error {
  readonly status: number;
  readonly code: string;
  constructor(status: number, code: string, message: string, options: { cause?: unknown } = {}) {
    super(message, options);
    this.name = 'BoilerhouseError';
    this.status = status;
    this.code = code;
  }
}

export class BadRequestError extends BoilerhouseError {
  constructor(message: string) {
    super(400, 'bad_request', message);
  }
}

export class NotFoundError extends BoilerhouseError {
  constructor(message: string) {
    super(404, 'not_found', message);
  }
}

/** No credentials, or credentials that are not (or no longer) valid. */
export class UnauthorizedError extends BoilerhouseError {
  constructor(message: string) {
    super(401, 'unauthorized', message);
  }
}

/** Valid credentials without the scope the route needs. */
export class ForbiddenError extends BoilerhouseError {
  constructor(message: string) {
    super(403, 'forbidden', message);
  }
}

/** The request conflicts with the tenant's current state (e.g. restoring a save while claimed). */
export class ConflictError extends BoilerhouseError {
  constructor(message: string) {
    super(409, 'conflict', message);
  }
}

/** No instance can be had now: every slot is claimed and nothing can be evicted. */
export class PoolExhaustedError extends BoilerhouseError {
  readonly retryAfterSeconds: number;
  constructor(workload: string, maxSize: number, retryAfterSeconds: number, cause?: unknown) {
    super(503, 'pool_exhausted', `pool "${workload}" is exhausted: all ${maxSize} instances are in use`, {
      cause,
    });
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

/** The instance chosen for a claim did not come up healthy; it has been destroyed. */
export class InstanceFailedError extends BoilerhouseError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(502, 'instance_failed', message, options);
  }
}

/** Tenant state could not be saved; nothing was given up that was not saved. */
export class SaveFailedError extends BoilerhouseError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(502, 'save_failed', message, options);
  }
}

/** The daemon is shutting down and takes no new work. */
export class ShuttingDownError extends BoilerhouseError {
  constructor() {
    super(503, 'shutting_down', 'Boilerhouse is shutting down');
  }
}
