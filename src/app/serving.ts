// What a worker decides with, kept current while it runs: the registry's active model and rule set,
// hot-reloaded (the provisional scorer and the shipped default rule set while none is active), and the
// webhook notifier when one is configured. Shared by `fraudstream worker` and the demo.
import type { Logger } from "pino";
import type { Config } from "../config/config.ts";
import { compileRuleSet } from "../decide/compile.ts";
import { defaultRuleSet } from "../decide/defaults.ts";
import { type ServedRules, servedRules, servingRules } from "../decide/serving.ts";
import { FEATURE_SET_VERSION } from "../features/registry.ts";
import type { Db } from "../io/pg/db.ts";
import { createModelRegistry } from "../io/pg/models.ts";
import { createOutbox } from "../io/pg/outbox.ts";
import { createRuleSetRegistry } from "../io/pg/rule-sets.ts";
import { postJson } from "../io/webhook/index.ts";
import { createProvisionalScorer } from "../model/provisional-scorer.ts";
import type { Scorer } from "../model/scorer.ts";
import { servingScorer } from "../model/serving.ts";
import type { PipelineMetrics } from "../observe/metrics.ts";
import { startNotifier } from "./notifier.ts";
import { createModelReloader, createReloader, type Reloader } from "./reload.ts";

export interface Serving {
  scorer: Reloader<Scorer>;
  rules: Reloader<ServedRules>;
  stop(): Promise<void>;
}

export async function startServing(opts: {
  db: Db;
  config: Config;
  logger: Logger;
  metrics: PipelineMetrics;
}): Promise<Serving> {
  const { db, config, logger, metrics } = opts;
  const versions = () =>
    metrics.setVersions(scorer.current.version, rules.current.version, FEATURE_SET_VERSION);
  const scorer = createModelReloader({
    source: createModelRegistry(db),
    build: (_id, body) => servingScorer(body),
    fallback: createProvisionalScorer(),
    intervalMs: config.reloadMs,
    logger,
    onSwap: () => versions(),
  });
  const rules = createReloader({
    what: "rule set",
    source: createRuleSetRegistry(db),
    build: servingRules,
    fallback: servedRules(compileRuleSet(defaultRuleSet())),
    intervalMs: config.reloadMs,
    logger,
    onSwap: () => versions(),
  });
  await Promise.all([scorer.refresh(), rules.refresh()]);
  versions();
  scorer.start();
  rules.start();
  // Alerts to the webhook from the alerts table (an outbox), beside the stream, never in its way.
  const url = config.webhookUrl;
  const notifier =
    url === undefined
      ? undefined
      : startNotifier({
          outbox: createOutbox(db),
          post: (payload, o) => postJson(url, payload, config.webhookTimeoutMs, o),
          risks: config.webhookRisks,
          pollMs: 500,
          retryBaseMs: 1000,
          maxRetryMs: 60_000,
          logger,
          onResult: (r) => metrics.observeNotification(r),
        });
  return {
    scorer,
    rules,
    async stop() {
      scorer.stop();
      rules.stop();
      await notifier?.stop();
    },
  };
}
