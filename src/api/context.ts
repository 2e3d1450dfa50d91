// What every route plugin is given: the authenticator and the repositories, created once by the server.
import type { AlertStore } from "../io/pg/alerts.ts";
import type { Db } from "../io/pg/db.ts";
import type { ModelRegistry } from "../io/pg/models.ts";
import type { RuleSetRegistry } from "../io/pg/rule-sets.ts";
import type { StatsStore } from "../io/pg/stats.ts";
import type { TransactionStore } from "../io/pg/transactions.ts";
import type { Authenticator } from "./auth.ts";
import type { AlertFeed } from "./live.ts";

export interface ApiContext {
  db: Db;
  auth: Authenticator;
  alerts: AlertStore;
  transactions: TransactionStore;
  stats: StatsStore;
  models: ModelRegistry;
  ruleSets: RuleSetRegistry;
  feed: AlertFeed;
}
