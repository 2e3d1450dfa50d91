// Aggregates for the dashboard's tiles and charts, over a window of processing time ending now. One round
// trip per figure group; every query is bounded by the window so it touches only recent partitions
// through the processed/event time indexes.
import type { RiskLevel } from "../../contract/outputs.ts";
import type { Db } from "./db.ts";

export interface Stats {
  windowSeconds: number;
  /** Events stored in the window. */
  events: number;
  /** Events per second over the last 10 s of processing. */
  eventsPerSecond: number;
  alerts: number;
  /** alerts / events in the window (0 when no events). */
  alertRate: number;
  openAlerts: number;
  /** p50/p99 of produced → processed over the last minute, ms (null without events). */
  latencyMs: { p50: number | null; p99: number | null };
  /** Width of the riskOverTime buckets, seconds. */
  bucketSeconds: number;
  /** Counts per bucket and risk level; `minute` is the bucket's start (named when buckets were minutes). */
  riskOverTime: { minute: string; risk: RiskLevel; count: number }[];
  byCountry: { key: string; events: number; alerts: number }[];
  byCategory: { key: string; events: number; alerts: number }[];
  /** By local hour of day (the event's own offset): events and alerts. */
  byHour: { hour: number; events: number; alerts: number }[];
  /** From analysts' labels of all time. */
  labels: { confirmedFraud: number; falsePositive: number; falsePositiveRate: number | null };
  deadLetters: number;
}

export interface StatsStore {
  /** `bucketSeconds` (default 60) sizes riskOverTime's buckets. */
  stats(windowSeconds: number, bucketSeconds?: number): Promise<Stats>;
}

type Counted = { key: string | null; events: string; alerts: string };

export function createStatsStore(db: Db): StatsStore {
  const since = (seconds: number) => String(seconds);
  return {
    async stats(windowSeconds, bucketSeconds = 60) {
      const w = [since(windowSeconds)];
      const totals = await db.query<{
        events: string;
        alerts: string;
        recent: string;
        dead: string;
        open: string;
      }>(
        `SELECT count(*)::text AS events,
                count(*) FILTER (WHERE risk IN ('HIGH', 'CRITICAL'))::text AS alerts,
                count(*) FILTER (WHERE processed_at > now() - interval '10 seconds')::text AS recent,
                (SELECT count(*) FROM dead_letters
                  WHERE received_at > now() - make_interval(secs => $1::float8))::text AS dead,
                (SELECT count(*) FROM alerts WHERE status = 'open')::text AS open
           FROM transactions_scored
          WHERE processed_at > now() - make_interval(secs => $1::float8)`,
        w,
      );
      const latency = await db.query<{ p50: number | null; p99: number | null }>(
        `SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM processed_at - produced_at)) * 1000 AS p50,
                percentile_cont(0.99) WITHIN GROUP (ORDER BY extract(epoch FROM processed_at - produced_at)) * 1000 AS p99
           FROM transactions_scored WHERE processed_at > now() - interval '60 seconds'`,
      );
      const overTime = await db.query<{ minute: Date | string; risk: RiskLevel; count: string }>(
        // Buckets aligned to the Unix epoch, so 60 s gives the same whole minutes as date_trunc did.
        `SELECT date_bin(make_interval(secs => $2::float8), processed_at, timestamptz 'epoch') AS minute,
                risk, count(*)::text AS count
           FROM transactions_scored
          WHERE processed_at > now() - make_interval(secs => $1::float8)
          GROUP BY 1, 2 ORDER BY 1, 2`,
        [...w, String(bucketSeconds)],
      );
      const by = (column: string) =>
        db.query<Counted>(
          `SELECT ${column} AS key, count(*)::text AS events,
                  count(*) FILTER (WHERE risk IN ('HIGH', 'CRITICAL'))::text AS alerts
             FROM transactions_scored
            WHERE processed_at > now() - make_interval(secs => $1::float8)
            GROUP BY 1 ORDER BY count(*) DESC LIMIT 20`,
          w,
        );
      const [country, category] = [await by("country"), await by("merchant_category")];
      const hours = await db.query<{ hour: string; events: string; alerts: string }>(
        `SELECT (features->>'hour_of_day')::int AS hour, count(*)::text AS events,
                count(*) FILTER (WHERE risk IN ('HIGH', 'CRITICAL'))::text AS alerts
           FROM transactions_scored
          WHERE processed_at > now() - make_interval(secs => $1::float8) AND features ? 'hour_of_day'
          GROUP BY 1 ORDER BY 1`,
        w,
      );
      const labels = await db.query<{ confirmed: string; fp: string }>(
        `SELECT count(*) FILTER (WHERE status = 'confirmed_fraud')::text AS confirmed,
                count(*) FILTER (WHERE status = 'false_positive')::text AS fp
           FROM alerts WHERE status <> 'open'`,
      );
      const t = totals.rows[0];
      const events = Number(t?.events ?? 0);
      const alerts = Number(t?.alerts ?? 0);
      const confirmed = Number(labels.rows[0]?.confirmed ?? 0);
      const fp = Number(labels.rows[0]?.fp ?? 0);
      const counted = (rows: Counted[]) =>
        rows.map((r) => ({ key: r.key ?? "(none)", events: Number(r.events), alerts: Number(r.alerts) }));
      return {
        windowSeconds,
        events,
        eventsPerSecond: Number(t?.recent ?? 0) / 10,
        alerts,
        alertRate: events === 0 ? 0 : alerts / events,
        openAlerts: Number(t?.open ?? 0),
        latencyMs: { p50: latency.rows[0]?.p50 ?? null, p99: latency.rows[0]?.p99 ?? null },
        bucketSeconds,
        riskOverTime: overTime.rows.map((r) => ({
          minute: new Date(r.minute).toISOString(),
          risk: r.risk,
          count: Number(r.count),
        })),
        byCountry: counted(country.rows),
        byCategory: counted(category.rows),
        byHour: hours.rows.map((r) => ({
          hour: Number(r.hour),
          events: Number(r.events),
          alerts: Number(r.alerts),
        })),
        labels: {
          confirmedFraud: confirmed,
          falsePositive: fp,
          falsePositiveRate: confirmed + fp === 0 ? null : fp / (confirmed + fp),
        },
        deadLetters: Number(t?.dead ?? 0),
      };
    },
  };
}
