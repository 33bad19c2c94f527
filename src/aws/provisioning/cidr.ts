// CIDR parsing for security group rules: validated before any AWS call (so a bad value fails with
// the parameter named), and put in one canonical form so rules compare equal however they were
// written ("10.1.2.3/8" and "10.0.0.0/8" are the same range; IPv6 in RFC 5952 form).
import net from "node:net";

export interface Cidr {
  family: 4 | 6;
  /** Network address with host bits cleared, then "/prefix"; IPv6 compressed and lower-case. */
  canonical: string;
}

/** The canonical form of `text`, or null when it is not an IPv4 or IPv6 CIDR. */
export function parseCidr(text: string): Cidr | null {
  const match = /^([^/\s]+)\/(\d{1,3})$/.exec(text.trim());
  if (!match) return null;
  const [, address, prefixText] = match;
  const prefix = Number(prefixText);
  if (net.isIPv4(address)) {
    if (prefix > 32) return null;
    const value = address.split(".").reduce((acc, octet) => acc * 256 + Number(octet), 0);
    const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
    const network = (value & mask) >>> 0;
    const octets = [24, 16, 8, 0].map((shift) => (network >>> shift) & 0xff);
    return { family: 4, canonical: `${octets.join(".")}/${prefix}` };
  }
  if (net.isIPv6(address) && !address.includes(".")) {
    if (prefix > 128) return null;
    const groups = expandIpv6(address);
    const bits = groups.map((g) => g.toString(2).padStart(16, "0")).join("");
    const masked = bits.slice(0, prefix).padEnd(128, "0");
    const networkGroups = Array.from({ length: 8 }, (_, i) => parseInt(masked.slice(i * 16, i * 16 + 16), 2));
    return { family: 6, canonical: `${compressIpv6(networkGroups)}/${prefix}` };
  }
  return null;
}

function expandIpv6(address: string): number[] {
  const [head, tail] = address.includes("::") ? address.split("::") : [address, undefined];
  const headGroups = head ? head.split(":") : [];
  const tailGroups = tail ? tail.split(":") : [];
  const zeros = tail === undefined ? [] : new Array<string>(8 - headGroups.length - tailGroups.length).fill("0");
  return [...headGroups, ...zeros, ...tailGroups].map((g) => parseInt(g, 16));
}

/** RFC 5952: lower-case, no leading zeros, the longest run (≥ 2) of zero groups as "::". */
function compressIpv6(groups: number[]): string {
  let bestStart = -1;
  let bestLength = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength && j - i >= 2) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(":");
  return `${hex.slice(0, bestStart).join(":")}::${hex.slice(bestStart + bestLength).join(":")}`;
}
