// Rate limits (rate-limiter-flexible, in process memory: each replica limits on its own):
// failed authentication per client address (failures only), and mutations that call AWS per token
// and per address. Exceeding one answers RATE_LIMITED with retryAfterSeconds and a Retry-After header.
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

  /**
   * Counts a failed authentication from an address; refuses (RATE_LIMITED) once the address has
   * failed too often recently. Only failures count, and only a failure is refused: a valid token
   * is verified before this is asked, so callers behind the same proxy are not locked out by one
   * client's bad token.
   */
  async recordAuthFailure(address: string): Promise<void> {
    try {
      await this.authFailures.consume(address);
    } catch (rejection) {
      throw new RateLimitedError("failed authentication attempts", retryAfter(rejection));
    }
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
