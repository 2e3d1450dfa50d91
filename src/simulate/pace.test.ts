import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createPacer } from "./pace.ts";

describe("pacer", () => {
  it("lets out rate × elapsed events and sleeps until the next one is due, at most maxMs", async () => {
    let t = 1000;
    const sleeps: number[] = [];
    const pacer = createPacer(200, {
      now: () => t,
      wait: async (ms) => {
        sleeps.push(ms);
        t += ms;
      },
    });
    assert.equal(pacer.due(0), 0);
    await pacer.wait(0); // the first event is due 5 ms in
    assert.deepEqual(sleeps, [5]);
    assert.equal(pacer.due(0), 1);
    t += 995;
    assert.equal(pacer.elapsed(), 1000);
    assert.equal(pacer.due(1), 199);
    await pacer.wait(1000); // 4 s ahead: capped
    assert.equal(sleeps.at(-1), 50);
    await pacer.wait(0, 50); // already due: the shortest sleep
    assert.equal(sleeps.at(-1), 1);
  });

  it("refuses a rate that is not positive", () => {
    assert.throws(() => createPacer(0), /rate must be > 0/);
  });
});
