/**
 * IPv4 addresses as unsigned 32-bit numbers, parsed the way glibc's inet_aton does (1 to 4
 * parts, each decimal, 0x hex or 0 octal, the last part filling the remaining bytes), which is
 * what ipvsadm uses for -t, -u, -r and -M.
 */

/** Name lookups ipvsadm does through the resolver (gethostbyname, getservbyname and reverses). */
export interface Resolver {
  hostToAddr(name: string): number | undefined;
  addrToHost(addr: number): string | undefined;
  serviceToPort(name: string, protocol: 'tcp' | 'udp'): number | undefined;
  portToService(port: number, protocol: 'tcp' | 'udp'): string | undefined;
}

/** A resolver that knows no names: every lookup fails, output stays numeric. */
export const NUMERIC_RESOLVER: Resolver = {
  hostToAddr: () => undefined,
  addrToHost: () => undefined,
  serviceToPort: () => undefined,
  portToService: () => undefined,
};

function parseCNumber(s: string): number | undefined {
  if (s === '') return undefined;
  let m: RegExpMatchArray | null;
  if ((m = /^0[xX]([0-9a-fA-F]*)$/.exec(s))) return m[1] === '' ? 0 : parseInt(m[1]!, 16);
  if (/^0[0-7]*$/.test(s)) return parseInt(s, 8);
  if (/^[1-9][0-9]*$/.test(s)) return parseInt(s, 10);
  return undefined;
}

/** glibc inet_aton: returns the address or undefined. */
export function inetAton(text: string): number | undefined {
  const parts = text.split('.');
  if (parts.length < 1 || parts.length > 4) return undefined;
  const nums: number[] = [];
  for (const p of parts) {
    const n = parseCNumber(p);
    if (n === undefined || n > 0xffffffff) return undefined;
    nums.push(n);
  }
  const last = nums[nums.length - 1]!;
  const lead = nums.slice(0, -1);
  if (lead.some((n) => n > 255)) return undefined;
  const lastMax = [0xffffffff, 0xffffff, 0xffff, 0xff][lead.length]!;
  if (last > lastMax) return undefined;
  let value = 0;
  lead.forEach((n, i) => { value += n * 2 ** (24 - 8 * i); });
  return (value + last) >>> 0;
}

/** Dotted quad. */
export function formatAddr(addr: number): string {
  return `${addr >>> 24}.${(addr >>> 16) & 255}.${(addr >>> 8) & 255}.${addr & 255}`;
}

/** True for text that inet_pton(AF_INET6) would accept (roughly: hex groups and colons). */
export function looksLikeIpv6(text: string): boolean {
  return text.includes(':') && /^[0-9a-fA-F:.]+$/.test(text) && (text.match(/:/g) ?? []).length >= 2;
}

/** C strtol(s, 10) accepted completely and within [min, max], else -1 (ipvsadm's string_to_number). */
export function stringToNumber(s: string, min: number, max: number): number {
  if (!/^\s*[+-]?[0-9]+$/.test(s)) return -1;
  const n = Number(s.trim());
  return Number.isFinite(n) && n >= min && n <= max ? n : -1;
}
