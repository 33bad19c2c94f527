import type { Logger } from "../logging/logger.js";
import type { Viewer } from "../auth/viewer.js";
import type { Services } from "../services/services.js";
import type { Loaders } from "./loaders.js";

/** What every resolver receives. */
export interface Context {
  viewer: Viewer | null;
  requestId: string;
  services: Services;
  loaders: Loaders;
  logger: Logger;
}
