// Real Apache Kafka for the integration tests: one combined broker+controller KRaft node (or a quorum
// of three) on free loopback ports, with temporary log dirs, run from the jars ops/kafka/fetch.sh
// resolved from Maven Central. Ready (answering metadata) in about 2 s for one node and 5 s for three on
// the 2-core machine; stop() takes well under 0.1 s; startBroker(i) in a quorum about 1.5–5 s.
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { randomBytes, randomUUID } from "node:crypto";
import { createWriteStream, existsSync, readFileSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { Admin } from "@platformatic/kafka";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const POM = join(ROOT, "ops/kafka/pom.xml");
const LOG4J = join(ROOT, "ops/kafka/log4j2.properties");

export interface KafkaCluster {
  /** "127.0.0.1:port,..." of all brokers. */
  bootstrap: string;
  brokers: string[];
  /** The temporary directory holding every node's config, log dir and broker log (removed by stop()). */
  dataDir: string;
  /** Kills every broker, waits until they exited and removes the data. Idempotent. */
  stop(): Promise<void>;
  /** Graceful stop (SIGTERM) of broker i, waiting until it exited (SIGKILL after 15 s). */
  stopBroker(i: number): Promise<void>;
  /** SIGKILL of broker i (a crash), waiting until it exited. */
  killBroker(i: number): Promise<void>;
  /** Starts broker i again (same ports and data) and waits until it serves. */
  startBroker(i: number): Promise<void>;
}

export interface KafkaOptions {
  /** 1: one combined broker+controller node. 3: a three-node quorum (each combined), replication 3, min ISR 2. */
  brokers?: 1 | 3;
  /**
   * "fast-start" (default): C1 JIT only, which starts the JVM about a second sooner and is plenty for tests.
   * "full": the full JIT, for benchmarks where the broker's own throughput matters.
   */
  jit?: "fast-start" | "full";
}

interface Node {
  id: number;
  port: number;
  controllerPort: number;
  dir: string;
  config: string;
  log: string;
  child: ChildProcess | null;
}

function kafkaLib(): string {
  const version = /<kafka\.version>([^<]+)<\/kafka\.version>/.exec(readFileSync(POM, "utf8"))?.[1];
  if (version === undefined) throw new Error(`no <kafka.version> in ${POM}`);
  // fetch.sh returns at once when the jars for this pom are in place (stamp keyed by the pom's hash);
  // otherwise it resolves them from Maven Central once (about a minute on a cold ~/.m2).
  try {
    execFileSync("bash", [join(ROOT, "ops/kafka/fetch.sh")], {
      stdio: ["ignore", "inherit", "inherit"],
      env: { ...process.env, KAFKA_FETCH_QUIET: "1" },
    });
  } catch (err) {
    throw new Error(
      `Apache Kafka ${version} jars are missing and ops/kafka/fetch.sh failed (see its output above); ` +
        `run \`npm run kafka:fetch\` (needs Java 17+ and Maven reaching Maven Central): ${String(err)}`,
    );
  }
  return join(ROOT, ".cache/kafka", version, "lib");
}

/** A KRaft cluster id as kafka.tools.StorageTool random-uuid makes it, without a JVM start (~1 s). */
function kafkaUuid(): string {
  for (;;) {
    const id = randomBytes(16).toString("base64url");
    if (!id.startsWith("-")) return id;
  }
}

// Linux: the JVMs get SIGKILL when this process dies, however it dies (a killed test runner included),
// so no broker outlives its test. The "exit" handler below covers ordinary exits where setpriv is missing.
const PDEATHSIG = existsSync("/usr/bin/setpriv") ? ["/usr/bin/setpriv", "--pdeathsig", "KILL", "--"] : [];
const JAVA_FAST = ["-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Xshare:auto"];

function java(args: string[], stdio: "pipe"): ChildProcess {
  const argv = [...PDEATHSIG, "java", ...args];
  return spawn(argv[0] as string, argv.slice(1), { stdio: ["ignore", stdio, stdio] });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

const children = new Set<ChildProcess>();
process.once("exit", () => {
  for (const c of children) c.kill("SIGKILL");
});

/** Starts `brokers` KRaft nodes (each broker + controller) and waits until the cluster serves. */
export async function startKafka(opts: KafkaOptions = {}): Promise<KafkaCluster> {
  const count = opts.brokers ?? 1;
  const lib = kafkaLib();
  const classpath = `${lib}/*`;
  const base = await mkdtemp(join(tmpdir(), "fraudstream-kafka-"));
  const nodes: Node[] = [];
  for (let i = 0; i < count; i++) {
    const dir = join(base, `node-${i + 1}`);
    nodes.push({
      id: i + 1,
      port: await freePort(),
      controllerPort: await freePort(),
      dir,
      config: join(base, `server-${i + 1}.properties`),
      log: join(base, `broker-${i + 1}.log`),
      child: null,
    });
  }
  const voters = nodes.map((n) => `${n.id}@127.0.0.1:${n.controllerPort}`).join(",");
  const rf = Math.min(3, count);
  for (const n of nodes) {
    await writeFile(
      n.config,
      [
        "process.roles=broker,controller",
        `node.id=${n.id}`,
        `controller.quorum.voters=${voters}`,
        `listeners=PLAINTEXT://127.0.0.1:${n.port},CONTROLLER://127.0.0.1:${n.controllerPort}`,
        `advertised.listeners=PLAINTEXT://127.0.0.1:${n.port}`,
        "controller.listener.names=CONTROLLER",
        "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
        "inter.broker.listener.name=PLAINTEXT",
        `log.dirs=${n.dir}`,
        "num.partitions=1",
        `offsets.topic.replication.factor=${rf}`,
        "offsets.topic.num.partitions=10",
        `transaction.state.log.replication.factor=${rf}`,
        `transaction.state.log.min.isr=${Math.min(2, rf)}`,
        `share.coordinator.state.topic.replication.factor=${rf}`,
        `share.coordinator.state.topic.min.isr=${Math.min(2, rf)}`,
        `min.insync.replicas=${Math.min(2, rf)}`,
        `default.replication.factor=${rf}`,
        "group.initial.rebalance.delay.ms=0",
        "auto.create.topics.enable=false",
        // Tests stop brokers often: do not wait long for a controlled shutdown that cannot complete.
        "controlled.shutdown.max.retries=1",
        // A broker restarted by a test re-registers only once its previous session has expired (default
        // 9 s); 3 s also lets the controller fence a killed broker sooner.
        "broker.session.timeout.ms=3000",
        "broker.heartbeat.interval.ms=500",
        "",
      ].join("\n"),
    );
  }
  // Formatting costs a JVM start per node: all at once.
  const clusterId = kafkaUuid();
  await Promise.all(
    nodes.map(
      (n) =>
        new Promise<void>((resolve, reject) => {
          const p = java(
            [
              ...JAVA_FAST,
              "-cp",
              classpath,
              `-Dlog4j2.configurationFile=${LOG4J}`,
              "kafka.tools.StorageTool",
              "format",
              "-t",
              clusterId,
              "-c",
              n.config,
            ],
            "pipe",
          );
          let out = "";
          p.stdout?.on("data", (d: Buffer) => {
            out += d.toString();
          });
          p.stderr?.on("data", (d: Buffer) => {
            out += d.toString();
          });
          p.on("error", reject);
          p.on("exit", (code) =>
            code === 0 ? resolve() : reject(new Error(`formatting Kafka node ${n.id} failed:\n${out}`)),
          );
        }),
    ),
  );

  const jvm = opts.jit === "full" ? ["-XX:+UseSerialGC", "-Xshare:auto"] : JAVA_FAST;
  const launch = (n: Node): void => {
    const child = java(
      [
        "-Xms256m",
        "-Xmx512m",
        ...jvm,
        "-Djava.awt.headless=true",
        `-Dlog4j2.configurationFile=${LOG4J}`,
        "-cp",
        classpath,
        "kafka.Kafka",
        n.config,
      ],
      "pipe",
    );
    const log = createWriteStream(n.log, { flags: "a" });
    child.stdout?.pipe(log, { end: false });
    child.stderr?.pipe(log, { end: false });
    child.once("exit", () => log.end());
    children.add(child);
    child.on("exit", () => children.delete(child));
    n.child = child;
  };

  const logTail = (n: Node): string => {
    try {
      return readFileSync(n.log, "utf8").split("\n").slice(-30).join("\n");
    } catch {
      return "(no log)";
    }
  };

  const bootstrap = nodes.map((n) => `127.0.0.1:${n.port}`).join(",");

  /** Waits until `n` answers a metadata request, and it lists every live node as a broker. */
  const waitReady = async (n: Node, timeoutMs = 60_000): Promise<void> => {
    const deadline = Date.now() + timeoutMs;
    const live = nodes.filter((x) => x.child !== null && x.child.exitCode === null).length;
    let lastError: unknown;
    while (Date.now() < deadline) {
      if (n.child === null || n.child.exitCode !== null) {
        throw new Error(
          `Kafka node ${n.id} exited (code ${n.child?.exitCode}) during startup:\n${logTail(n)}`,
        );
      }
      const admin = new Admin({
        clientId: "test-probe",
        bootstrapBrokers: [`127.0.0.1:${n.port}`],
        retries: 0,
        timeout: 2000,
      });
      try {
        const meta = await admin.metadata({ topics: [] });
        if (meta.brokers.size >= live) return;
      } catch (err) {
        lastError = err;
      } finally {
        await admin.close().catch(() => undefined);
      }
      await sleep(150);
    }
    throw new Error(
      `Kafka node ${n.id} not ready after ${timeoutMs} ms (${String(lastError)}); log tail:\n${logTail(n)}`,
    );
  };

  const waitExit = async (n: Node, graceMs: number): Promise<void> => {
    const child = n.child;
    if (child === null || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
    await exited;
    clearTimeout(timer);
  };

  for (const n of nodes) launch(n);
  try {
    await Promise.all(nodes.map((n) => waitReady(n)));
  } catch (err) {
    for (const n of nodes) n.child?.kill("SIGKILL");
    await Promise.all(nodes.map((n) => waitExit(n, 0)));
    await rm(base, { recursive: true, force: true });
    throw err;
  }

  const node = (i: number): Node => {
    const n = nodes[i];
    if (n === undefined) throw new RangeError(`no broker ${i} (cluster of ${nodes.length})`);
    return n;
  };

  let stopped = false;
  return {
    bootstrap,
    brokers: bootstrap.split(","),
    dataDir: base,
    async stop() {
      if (stopped) return;
      stopped = true;
      // The data is deleted next, so a graceful shutdown buys nothing; and the last node of a quorum
      // waits seconds for a controlled shutdown that cannot complete without its peers.
      for (const n of nodes) n.child?.kill("SIGKILL");
      await Promise.all(nodes.map((n) => waitExit(n, 0)));
      await rm(base, { recursive: true, force: true });
    },
    async stopBroker(i) {
      const n = node(i);
      n.child?.kill("SIGTERM");
      await waitExit(n, 15_000);
    },
    async killBroker(i) {
      const n = node(i);
      n.child?.kill("SIGKILL");
      await waitExit(n, 0);
    },
    async startBroker(i) {
      const n = node(i);
      if (n.child !== null && n.child.exitCode === null && n.child.signalCode === null)
        throw new Error(`broker ${i} is running`);
      launch(n);
      await waitReady(n);
    },
  };
}

/** A fresh random name, for topics and groups that must not collide between tests. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${randomUUID().slice(0, 8)}`;
}
