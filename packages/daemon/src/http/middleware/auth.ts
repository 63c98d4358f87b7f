import { CfgError } from "@cfguardian/shared";
import { createMiddleware } from "hono/factory";
import type { Authenticator, Principal } from "../../auth/authenticator.js";

export type AuthEnv = { Variables: { principal: Principal; requestId: string } };

/** Every /v1 route needs `Authorization: Bearer <token>`. */
export function requireAuth(authenticator: Authenticator) {
  return createMiddleware<AuthEnv>(async (c, next) => {
    const header = c.req.header("authorization");
    if (!header) {
      throw new CfgError(
        "unauthorized",
        "missing Authorization header; send 'Authorization: Bearer <token>'",
      );
    }
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    if (!match)
      throw new CfgError("unauthorized", "malformed Authorization header; expected 'Bearer <token>'");
    const principal = authenticator.authenticate(match[1]!);
    if (!principal) throw new CfgError("unauthorized", "invalid token");
    c.set("principal", principal);
    await next();
  });
}
