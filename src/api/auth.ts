// API keys with roles. Every route but health, readiness and /metrics (scraped by Prometheus) needs a
// key; any key reads; labels, assignments and list edits need analyst; model and rule-set changes need
// admin (NEEDS below). Keys come from FRAUDSTREAM_API_KEYS (role:key pairs) and are compared by their
// SHA-256 digests in constant time, so neither the key nor its length leaks through timing. The key
// travels as `Authorization: Bearer <key>`, or `?access_token=` for the live stream (EventSource
// cannot set headers).
import { createHash, timingSafeEqual } from "node:crypto";
import type { FastifyReply, FastifyRequest } from "fastify";

export type Role = "viewer" | "analyst" | "admin";
const RANK: Record<Role, number> = { viewer: 0, analyst: 1, admin: 2 };

/**
 * The least role each guarded action needs. The routes require these and `GET /api/me` reports them,
 * so what the dashboard offers a key cannot drift from what the API allows it.
 */
export const NEEDS = {
  label: "analyst",
  assign: "analyst",
  editLists: "analyst",
  admin: "admin",
} as const satisfies Record<string, Role>;

/** Whether `role` is at least `needed`. */
export function allows(role: Role, needed: Role): boolean {
  return RANK[role] >= RANK[needed];
}

export interface Principal {
  role: Role;
  /** A short, non-secret name for logs and audit columns: the role and the key's first 4 characters. */
  name: string;
}

export interface ApiKey {
  role: Role;
  key: string;
}

declare module "fastify" {
  interface FastifyRequest {
    principal?: Principal;
  }
}

function digest(text: string): Buffer {
  return createHash("sha256").update(text).digest();
}

export class Authenticator {
  readonly #keys: { role: Role; digest: Buffer; name: string }[];

  constructor(keys: readonly ApiKey[]) {
    this.#keys = keys.map((k) => ({
      role: k.role,
      digest: digest(k.key),
      name: `${k.role}:${k.key.slice(0, 4)}…`,
    }));
  }

  /** The principal for a presented key, or null. Every stored key is compared, so timing says nothing. */
  identify(presented: string): Principal | null {
    const d = digest(presented);
    let found: Principal | null = null;
    for (const k of this.#keys)
      if (timingSafeEqual(d, k.digest) && found === null) found = { role: k.role, name: k.name };
    return found;
  }

  /** A Fastify preHandler that requires at least `role`. */
  require(role: Role) {
    return async (req: FastifyRequest, reply: FastifyReply): Promise<void> => {
      const presented = presentedKey(req);
      if (presented === null)
        return void (await reply
          .code(401)
          .header("www-authenticate", 'Bearer realm="fraudstream"')
          .send({ error: "unauthorized", message: "send an API key as `Authorization: Bearer <key>`" }));
      const principal = this.identify(presented);
      if (principal === null)
        return void (await reply.code(401).send({ error: "unauthorized", message: "unknown API key" }));
      if (!allows(principal.role, role))
        return void (await reply.code(403).send({
          error: "forbidden",
          message: `this needs the ${role} role; the key has ${principal.role}`,
        }));
      req.principal = principal;
    };
  }
}

function presentedKey(req: FastifyRequest): string | null {
  const header = req.headers.authorization;
  if (typeof header === "string") {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
    return m?.[1] ?? null;
  }
  const query = req.query as Record<string, unknown> | undefined;
  const token = query?.access_token;
  return typeof token === "string" && token.length > 0 ? token : null;
}
