// The compute capability's public face: the types its callers (resolvers, other capabilities) see.
export type { PricedOffer } from "../aws/compute/offers.js";
export type { LogEvent } from "../aws/compute/logs.js";
export type { ImageSpec } from "../aws/compute/images.js";
