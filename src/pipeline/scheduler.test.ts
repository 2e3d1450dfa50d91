import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { PartitionScheduler } from "./scheduler.ts";

/** A job that records its start and end and finishes when released. */
function gate() {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { open, opened };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe("PartitionScheduler", () => {
  it("runs one partition's jobs one after the other, in the order taken", async () => {
    const s = new PartitionScheduler(4);
    const log: string[] = [];
    const gates = [gate(), gate(), gate()];
    for (const [i, g] of gates.entries())
      s.submit(0, async () => {
        log.push(`start ${i}`);
        await g.opened;
        log.push(`end ${i}`);
      });
    await tick();
    assert.deepEqual(log, ["start 0"]);
    gates[1]?.open(); // the second job may not start before the first ends, even when it could finish
    await tick();
    assert.deepEqual(log, ["start 0"]);
    gates[0]?.open();
    gates[2]?.open();
    await s.idle();
    assert.deepEqual(log, ["start 0", "end 0", "start 1", "end 1", "start 2", "end 2"]);
  });

  it("runs jobs of different partitions at once, never more than maxInFlight", async () => {
    const s = new PartitionScheduler(2);
    let running = 0;
    let most = 0;
    const gates = [gate(), gate(), gate(), gate()];
    for (const [p, g] of gates.entries())
      s.submit(p, async () => {
        running++;
        most = Math.max(most, running);
        await g.opened;
        running--;
      });
    await tick();
    assert.equal(running, 2);
    for (const g of gates) g.open();
    await s.idle();
    assert.equal(most, 2);
    assert.deepEqual(s.busy(), []);
  });

  it("has room for 2 × maxInFlight jobs taken and not done", async () => {
    const s = new PartitionScheduler(1);
    const gates = [gate(), gate()];
    for (const [p, g] of gates.entries()) s.submit(p, () => g.opened);
    let roomy = false;
    const room = s.room().then(() => {
      roomy = true;
    });
    await tick();
    assert.equal(roomy, false, "two taken (one running, one waiting for a turn): no room for a third");
    gates[0]?.open();
    await room;
    assert.equal(roomy, true);
    for (const g of gates) g.open();
    await s.idle();
  });

  it("idle(partitions) waits only for those partitions", async () => {
    const s = new PartitionScheduler(4);
    const slow = gate();
    s.submit(0, () => slow.opened);
    s.submit(1, async () => {});
    await s.idle([1]);
    assert.deepEqual(s.busy(), [0]);
    slow.open();
    await s.idle([0]);
    assert.deepEqual(s.busy(), []);
  });
});
