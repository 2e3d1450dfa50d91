import assert from "node:assert/strict";
import { describe, it, mock } from "node:test";
import type { Alert } from "../io/pg/alerts.ts";
import { AlertFeed } from "./live.ts";

/** A table whose rows become visible in the order a test commits them, like concurrent inserts. */
function table() {
  const rows: Alert[] = [];
  return {
    commit(...seqs: number[]) {
      for (const seq of seqs) rows.push({ seq, transactionId: `t${seq}` } as Alert);
    },
    store: {
      async since(after: number, limit: number) {
        return rows
          .filter((r) => r.seq > after)
          .sort((a, b) => a.seq - b.seq)
          .slice(0, limit);
      },
    },
  };
}

describe("alert feed", () => {
  it("delivers a lower seq that commits after a higher one, and holds the mark below the gap", async () => {
    mock.timers.enable({ apis: ["Date"], now: 0 });
    try {
      const t = table();
      const feed = new AlertFeed({ store: t.store, pollMs: 1_000_000, gapTimeoutMs: 10_000 });
      const got: number[] = [];
      const marks: number[] = [];
      feed.subscribe((alerts, mark) => {
        got.push(...alerts.map((a) => a.seq));
        marks.push(mark);
      });
      await feed.start(0);
      t.commit(1, 3); // 2 is still in flight in another transaction
      await feed.poll();
      assert.deepEqual(got, [1, 3]);
      assert.equal(feed.mark, 1, "the mark waits below the gap");
      t.commit(2);
      await feed.poll();
      assert.deepEqual(got, [1, 3, 2], "the late one is delivered, the early ones not again");
      assert.equal(feed.mark, 3);
      t.commit(5); // 4 was burnt (a rolled-back insert): it never comes
      await feed.poll();
      assert.equal(feed.mark, 3);
      mock.timers.tick(10_001);
      await feed.poll();
      assert.equal(feed.mark, 5, "a gap older than the timeout is given up");
      assert.deepEqual(got, [1, 3, 2, 5]);
      feed.stop();
    } finally {
      mock.timers.reset();
    }
  });
});
