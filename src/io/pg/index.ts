// PostgreSQL and PGlite: the Store the worker writes through, migrations, and the Db seam other modules
// (API, model registry) use to run their own queries on the same connection pool.
export type { Db, Queryable, QueryResult, SqlParam } from "./db.ts";
export { pgDb, pgliteDb } from "./db.ts";
export { isTransientDbError } from "./errors.ts";
export type { Migration } from "./migrate.ts";
export { applyMigrations, loadMigrations, MigrationError } from "./migrate.ts";
export type { ActiveModel, ModelRegistration, ModelRegistry, ModelSummary } from "./models.ts";
export { createModelRegistry, ModelRegistryError } from "./models.ts";
export { DayPartitions, dayOf, partitionName } from "./partitions.ts";
export type { ActiveRules, RuleSetRegistry, RuleSetSummary } from "./rule-sets.ts";
export { createRuleSetRegistry, RuleSetRegistryError } from "./rule-sets.ts";
export type { PgliteStoreOptions, PgStore, PgStoreOptions, StoreOptions } from "./store.ts";
export { createPgliteStore, createPgStore, createStore } from "./store.ts";
export type { StoredLabelledRows } from "./training.ts";
export { loadStoredLabelledRows } from "./training.ts";
