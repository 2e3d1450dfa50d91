// Who the calling key is: its role and what that role may do. Clients (the dashboard) ask once instead
// of learning their limits from a 403 on the first attempt; the answer comes from the same NEEDS table
// the routes require, so it cannot promise what the API then refuses.
import type { FastifyPluginAsync } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { allows, NEEDS } from "../auth.ts";
import type { ApiContext } from "../context.ts";
import { MeSchema } from "../schemas.ts";

export const meRoutes: FastifyPluginAsync<ApiContext> = async (fastify, ctx) => {
  const app = fastify.withTypeProvider<ZodTypeProvider>();
  const { auth } = ctx;

  app.get(
    "/api/me",
    {
      preHandler: auth.require("viewer"),
      schema: {
        summary: "The calling key's role and what it may do",
        tags: ["auth"],
        response: { 200: MeSchema },
      },
    },
    async (req) => {
      // Set by the preHandler above; missing only if this route lost it, which is a bug, not a 401.
      const p = req.principal;
      if (p === undefined) throw new Error("GET /api/me ran without authentication");
      return {
        role: p.role,
        name: p.name,
        canLabel: allows(p.role, NEEDS.label),
        canAssign: allows(p.role, NEEDS.assign),
        canEditLists: allows(p.role, NEEDS.editLists),
        canAdmin: allows(p.role, NEEDS.admin),
      };
    },
  );
};
