// Rate limits (rate-limiter-flexible, in process memory: each replica limits on its own):
// failed authentication per client address, and mutations that call AWS per token and per
// address. Exceeding one answers RATE_LIMITED with retryAfterSeconds and a Retry-After header.
import { RateLimiterMemory, RateLimiterRes } from "rate-limiter-flexible";
import { RateLimitedError } from "../../errors/rate-limit-error.js";

export interface RateLimitSettings {
  authFailuresPerMinute: number;
  awsMutationsPerMinute: number;
}

const retryAfter = (rejection: unknown): number =>
  rejection instanceof RateLimiterRes ? Math.max(1, Math.ceil(rejection.msBeforeNext / 1000)) : 60;

export class RateLimits {
  private readonly authFailures: RateLimiterMemory;
  private readonly awsMutations: RateLimiterMemory;

  constructor(settings: RateLimitSettings) {
    this.authFailures = new RateLimiterMemory({ keyPrefix: "auth", points: settings.authFailuresPerMinute, duration: 60 });
    this.awsMutations = new RateLimiterMemory({ keyPrefix: "aws", points: settings.awsMutationsPerMinute, duration: 60 });
  }

  /** Refuses a client address that has failed authentication too often recently. */
  async assertMayAuthenticate(address: string): Promise<void> {
    const state = await this.authFailures.get(address);
    if (state && state.remainingPoints <= 0) throw new RateLimitedError("failed authentication attempts", retryAfter(state));
  }

  async recordAuthFailure(address: string): Promise<void> {
    await this.authFailures.consume(address).catch(() => undefined);
  }

  /** Counts one AWS-calling mutation against the token and the address. */
  async consumeAwsMutation(tokenId: string, address: string): Promise<void> {
    try {
      await Promise.all([this.awsMutations.consume(`token:${tokenId}`), this.awsMutations.consume(`ip:${address}`)]);
    } catch (rejection) {
      throw new RateLimitedError("AWS-calling mutations", retryAfter(rejection));
    }
  }
}
