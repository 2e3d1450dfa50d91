// Rule sets and lists over HTTP: anyone with a key reads; admins store and activate rule sets; analysts
// edit the runtime lists (blocked users, cards, devices, …). Workers pick changes up on their next poll.
import type { FastifyPluginAsync } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import { compileRuleSet } from "../../decide/compile.ts";
import { parseRuleSet, RuleSetError } from "../../decide/rules.ts";
import { RuleSetRegistryError } from "../../io/pg/rule-sets.ts";
import { NEEDS } from "../auth.ts";
import type { ApiContext } from "../context.ts";
import { ErrorSchema } from "../schemas.ts";

const Summary = z.object({
  version: z.string(),
  description: z.string(),
  createdBy: z.string(),
  createdAt: z.string(),
  status: z.enum(["candidate", "active", "retired"]),
});
const VersionParams = z.object({ version: z.string().min(1).max(128) });
const ListParams = z.object({
  name: z.string().regex(/^[a-z][a-z0-9_]{0,63}$/, "a list name in lower_snake_case"),
});
const ValuesBody = z.object({
  values: z.array(z.string().min(1).max(200)).min(1).max(10_000),
  note: z.string().max(2000).optional(),
});
const Invalid = z.object({
  error: z.string(),
  message: z.string(),
  // Absent when the body is not even a JSON object (the schema check answers before the rule check).
  issues: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
});

export const ruleRoutes: FastifyPluginAsync<ApiContext> = async (fastify, ctx) => {
  const app = fastify.withTypeProvider<ZodTypeProvider>();
  const { auth, ruleSets } = ctx;
  const who = (p: { name: string } | undefined) => p?.name ?? "unknown";

  app.get(
    "/api/rule-sets",
    {
      preHandler: auth.require("viewer"),
      schema: {
        summary: "Stored rule sets, newest first",
        tags: ["rules"],
        response: { 200: z.array(Summary) },
      },
    },
    async () => (await ruleSets.list()).map((r) => ({ ...r, createdAt: r.createdAt.toISOString() })),
  );

  app.get(
    "/api/rule-sets/:version",
    {
      preHandler: auth.require("viewer"),
      schema: {
        summary: "One rule set as stored",
        tags: ["rules"],
        params: VersionParams,
        response: { 200: z.record(z.string(), z.unknown()), 404: ErrorSchema },
      },
    },
    async (req, reply) => {
      const body = await ruleSets.get(req.params.version);
      if (body === null)
        return reply.code(404).send({ error: "not_found", message: `no rule set ${req.params.version}` });
      return body as Record<string, unknown>;
    },
  );

  app.post(
    "/api/rule-sets",
    {
      preHandler: auth.require(NEEDS.admin),
      schema: {
        summary:
          "Store a rule set (validated and compiled first; every problem is reported with its JSON path)",
        tags: ["rules"],
        body: z.record(z.string(), z.unknown()),
        response: { 201: Summary, 400: Invalid, 409: ErrorSchema },
      },
    },
    async (req, reply) => {
      try {
        const ruleSet = parseRuleSet(req.body);
        compileRuleSet(ruleSet);
        const s = await ruleSets.register(ruleSet, who(req.principal));
        return reply.code(201).send({ ...s, createdAt: s.createdAt.toISOString() });
      } catch (err) {
        if (err instanceof RuleSetError)
          return reply
            .code(400)
            .send({ error: "invalid_rule_set", message: err.message, issues: [...err.issues] });
        if (err instanceof RuleSetRegistryError)
          return reply.code(409).send({ error: "conflict", message: err.message });
        throw err;
      }
    },
  );

  app.post(
    "/api/rule-sets/:version/activate",
    {
      preHandler: auth.require(NEEDS.admin),
      schema: {
        summary: "Make a stored rule set the active one (workers switch within FRAUDSTREAM_RELOAD_MS)",
        tags: ["rules"],
        params: VersionParams,
        response: {
          200: z.object({ active: z.string(), previous: z.string().nullable() }),
          404: ErrorSchema,
        },
      },
    },
    async (req, reply) => {
      try {
        const { previous } = await ruleSets.activate(req.params.version, who(req.principal));
        return { active: req.params.version, previous };
      } catch (err) {
        if (err instanceof RuleSetRegistryError)
          return reply.code(404).send({ error: "not_found", message: err.message });
        throw err;
      }
    },
  );

  app.get(
    "/api/lists",
    {
      preHandler: auth.require("viewer"),
      schema: {
        summary: "Entries added to lists at runtime",
        tags: ["rules"],
        response: { 200: z.record(z.string(), z.array(z.string())) },
      },
    },
    async () => ruleSets.lists(),
  );

  app.post(
    "/api/lists/:name",
    {
      preHandler: auth.require(NEEDS.editLists),
      schema: {
        summary:
          "Add values to a list (e.g. blocked_users); rules that reference it see them at the next poll",
        tags: ["rules"],
        params: ListParams,
        body: ValuesBody,
        response: { 200: z.object({ added: z.number() }) },
      },
    },
    async (req) => ({
      added: await ruleSets.addToList(req.params.name, req.body.values, who(req.principal), req.body.note),
    }),
  );

  app.delete(
    "/api/lists/:name",
    {
      preHandler: auth.require(NEEDS.editLists),
      schema: {
        summary: "Remove values from a list",
        tags: ["rules"],
        params: ListParams,
        body: ValuesBody,
        response: { 200: z.object({ removed: z.number() }) },
      },
    },
    async (req) => ({ removed: await ruleSets.removeFromList(req.params.name, req.body.values) }),
  );
};
