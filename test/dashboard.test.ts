// The analyst dashboard in a real browser (Debian's Chromium driven by playwright-core) against a real
// `fraudstream demo` process: alerts arrive live and the feed keeps up, one is opened, explained and
// labelled, the stats follow; the review queue says how many alerts match and pages through them, and an
// alert is assigned to the key; the model page draws its curves and the threshold slider moves the
// numbers; a viewer key (told its role by GET /api/me) may look but not label or assign; a wrong key
// gets the prompt. Screenshots (1280×800 and
// 390×844) go to test-artifacts/.
import assert from "node:assert/strict";
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { type Browser, type BrowserContext, chromium, type Page } from "playwright-core";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const ARTIFACTS = join(ROOT, "test-artifacts");
const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const VIEWER_KEY = `viewer-${randomBytes(12).toString("hex")}`;
const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844 };

let demo: ChildProcess | undefined;
let demoLog = "";
let base = "";
let adminKey = "";
let browser: Browser | undefined;

/** The newest modification time under a path (files only). */
function newest(path: string): number {
  const st = statSync(path);
  if (!st.isDirectory()) return st.mtimeMs;
  let max = 0;
  for (const name of readdirSync(path)) max = Math.max(max, newest(join(path, name)));
  return max;
}

/** Builds web/dist when it is missing or older than its sources (a build takes a couple of seconds). */
function ensureDashboardBuilt(): void {
  const built = join(ROOT, "web/dist/index.html");
  const sources = Math.max(
    newest(join(ROOT, "web/src")),
    newest(join(ROOT, "web/index.html")),
    newest(join(ROOT, "web/vite.config.ts")),
  );
  if (existsSync(built) && statSync(built).mtimeMs >= sources) return;
  execFileSync(
    process.execPath,
    [join(ROOT, "node_modules/vite/bin/vite.js"), "build", "web", "--logLevel", "warn"],
    {
      cwd: ROOT,
      stdio: "inherit",
    },
  );
}

/** Starts the demo with an extra viewer key and resolves once it printed where the dashboard is. */
async function startDemo(): Promise<{ url: string; key: string }> {
  const child = spawn(
    process.execPath,
    // A fraud rate above the default 5 % keeps the alert rate well above the 1,000 a minute the feed
    // must keep up with, even when a loaded machine slows the demo down.
    ["src/cli/main.ts", "demo", "--port", "0", "--rate", "300", "--users", "500", "--fraud-rate", "0.1"],
    {
      cwd: ROOT,
      env: { ...process.env, FRAUDSTREAM_API_KEYS: `viewer:${VIEWER_KEY}`, FRAUDSTREAM_LOG_LEVEL: "warn" },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  demo = child;
  child.stderr?.on("data", (b: Buffer) => {
    demoLog = (demoLog + b.toString()).slice(-20_000);
  });
  return await new Promise((resolve, reject) => {
    let url: string | undefined;
    let key: string | undefined;
    const timer = setTimeout(() => reject(new Error(`demo did not start in time:\n${demoLog}`)), 180_000);
    const early = (code: number | null) => {
      clearTimeout(timer);
      reject(new Error(`demo exited early with ${code}:\n${demoLog}`));
    };
    child.once("exit", early);
    const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
    const onLine = (line: string) => {
      const dash = /^dashboard: (http:\/\/\S+?)\/#key=(\S+)$/.exec(line);
      if (dash !== null) {
        url = dash[1];
        key = dash[2];
      }
      const admin = /^admin API key: (\S+)/.exec(line);
      if (admin !== null) key = admin[1];
      if (url !== undefined && key !== undefined) {
        clearTimeout(timer);
        child.off("exit", early);
        lines.off("line", onLine);
        resolve({ url, key });
      }
    };
    lines.on("line", onLine);
  });
}

async function stopDemo(): Promise<void> {
  const child = demo;
  if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  // The demo drains on SIGTERM (a few seconds); it holds nothing worth waiting longer for.
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
  await exited;
  clearTimeout(timer);
}

/** Console errors and uncaught exceptions of a context's pages; the acceptance asks for none. */
function watchErrors(context: BrowserContext): string[] {
  const errors: string[] = [];
  context.on("page", (page) => {
    page.on("console", (msg) => {
      if (msg.type() === "error") errors.push(`console: ${msg.text()}`);
    });
    page.on("pageerror", (err) => errors.push(`pageerror: ${err.message}`));
  });
  return errors;
}

async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(ARTIFACTS, `dashboard-${name}.png`), fullPage: false });
}

/** Polls a condition evaluated in the test (the root tsconfig has no DOM types for in-page callbacks). */
async function waitUntil(what: string, cond: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function newestAlertSeq(): Promise<number> {
  const res = await fetch(`${base}/api/alerts?limit=1`, { headers: { authorization: `Bearer ${adminKey}` } });
  const page = (await res.json()) as { items: { seq: number }[] };
  return page.items[0]?.seq ?? 0;
}

const numberAttr = async (page: Page, testid: string): Promise<number> =>
  Number(await page.getByTestId(testid).getAttribute("data-value"));

/** The in-page main-thread monitor: the longest gap between 50 ms timer ticks since it was (re)set. */
const LAG_MONITOR = `(() => {
  let last = performance.now();
  window.__maxLag = 0;
  setInterval(() => {
    const now = performance.now();
    window.__maxLag = Math.max(window.__maxLag, now - last - 50);
    last = now;
  }, 50);
})();`;

describe("dashboard (Chromium)", { timeout: 600_000 }, () => {
  let context: BrowserContext;
  let page: Page;
  let errors: string[];

  before(async () => {
    if (!existsSync(CHROMIUM))
      throw new Error(
        `no Chromium at ${CHROMIUM}: apt-get install chromium (.ci/run does), or set CHROMIUM_PATH`,
      );
    mkdirSync(ARTIFACTS, { recursive: true });
    ensureDashboardBuilt();
    const started = await startDemo();
    base = started.url;
    adminKey = started.key;
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ["--no-sandbox", "--disable-background-networking"],
    });
    context = await browser.newContext({ viewport: DESKTOP });
    errors = watchErrors(context);
    await context.addInitScript(LAG_MONITOR);
    page = await context.newPage();
  });

  after(async () => {
    await browser?.close();
    await stopDemo();
  });

  it("signs in from the link, then drops the key from the address bar", async () => {
    await page.goto(`${base}/#key=${adminKey}`);
    await page.getByTestId("tiles").waitFor();
    assert.doesNotMatch(page.url(), /key=/);
    assert.equal(new URL(page.url()).hash, "#/live");
    assert.equal(await page.evaluate(() => sessionStorage.getItem("fraudstream.apiKey")), adminKey);
    // The role comes from GET /api/me, not from a refused request.
    await page.getByTestId("key-role").filter({ hasText: "admin" }).waitFor();
  });

  it("shows alerts arriving live and keeps up with them", async () => {
    await page.getByTestId("stream-state").filter({ hasText: "live" }).waitFor({ timeout: 30_000 });
    await waitUntil("live alerts", async () => (await numberAttr(page, "feed-received")) >= 5, 60_000);
    // Over 20 s: the alerts the page received and its longest main-thread stall; then whether the feed is
    // current: it must show the server's newest alert within a few seconds (poll + batch ≈ 1 s).
    const receivedBefore = await numberAttr(page, "feed-received");
    await page.evaluate("window.__maxLag = 0");
    const t0 = Date.now();
    await page.waitForTimeout(20_000);
    const minutes = (Date.now() - t0) / 60_000;
    const received = (await numberAttr(page, "feed-received")) - receivedBefore;
    const maxLag = await page.evaluate<number>("window.__maxLag");
    const newest = await newestAlertSeq();
    const caughtUp = Date.now();
    await waitUntil(
      `the feed to show alert ${newest}`,
      async () => Number(await page.getByTestId("feed-row").first().getAttribute("data-seq")) >= newest,
      5000,
    );
    const perMinute = received / minutes;
    console.log(
      `feed: ${received} alerts in ${(minutes * 60).toFixed(1)} s (${perMinute.toFixed(0)}/min); ` +
        `newest shown after ${Date.now() - caughtUp} ms; longest main-thread stall ${maxLag.toFixed(0)} ms`,
    );
    assert.ok(
      perMinute >= 1000,
      `the acceptance asks for 1,000 alerts a minute; the demo raised ${perMinute}`,
    );
    assert.ok(maxLag < 1000, `the page froze for ${maxLag} ms`);
    const rows = await page.getByTestId("feed-row").count();
    assert.ok(rows >= 50 && rows <= 150, `feed rows: ${rows}`);
    const risks = new Set(
      await page.getByTestId("feed-row").evaluateAll((els) => els.map((e) => e.getAttribute("data-risk"))),
    );
    assert.ok(
      [...risks].every((r) => r === "HIGH" || r === "CRITICAL"),
      [...risks].join(),
    );
    // Distributions and the rate chart are drawn.
    assert.ok((await page.getByTestId("dist-country").getByTestId("bar-row").count()) > 3);
    assert.ok((await page.getByTestId("dist-category").getByTestId("bar-row").count()) > 3);
    await page.getByTestId("chart-rate").locator("canvas").waitFor();
    await page.getByTestId("chart-throughput").locator("canvas").waitFor();
    assert.notEqual(await page.getByTestId("tile-eps").getAttribute("data-value"), "");
    await shot(page, "live-1280");
  });

  it("opens an alert from the feed with its features, explanation and history, and labels it", async () => {
    const id = await page.getByTestId("feed-row").first().getAttribute("data-id");
    assert.ok(id);
    // By its id: `.first()` is looked up again at the click, and the live feed may have a newer
    // alert on top by then (a CI run clicked one and waited for the other's address).
    await page.locator(`[data-testid="feed-row"][data-id="${id}"]`).click();
    await page.waitForURL(new RegExp(`#/review/${encodeURIComponent(id)}$`));
    const detail = page.locator(`[data-testid="detail"][data-id="${id}"]`);
    await detail.waitFor();
    assert.ok((await detail.getByTestId("feature-row").count()) >= 5, "features table");
    await detail.getByTestId("explanation").waitFor();
    const explained =
      (await detail.getByTestId("factor").count()) +
      (await detail.getByTestId("rule-hit").count()) +
      (await detail.getByTestId("explanation-empty").count());
    assert.ok(explained > 0, "the explanation panel shows factors, rule hits or says there is none");
    assert.ok((await detail.getByTestId("history-row").count()) >= 1, "the user's history");
    assert.equal((await detail.getByTestId("detail-status").textContent())?.trim(), "open");

    const labelsBefore = await numberAttr(page, "tile-labels");
    await detail.getByTestId("label-note").fill("confirmed by the browser test");
    await detail.getByTestId("label-fraud").click();
    await detail.getByTestId("label-result").filter({ hasText: "confirmed fraud" }).waitFor();
    await detail.getByTestId("detail-status").filter({ hasText: "confirmed fraud" }).waitFor();
    await detail.getByTestId("feedback").filter({ hasText: "confirmed by the browser test" }).waitFor();
    // The stats are fetched again at once: one more label, and a false-positive rate of 0 (one fraud, no FP).
    await waitUntil(
      "one more label in the tiles",
      async () => (await numberAttr(page, "tile-labels")) === labelsBefore + 1,
    );
    assert.equal((await page.getByTestId("tile-fp-rate").textContent())?.includes("0.0%"), true);
    // The labelled alert is not in the open queue.
    assert.equal(await page.locator(`[data-testid="queue-row"][data-id="${id}"]`).count(), 0);
    await shot(page, "review-1280");
  });

  it("pages through the review queue, saying which page of how many", async () => {
    await page.getByTestId("nav-review").click();
    await page.getByTestId("detail-empty").waitFor();
    await page.getByTestId("queue-row").first().waitFor();
    const total = page.getByTestId("queue-total");
    await waitUntil("the queue's total", async () => (await total.getAttribute("data-value")) !== "");
    const before = await page.getByTestId("queue-row").count();
    const n = await numberAttr(page, "queue-total");
    // The demo keeps raising alerts: the queue's count is the API's at the queue's load, no more than now.
    const res = await fetch(`${base}/api/alerts?status=open&limit=1`, {
      headers: { authorization: `Bearer ${adminKey}` },
    });
    const now = ((await res.json()) as { total: number }).total;
    assert.ok(n >= before && n <= now, `queue total ${n}: ${before} shown, ${now} open now`);
    const more = (await total.getAttribute("data-capped")) === "true" ? "\\+" : "";
    const pages = Math.ceil(n / 30).toLocaleString("en-US");
    assert.match((await total.textContent()) ?? "", new RegExp(`^page 1 of ${pages}${more} · `));
    await page.getByTestId("load-more").click();
    await waitUntil("the next page", async () => (await page.getByTestId("queue-row").count()) > before);
    await total.filter({ hasText: /^page 2 of / }).waitFor();
    const ids = await page
      .getByTestId("queue-row")
      .evaluateAll((els) => els.map((e) => e.getAttribute("data-id")));
    assert.equal(new Set(ids).size, ids.length, "no alert twice in the queue");
  });

  it("assigns an alert to the key from its detail panel and shows the assignee", async () => {
    const id = await page.getByTestId("queue-row").first().getAttribute("data-id");
    assert.ok(id);
    await page.locator(`[data-testid="queue-row"][data-id="${id}"]`).click();
    const detail = page.locator(`[data-testid="detail"][data-id="${id}"]`);
    await detail.waitFor();
    const assignee = detail.getByTestId("detail-assignee");
    assert.equal(await assignee.getAttribute("data-value"), "");
    await detail.getByTestId("assign-me").filter({ hasText: "Assign to me" }).click();
    await waitUntil("the assignee", async () => (await assignee.getAttribute("data-value")) !== "");
    const shown = await assignee.getAttribute("data-value");
    assert.match(shown ?? "", /^admin:/);
    assert.equal((await detail.getByTestId("assign-me").textContent())?.trim(), "Unassign");
    const res = await fetch(`${base}/api/transactions/${encodeURIComponent(id)}`, {
      headers: { authorization: `Bearer ${adminKey}` },
    });
    const stored = ((await res.json()) as { alert: { assignee: string | null } }).alert.assignee;
    assert.equal(stored, shown, "the API stored what the page shows");
    await shot(page, "assigned-1280");
  });

  it("draws the model's ROC and PR curves and moves precision/recall with the threshold", async () => {
    await page.getByTestId("nav-model").click();
    await page.getByTestId("chart-roc").locator("canvas").waitFor({ timeout: 60_000 });
    await page.getByTestId("chart-pr").locator("canvas").waitFor();
    assert.match((await page.getByTestId("model-auc").textContent()) ?? "", /0\.\d{3}/);
    const slider = page.getByTestId("threshold-slider");
    const read = async () => ({
      threshold: await page.getByTestId("threshold-value").textContent(),
      precision: await page.getByTestId("precision").textContent(),
      recall: await page.getByTestId("recall").textContent(),
      tp: await page.getByTestId("cm-tp").getAttribute("data-value"),
    });
    await slider.fill("10");
    const low = await read();
    await slider.fill("90");
    const high = await read();
    assert.equal(low.threshold, "0.10");
    assert.equal(high.threshold, "0.90");
    assert.notDeepEqual(low, high);
    // A higher threshold flags fewer: recall cannot rise.
    const pctOf = (s: string | null) => Number((s ?? "").replace(/[^\d.]/g, ""));
    assert.ok(pctOf(high.recall) <= pctOf(low.recall), `${high.recall} vs ${low.recall}`);
    await slider.fill("50");
    await shot(page, "model-1280");
  });

  it("lists models", async () => {
    await page.getByTestId("nav-models").click();
    await page.locator('[data-testid="models-empty"], [data-testid="models-table"]').first().waitFor();
    await shot(page, "models-1280");
  });

  it("fits a phone screen", async () => {
    const phone = await browser!.newContext({ viewport: PHONE, isMobile: true, hasTouch: true });
    const phoneErrors = watchErrors(phone);
    const p = await phone.newPage();
    await p.goto(`${base}/#key=${adminKey}`);
    await p.getByTestId("feed-row").first().waitFor({ timeout: 30_000 });
    await p.getByTestId("chart-rate").locator("canvas").waitFor();
    // The screenshot should show a settled page: stats loaded and the stream connected.
    await waitUntil(
      "stats on the phone",
      async () => (await p.getByTestId("tile-eps").getAttribute("data-value")) !== "",
    );
    await waitUntil(
      "the stream on the phone",
      async () => (await p.getByTestId("stream-state").textContent()) === "live",
    );
    const overflow = await p.evaluate<number>("document.documentElement.scrollWidth - window.innerWidth");
    assert.ok(overflow <= 0, `the page scrolls sideways by ${overflow}px`);
    await shot(p, "live-390");
    await p.getByTestId("feed-row").first().click();
    await p.getByTestId("detail").getByTestId("feature-row").first().waitFor();
    await shot(p, "review-390");
    await p.getByTestId("nav-model").click();
    await p.getByTestId("chart-roc").locator("canvas").waitFor({ timeout: 60_000 });
    await shot(p, "model-390");
    await phone.close();
    assert.deepEqual(phoneErrors, []);
  });

  it("lets a viewer key look but not label or assign, knowing its role up front", async () => {
    const viewer = await browser!.newContext({ viewport: DESKTOP });
    const viewerErrors = watchErrors(viewer);
    const p = await viewer.newPage();
    await p.goto(`${base}/#key=${VIEWER_KEY}`);
    await p.getByTestId("key-role").filter({ hasText: "viewer" }).waitFor();
    await p.getByTestId("nav-review").click();
    const row = p.getByTestId("queue-row").first();
    await row.waitFor({ timeout: 30_000 });
    await row.click();
    const detail = p.getByTestId("detail");
    await detail.getByTestId("detail-assignee").waitFor();
    // Disabled and explained before any attempt: no 403 needed to find out.
    assert.match((await detail.getByTestId("label-denied").textContent()) ?? "", /role is viewer/);
    assert.equal(await detail.getByTestId("label-fraud").isDisabled(), true);
    assert.equal(await detail.getByTestId("label-fp").isDisabled(), true);
    assert.equal(await detail.getByTestId("label-result").count(), 0);
    assert.equal(await detail.getByTestId("assign-me").count(), 0, "no assign button for a viewer");
    assert.equal((await detail.getByTestId("detail-status").textContent())?.trim(), "open");
    await shot(p, "viewer-denied-1280");
    await viewer.close();
    assert.deepEqual(viewerErrors, []);
  });

  it("asks for a key when the one in the link is wrong", async () => {
    const stranger = await browser!.newContext({ viewport: DESKTOP });
    const p = await stranger.newPage();
    await p.goto(`${base}/#key=not-a-valid-key-000000`);
    await p.getByTestId("key-prompt").waitFor({ timeout: 15_000 });
    assert.match((await p.getByTestId("auth-error").textContent()) ?? "", /401/);
    // A good key typed into the prompt opens the dashboard.
    await p.getByTestId("key-input").fill(adminKey);
    await p.getByTestId("key-submit").click();
    await p.getByTestId("tiles").waitFor();
    await stranger.close();
  });

  it("logged no console errors on the admin's pages", () => {
    assert.deepEqual(errors, []);
  });
});
