// The one seam between the store's SQL and a database driver. node-postgres (real PostgreSQL) and PGlite
// (PostgreSQL compiled to WebAssembly, for the demo) both satisfy it, so the same SQL text runs on both.
//
// Conventions that keep the two drivers interchangeable:
// - parameters are strings, arrays of strings (with nulls) or null; SQL casts them (`$1::text[]::bigint[]`);
// - values whose JS type differs between drivers (bigint, numeric) are selected `::text` and parsed here.
import type { PGlite, Transaction } from "@electric-sql/pglite";
import type pg from "pg";
import type { Logger } from "pino";

export type SqlParam = string | number | boolean | null | ReadonlyArray<string | null>;

export interface QueryResult<R> {
  rows: R[];
  /** Rows inserted, updated or deleted by the statement (0 for other statements). */
  rowCount: number;
}

/** Runs statements on one connection (or inside one transaction). */
export interface Queryable {
  /**
   * One statement, parameters bound ($1, $2, …). `prepare`: a name under which the server keeps the
   * parsed statement per connection, for fixed statements run per batch (ignored by PGlite).
   */
  query<R = Record<string, unknown>>(
    sql: string,
    params?: readonly SqlParam[],
    prepare?: string,
  ): Promise<QueryResult<R>>;
  /** Several statements separated by `;`, no parameters (migrations). */
  exec(sql: string): Promise<void>;
}

export interface Db extends Queryable {
  readonly driver: "pg" | "pglite";
  /**
   * Runs `fn` in one transaction (READ COMMITTED) on one connection: COMMIT when it resolves,
   * ROLLBACK and rethrow when it throws.
   */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/** A Db over a node-postgres Pool. The pool reconnects by itself; a failed call just throws. */
export function pgDb(pool: pg.Pool, logger?: Logger): Db {
  // Without a listener an idle client's error (server restarted: 57P01) is an unhandled 'error' event that
  // kills the process. The pool has already discarded that client; the next checkout opens a new one.
  pool.on("error", (err) => {
    logger?.warn({ err }, "idle PostgreSQL connection failed; the pool replaces it");
  });
  const onClient = (client: pg.PoolClient | pg.Pool): Queryable => ({
    async query<R>(sql: string, params?: readonly SqlParam[], prepare?: string) {
      const values = params as unknown[] | undefined;
      const r = await (prepare === undefined
        ? client.query(sql, values)
        : client.query({ name: prepare, text: sql, ...(values === undefined ? {} : { values }) }));
      return { rows: r.rows as R[], rowCount: r.rowCount ?? 0 };
    },
    async exec(sql: string) {
      // No parameters: node-postgres uses the simple query protocol, which allows several statements.
      await client.query(sql);
    },
  });
  const direct = onClient(pool);
  let closed = false;
  return {
    driver: "pg",
    query: direct.query,
    exec: direct.exec,
    async transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
      const client = await pool.connect();
      // A checked-out client has no pool listener: a connection dropped between two statements would
      // otherwise surface as an unhandled 'error' event. The failing query rejects anyway.
      let connectionError: Error | undefined;
      const onError = (err: Error) => {
        connectionError = err;
      };
      client.on("error", onError);
      try {
        await client.query("BEGIN");
        const result = await fn(onClient(client));
        await client.query("COMMIT");
        return result;
      } catch (err) {
        if (connectionError === undefined) {
          try {
            await client.query("ROLLBACK");
          } catch (rollbackError) {
            connectionError = rollbackError as Error;
          }
        }
        throw err;
      } finally {
        client.removeListener("error", onError);
        // Passing an error destroys the connection instead of returning a broken one to the pool.
        client.release(connectionError);
      }
    },
    async close() {
      if (closed) return;
      closed = true;
      await pool.end();
    },
  };
}

/** A Db over a PGlite instance. PGlite is one connection; it queues concurrent callers itself. */
export function pgliteDb(pglite: PGlite): Db {
  const onConn = (conn: PGlite | Transaction): Queryable => ({
    async query<R>(sql: string, params?: readonly SqlParam[]) {
      const r = await conn.query<R>(sql, params as unknown[] | undefined);
      return { rows: r.rows, rowCount: r.affectedRows ?? 0 };
    },
    async exec(sql: string) {
      await conn.exec(sql);
    },
  });
  const direct = onConn(pglite);
  return {
    driver: "pglite",
    query: direct.query,
    exec: direct.exec,
    transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
      return pglite.transaction((tx) => fn(onConn(tx)));
    },
    async close() {
      if (!pglite.closed) await pglite.close();
    },
  };
}
