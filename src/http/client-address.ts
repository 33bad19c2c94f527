// The client's address, for per-address limits, the same way for HTTP requests and WebSocket
// upgrades. Behind a reverse proxy every connection comes from the proxy; TRUST_PROXY says which
// proxies to believe about X-Forwarded-For (Express's `trust proxy`, through the same proxy-addr).
// Believing it from anyone would let a client choose its own address, so it is off by default.
import type { IncomingMessage } from "node:http";
import proxyAddr from "proxy-addr";

/** Off (0), a hop count, or the addresses/CIDRs of trusted proxies. */
export type TrustProxy = number | string[];

const OFF = new Set(["", "false", "off", "no", "none"]);

/** TRUST_PROXY's value, or a message saying what is wrong with it. */
export function parseTrustProxy(value: string | undefined): TrustProxy | string {
  const text = (value ?? "").trim();
  if (OFF.has(text.toLowerCase())) return 0;
  if (/^\d+$/.test(text)) return Number(text) <= 100 ? Number(text) : "a hop count must be at most 100";
  if (["true", "on", "yes"].includes(text.toLowerCase())) {
    return "must be a hop count or a list of proxy addresses; `true` would believe any client's X-Forwarded-For";
  }
  const list = text.split(",").map((entry) => entry.trim());
  try {
    proxyAddr.compile(list);
  } catch (error) {
    return `must be off, a hop count, or a comma-separated list of proxy addresses and CIDRs (or loopback, linklocal, uniquelocal): ${(error as Error).message}`;
  }
  return list;
}

export type TrustFunction = (address: string, hop: number) => boolean;

/** The function Express's `trust proxy` and `clientAddress` both use. */
export function trustFunction(setting: TrustProxy): TrustFunction {
  return typeof setting === "number" ? (_address, hop) => hop < setting : proxyAddr.compile(setting);
}

/** The address of the client behind any trusted proxies, e.g. "203.0.113.7". */
export function clientAddress(request: IncomingMessage, trust: TrustFunction): string {
  if (!request.socket.remoteAddress) return "unknown";
  return proxyAddr(request, trust);
}
