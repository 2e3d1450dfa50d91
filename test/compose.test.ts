// The deployment files: ops/compose.yaml validates against the Compose Specification's JSON schema (the
// copy the maintained `dclint` package ships, the one docker compose itself validates with) and passes
// dclint's error rules; its app services run real `fraudstream` commands with settings the app accepts,
// and agree with ops/prometheus and ops/grafana. ops/Dockerfile is multi-stage, runs as a non-root user
// on the Node major the project needs, and copies what the app needs at run time.
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { describe, it } from "node:test";
import { Ajv } from "ajv";
import type { Command } from "commander";
import { DCLinter } from "dclint";
import { parse as parseYaml } from "yaml";
import { buildProgram } from "../src/cli/main.ts";
import { SETTINGS } from "../src/config/config.ts";
import { ROOT } from "./helpers/grafana.ts";

const COMPOSE = join(ROOT, "ops/compose.yaml");
const OPS = dirname(COMPOSE);
const composeText = readFileSync(COMPOSE, "utf8");
// Compose resolves YAML merge keys (<<) before validating; so does this parse.
const compose = parseYaml(composeText, { merge: true }) as Compose;

interface Service {
  image?: string;
  build?: { context: string; dockerfile: string };
  command?: string[];
  environment?: Record<string, string>;
  volumes?: string[];
  ports?: string[];
  depends_on?: Record<string, { condition: string }>;
  deploy?: { replicas?: number };
  restart?: string;
  [key: string]: unknown;
}
interface Compose {
  name?: string;
  services: Record<string, Service>;
  volumes?: Record<string, unknown>;
}

/** ${VAR:-default}, ${VAR-default} and ${VAR} as compose interpolates them (empty environment). */
function interpolate(value: string): string {
  return value
    .replace(
      /\$\{(\w+)(?::?-([^}]*))?\}/g,
      (_, _name: string, fallback: string | undefined) => fallback ?? "",
    )
    .replace(/\$\$/g, "$");
}

const appServices = Object.entries(compose.services).filter(([, s]) => s.build !== undefined);

describe("ops/compose.yaml", () => {
  it("validates against the Compose Specification schema", () => {
    const pkg = createRequire(import.meta.url).resolve("dclint/package.json");
    const { $schema, ...schema } = JSON.parse(
      readFileSync(join(dirname(pkg), "schemas/compose.schema.json"), "utf8"),
    ) as Record<string, unknown>;
    // Draft 7, named by an https URL that Ajv does not know it by.
    assert.match(String($schema), /draft-07/);
    assert.match(JSON.stringify(schema).slice(0, 300), /Compose Specification/);
    const ajv = new Ajv({ allErrors: true, strict: false, allowUnionTypes: true });
    const validate = ajv.compile(schema);
    const ok = validate(compose);
    assert.ok(ok, `schema errors:\n${ajv.errorsText(validate.errors, { separator: "\n" })}`);
    // The schema can tell: a misspelt key fails.
    assert.equal(validate({ services: { w: { image: "x", comand: ["worker"] } } }), false);
  });

  it("passes dclint's error rules (schema, duplicate ports and container names, explicit image tags)", () => {
    const linter = new DCLinter({
      rules: {
        // Style rules about key and service order are left out: the file is ordered for reading.
        "service-keys-order": 0,
        "services-alphabetical-order": 0,
        "top-level-properties-order": 0,
        "service-dependencies-alphabetical-order": 0,
        "service-ports-alphabetical-order": 0,
        "require-quotes-in-ports": 0,
        "require-project-name-field": 0,
      },
      quiet: true,
      debug: false,
      exclude: [],
    });
    const [result] = linter.lintFiles([COMPOSE], false);
    // dclint's declaration files use extensionless relative imports, which NodeNext does not resolve.
    const messages = (result?.messages ?? []) as {
      type: string;
      line: number;
      message: string;
      rule: string;
    }[];
    const errors = messages.filter((m) => m.type === "error");
    assert.deepEqual(
      errors.map((m) => `${m.line}: ${m.message} (${m.rule})`),
      [],
    );
  });

  it("runs the infrastructure and the app: Kafka (KRaft), PostgreSQL, Prometheus, Grafana; migrate, workers, simulator, API", () => {
    const s = compose.services;
    assert.match(s.kafka?.image ?? "", /^apache\/kafka:/);
    assert.match(String(s.kafka?.environment?.KAFKA_PROCESS_ROLES), /broker,controller/);
    assert.match(s.postgres?.image ?? "", /^postgres:\d+/);
    assert.match(s.prometheus?.image ?? "", /^prom\/prometheus:v\d/);
    assert.match(s.grafana?.image ?? "", /^grafana\/grafana:\d/);
    assert.deepEqual(appServices.map(([name]) => name).sort(), ["api", "migrate", "simulator", "worker"]);
    assert.ok((s.worker?.deploy?.replicas ?? 1) >= 2, "two workers or more");
    assert.equal(s.migrate?.restart, "no", "migrate is a one-shot");
    for (const name of ["worker", "api"])
      assert.equal(s[name]?.depends_on?.migrate?.condition, "service_completed_successfully", name);
    const fromPom = /<kafka\.version>(\d[^<]*)<\/kafka\.version>/.exec(
      readFileSync(join(ROOT, "ops/kafka/pom.xml"), "utf8"),
    )?.[1];
    assert.equal(s.kafka?.image, `apache/kafka:${fromPom}`, "the Kafka release the tests run");
    const schemaVersion = (
      JSON.parse(readFileSync(join(ROOT, "node_modules/@grafana/schema/package.json"), "utf8")) as {
        version: string;
      }
    ).version;
    assert.equal(
      s.grafana?.image,
      `grafana/grafana:${schemaVersion}`,
      "the Grafana the dashboards are checked for",
    );
  });

  it("app services run existing fraudstream commands with options they accept", () => {
    const program = buildProgram();
    const commands = new Map<string, Command>(program.commands.map((c) => [c.name(), c]));
    for (const [name, service] of appServices) {
      const [command, ...args] = (service.command ?? []).map(interpolate);
      assert.ok(command !== undefined, `${name}: has a command`);
      const cmd = commands.get(command);
      assert.ok(cmd, `${name}: \`fraudstream ${command}\` exists`);
      const flags = new Set(cmd.options.flatMap((o) => [o.long, o.short].filter((f) => f !== undefined)));
      for (const a of args.filter((a) => a.startsWith("-")))
        assert.ok(flags.has(a), `${name}: \`fraudstream ${command}\` has no option ${a}`);
      // Parse for real (without running the action): values are checked by the option parsers.
      if (command === "simulate") {
        const dry = buildProgram().exitOverride();
        const sim = dry.commands.find((c) => c.name() === "simulate") as Command;
        sim.exitOverride().action(() => undefined);
        dry.parse(["node", "fraudstream", command, ...args]);
        assert.equal(sim.opts().kafka, true, `${name}: produces to Kafka`);
      }
    }
  });

  it("app services set only known settings, with values the app accepts", () => {
    const settings = new Map(Object.values(SETTINGS).map((s) => [s.env, s]));
    for (const [name, service] of appServices) {
      for (const [key, raw] of Object.entries(service.environment ?? {})) {
        const setting = settings.get(key);
        assert.ok(setting, `${name}: ${key} is not a fraudstream setting`);
        const parsed = setting.schema.safeParse(interpolate(String(raw)));
        assert.ok(parsed.success, `${name}: ${key}=${raw}: ${parsed.error?.message}`);
      }
    }
    const env = (n: string) => compose.services[n]?.environment ?? {};
    assert.ok(env("api").FRAUDSTREAM_API_KEYS, "`fraudstream api` refuses to start without API keys");
    const kafka = env("kafka");
    const postgres = env("postgres");
    assert.ok(String(kafka.KAFKA_ADVERTISED_LISTENERS).includes("PLAINTEXT://kafka:9092"));
    for (const n of ["worker", "simulator"]) assert.equal(env(n).KAFKA_BROKERS, "kafka:9092", n);
    for (const n of ["worker", "migrate", "api"]) {
      const url = new URL(interpolate(String(env(n).DATABASE_URL)));
      assert.equal(url.hostname, "postgres", n);
      assert.equal(url.pathname, `/${postgres.POSTGRES_DB}`, n);
      assert.equal(decodeURIComponent(url.password), interpolate(String(postgres.POSTGRES_PASSWORD)), n);
    }
  });

  it("agrees with Prometheus's scrape config and Grafana's provisioning", () => {
    const prometheus = parseYaml(readFileSync(join(OPS, "prometheus/prometheus.yml"), "utf8")) as {
      scrape_configs: {
        job_name: string;
        dns_sd_configs?: { names: string[]; port: number }[];
        static_configs?: { targets: string[] }[];
      }[];
    };
    const job = (n: string) => prometheus.scrape_configs.find((j) => j.job_name === n);
    const workerSd = job("fraudstream-worker")?.dns_sd_configs?.[0];
    assert.deepEqual(workerSd?.names, ["worker"]);
    assert.equal(String(workerSd?.port), compose.services.worker?.environment?.FRAUDSTREAM_METRICS_PORT);
    assert.deepEqual(job("fraudstream-api")?.static_configs?.[0]?.targets, [
      `api:${compose.services.api?.environment?.FRAUDSTREAM_PORT}`,
    ]);
    const datasources = parseYaml(
      readFileSync(join(OPS, "grafana/provisioning/datasources/fraudstream.yaml"), "utf8"),
    ) as { datasources: { type: string; url: string; jsonData?: { database?: string } }[] };
    const pgSource = datasources.datasources.find((d) => d.type === "grafana-postgresql-datasource");
    assert.equal(pgSource?.url, "postgres:5432");
    assert.equal(pgSource?.jsonData?.database, compose.services.postgres?.environment?.POSTGRES_DB);
    assert.ok(
      datasources.datasources.some((d) => d.type === "prometheus" && d.url === "http://prometheus:9090"),
    );
    // Grafana's reader password reaches both the role (postgres init) and the datasource (grafana).
    for (const n of ["postgres", "grafana"])
      assert.ok(compose.services[n]?.environment?.GRAFANA_DB_PASSWORD, `${n}: GRAFANA_DB_PASSWORD`);
    // Every file compose mounts from the repository exists.
    for (const [name, service] of Object.entries(compose.services))
      for (const v of service.volumes ?? []) {
        const source = v.split(":")[0] as string;
        if (source.startsWith("."))
          assert.ok(existsSync(join(OPS, source)), `${name}: mounted ${source} exists`);
      }
    const home = String(compose.services.grafana?.environment?.GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH);
    assert.ok(existsSync(join(OPS, "grafana/dashboards", home.split("/").pop() as string)), home);
  });
});

interface Instruction {
  keyword: string;
  args: string;
}

/** Dockerfile instructions: comments and parser directives dropped, continuation lines joined. */
function parseDockerfile(text: string): Instruction[] {
  const out: Instruction[] = [];
  let pending = "";
  for (const line of text.split("\n")) {
    if (/^\s*#/.test(line)) continue;
    if (line.endsWith("\\")) {
      pending += `${line.slice(0, -1)} `;
      continue;
    }
    const full = (pending + line).trim();
    pending = "";
    if (full === "") continue;
    const m = /^(\w+)\s+(.*)$/.exec(full);
    assert.ok(m, `Dockerfile line: ${full}`);
    out.push({ keyword: (m[1] as string).toUpperCase(), args: m[2] as string });
  }
  return out;
}

describe("ops/Dockerfile", () => {
  const file = join(ROOT, compose.services.worker?.build?.dockerfile ?? "ops/Dockerfile");
  const instructions = parseDockerfile(readFileSync(file, "utf8"));
  const args = new Map(
    instructions
      .filter((i) => i.keyword === "ARG" && i.args.includes("="))
      .map((i) => i.args.split("=", 2) as [string, string]),
  );
  const stages: { from: string; name?: string; body: Instruction[] }[] = [];
  for (const i of instructions) {
    if (i.keyword === "FROM") {
      const [image, as, name] = i.args.split(/\s+/);
      const resolved = (image as string).replace(/\$\{(\w+)\}/g, (_, a: string) => args.get(a) ?? "");
      stages.push({ from: resolved, ...(as?.toUpperCase() === "AS" && name ? { name } : {}), body: [] });
    } else stages.at(-1)?.body.push(i);
  }
  const final = stages.at(-1);

  it("is the one every app service in compose builds, from the repository root", () => {
    for (const [name, service] of appServices) {
      assert.equal(resolve(OPS, service.build?.context ?? ""), resolve(ROOT), `${name}: context`);
      assert.equal(join(ROOT, service.build?.dockerfile ?? ""), file, `${name}: dockerfile`);
    }
  });

  it("is multi-stage on an official Node image of the major the project runs on", () => {
    assert.ok(stages.length >= 2, "at least two stages");
    const major = /^v?(\d+)/.exec(
      (JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { devDependencies: { node: string } })
        .devDependencies.node,
    )?.[1];
    for (const s of stages) assert.match(s.from, new RegExp(`^node:${major}(\\.|-|$)`), s.from);
    assert.ok(
      final?.body.some((i) => i.keyword === "COPY" && /--from=/.test(i.args)),
      "the final stage copies from a build stage",
    );
  });

  it("runs as a non-root user", () => {
    const users = final?.body.filter((i) => i.keyword === "USER") ?? [];
    assert.ok(users.length > 0, "the final stage has a USER line");
    const user = (users.at(-1) as Instruction).args.split(":")[0];
    assert.notEqual(user, "root");
    assert.notEqual(user, "0");
  });

  it("installs production dependencies only, and starts the fraudstream CLI", () => {
    const install = stages.flatMap((s) => s.body).find((i) => i.keyword === "RUN" && /npm ci/.test(i.args));
    assert.match(install?.args ?? "", /--omit=dev/);
    const entry = final?.body.find((i) => i.keyword === "ENTRYPOINT");
    assert.deepEqual(JSON.parse(entry?.args ?? "null"), ["node", "bin/fraudstream.js"]);
  });

  it("copies what the app reads at run time, and .dockerignore lets it into the build context", () => {
    const copied = (final?.body ?? [])
      .filter((i) => i.keyword === "COPY" && !i.args.includes("--from="))
      .flatMap((i) => i.args.split(/\s+/).slice(0, -1));
    for (const path of ["package.json", "bin", "src"]) assert.ok(copied.includes(path), `COPY ${path}`);
    assert.ok(existsSync(join(ROOT, "src/io/pg/migrations")), "migrations live under src/");
    const ignore = readFileSync(join(ROOT, ".dockerignore"), "utf8")
      .split("\n")
      .map((l) => l.trim())
      .filter((l) => l !== "" && !l.startsWith("#"));
    assert.equal(ignore[0], "*", "everything is excluded unless listed");
    for (const path of ["package.json", "package-lock.json", "bin/", "src/"])
      assert.ok(ignore.includes(`!${path}`), `.dockerignore admits ${path}`);
  });
});
