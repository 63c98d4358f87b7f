/**
 * Short-lived access tokens: JWTs (HS256, jose) signed with the cluster's newest signing key,
 * which lives in metadata so every node verifies what any node signed. A rotated key keeps
 * verifying until every token it signed has expired.
 */
import { randomBytes, randomUUID } from "node:crypto";
import { errors, jwtVerify, SignJWT } from "jose";
import type { MetadataStore, SigningKeyRecord } from "../metadata/port.js";

export const ISSUER = "cfgd";
export const ACCESS_TOKEN_SECONDS = 15 * 60;

export interface AccessClaims {
  userId: string;
  /** The refresh token (session) it came from; logout revokes it. */
  sessionId: string | null;
}

export class AccessTokens {
  private keys: SigningKeyRecord[] = [];
  private loadedAt = 0;

  constructor(
    private readonly store: MetadataStore,
    private readonly now: () => Date = () => new Date(),
    readonly lifetimeSeconds = ACCESS_TOKEN_SECONDS,
  ) {}

  private async load(force = false): Promise<SigningKeyRecord[]> {
    // Keys change rarely: reread every 10 s, or at once when a token names an unknown key.
    if (force || this.now().getTime() - this.loadedAt > 10_000) {
      this.keys = await this.store.listSigningKeys();
      this.loadedAt = this.now().getTime();
    }
    return this.keys;
  }

  /** Make the first signing key, or a new one (rotation); the old one still verifies until expiry. */
  async rotate(): Promise<string> {
    const id = randomUUID();
    await this.store.rotateSigningKey({
      id,
      secret: randomBytes(32).toString("base64url"),
      createdAt: this.now().toISOString(),
      retiredAt: null,
    });
    await this.load(true);
    return id;
  }

  async ensureKey(): Promise<void> {
    if ((await this.load(true)).length === 0) await this.rotate();
  }

  async sign(claims: AccessClaims): Promise<string> {
    let key = (await this.load()).find((k) => k.retiredAt === null);
    if (!key) {
      await this.ensureKey();
      key = this.keys.find((k) => k.retiredAt === null)!;
    }
    const at = Math.floor(this.now().getTime() / 1000);
    return new SignJWT(claims.sessionId ? { sid: claims.sessionId } : {})
      .setProtectedHeader({ alg: "HS256", kid: key.id, typ: "JWT" })
      .setIssuer(ISSUER)
      .setSubject(claims.userId)
      .setIssuedAt(at)
      .setExpirationTime(at + this.lifetimeSeconds)
      .sign(Buffer.from(key.secret, "base64url"));
  }

  /** The claims of a valid token, or null (forged, expired, unknown or long-retired key). */
  async verify(token: string, options: { allowExpired?: boolean } = {}): Promise<AccessClaims | null> {
    const parts = token.split(".");
    if (parts.length !== 3) return null;
    let kid: string | undefined;
    try {
      kid = (JSON.parse(Buffer.from(parts[0]!, "base64url").toString("utf8")) as { kid?: unknown }).kid as
        | string
        | undefined;
    } catch {
      return null;
    }
    if (typeof kid !== "string") return null;
    let key = (await this.load()).find((k) => k.id === kid);
    if (!key) key = (await this.load(true)).find((k) => k.id === kid);
    if (!key) return null;
    const nowMs = this.now().getTime();
    // NB: a node may sign with a key for up to one reload (10 s) after another node retired it.
    const graceMs = this.lifetimeSeconds * 1000 + 30_000;
    if (key.retiredAt && Date.parse(key.retiredAt) + graceMs < nowMs) return null;
    try {
      const { payload } = await jwtVerify(token, Buffer.from(key.secret, "base64url"), {
        issuer: ISSUER,
        algorithms: ["HS256"],
        currentDate: new Date(nowMs),
        ...(options.allowExpired ? { clockTolerance: Number.MAX_SAFE_INTEGER } : {}),
      });
      if (typeof payload.sub !== "string") return null;
      return { userId: payload.sub, sessionId: typeof payload.sid === "string" ? payload.sid : null };
    } catch (error) {
      if (error instanceof errors.JOSEError) return null;
      throw error;
    }
  }
}
