// The model registry over HTTP: anyone with a key lists; admins promote and roll back. Running workers
// pick the change up on their next poll (FRAUDSTREAM_RELOAD_MS).
import type { FastifyPluginAsync } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import { ModelRegistryError, type ModelSummary } from "../../io/pg/models.ts";
import { NEEDS } from "../auth.ts";
import type { ApiContext } from "../context.ts";
import { ErrorSchema, ModelIdParams, ModelSummarySchema } from "../schemas.ts";

const summary = (m: ModelSummary) => ({ ...m, registeredAt: m.registeredAt.toISOString() });
const NoteBody = z.object({ note: z.string().max(2000).optional() }).default({});

export const modelRoutes: FastifyPluginAsync<ApiContext> = async (fastify, ctx) => {
  const app = fastify.withTypeProvider<ZodTypeProvider>();
  const { auth, models } = ctx;

  app.get(
    "/api/models",
    {
      preHandler: auth.require("viewer"),
      schema: {
        summary: "Registered models, newest first",
        tags: ["models"],
        response: { 200: z.array(ModelSummarySchema) },
      },
    },
    async () => (await models.list()).map(summary),
  );

  app.post(
    "/api/models/:id/promote",
    {
      preHandler: auth.require(NEEDS.admin),
      schema: {
        summary: "Make a model the active one (workers switch within FRAUDSTREAM_RELOAD_MS)",
        tags: ["models"],
        params: ModelIdParams,
        body: NoteBody,
        response: {
          200: z.object({ active: z.string(), previous: z.string().nullable() }),
          404: ErrorSchema,
        },
      },
    },
    async (req, reply) => {
      try {
        const { previous } = await models.promote(
          req.params.id,
          req.principal?.name ?? "unknown",
          req.body.note,
        );
        return { active: req.params.id, previous };
      } catch (err) {
        if (err instanceof ModelRegistryError)
          return reply.code(404).send({ error: "not_found", message: err.message });
        throw err;
      }
    },
  );

  app.post(
    "/api/models/rollback",
    {
      preHandler: auth.require(NEEDS.admin),
      schema: {
        summary: "Re-activate the model that was active before the current one",
        tags: ["models"],
        body: NoteBody,
        response: { 200: z.object({ from: z.string(), to: z.string() }), 409: ErrorSchema },
      },
    },
    async (req, reply) => {
      try {
        return await models.rollback(req.principal?.name ?? "unknown", req.body.note);
      } catch (err) {
        if (err instanceof ModelRegistryError)
          return reply.code(409).send({ error: "conflict", message: err.message });
        throw err;
      }
    },
  );
};
