import type { Logger } from "../logging/logger.js";
import type { Viewer } from "../users/viewer.js";
import type { Services } from "../server/services.js";
import type { EventBus } from "../events/event-bus.js";
import type { Loaders } from "./loaders.js";
import type { RateLimits } from "./guards/rate-limits.js";

/** What every resolver receives. */
export interface Context {
  viewer: Viewer | null;
  requestId: string;
  services: Services;
  loaders: Loaders;
  logger: Logger;
  events: EventBus;
  rateLimits: RateLimits;
  /** The client's address, for per-address rate limits. */
  clientAddress: string;
}
