import { createHmac, timingSafeEqual } from "node:crypto";
import type { Context } from "hono";
import { createMiddleware } from "hono/factory";
import { incomingOf, requestHeader } from "../request.js";

/** Set by a follower that forwards a request to the leader: the original caller's address. */
export const CLIENT_ADDRESS_HEADER = "x-cfg-client-address";
/** HMAC of that address with the cluster secret, so that a client cannot claim another address. */
export const CLIENT_ADDRESS_MAC_HEADER = "x-cfg-client-address-mac";

export function addressMac(secret: string, address: string): string {
  return createHmac("sha256", secret).update(`cfguardian client address\n${address}`).digest("base64url");
}

function socketAddress(c: Context): string | null {
  const incoming = incomingOf(c);
  return incoming?.socket?.remoteAddress ?? null;
}

/**
 * The caller's address for audit records and rate limits: the socket's, or, on a request a
 * member forwarded with the cluster secret's MAC, the address the member saw.
 */
export function clientAddresses(secret?: string) {
  return createMiddleware((c, next) => {
    let address = socketAddress(c);
    const claimed = requestHeader(c, CLIENT_ADDRESS_HEADER);
    const mac = requestHeader(c, CLIENT_ADDRESS_MAC_HEADER);
    if (secret && claimed && mac) {
      const expected = Buffer.from(addressMac(secret, claimed));
      const given = Buffer.from(mac);
      if (given.length === expected.length && timingSafeEqual(given, expected)) address = claimed;
    }
    c.set("clientAddress" as never, address as never);
    return next();
  });
}

/** The caller's address (null in in-process tests). */
export function clientAddress(c: Context): string | null {
  return (c.get("clientAddress" as never) as string | null | undefined) ?? socketAddress(c);
}
