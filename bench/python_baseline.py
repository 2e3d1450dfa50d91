#!/usr/bin/python3
"""The Python per-event baseline of the end-to-end benchmark (driven by bench/baseline.ts).

Built the way the Python reference pipelines this product replaces work: a kafka-python consumer
that, for each event, parses the JSON, builds a feature vector, scores that one vector with a
scikit-learn IsolationForest (100 trees, fitted at start on the same simulated data the benchmark
uses), applies the classic three rules, inserts one row into PostgreSQL with psycopg2 and commits
that one row. Offsets are auto-committed by kafka-python, as in those pipelines. Nothing here is
tuned: the point is to measure the shape, not to write the fastest possible Python.

    /usr/bin/python3 bench/python_baseline.py --brokers HOST:PORT --topic T --group G \
        --database-url postgres://... --train FILE.jsonl [--duration S] [--max-events N]

Runs until --max-events events were stored or --duration seconds passed since the first event.
Progress goes to stderr; the last line on stdout is one JSON object with the figures.
Needs Debian's python3-sklearn, python3-kafka and python3-psycopg2.
"""

import argparse
import json
import math
import sys
import time
from collections import defaultdict, deque
from datetime import datetime

import numpy as np
import psycopg2
from kafka import KafkaConsumer
from sklearn.ensemble import IsolationForest

CHANNELS = {"pos": 0, "online": 1, "mobile": 2, "atm": 3, "transfer": 4}
DEVICES = {"pos terminal": 0, "desktop": 1, "mobile": 2, "tablet": 3, "atm": 4}
FEATURES = [
    "amount",
    "log_amount",
    "hour_of_day",
    "day_of_week",
    "is_weekend",
    "channel_code",
    "device_code",
    "is_foreign",
    "txn_count_1h",
]
HOUR_S = 3600.0


class Velocity:
    """Per-user event times of the last hour, kept in a dict of deques as the reference pipelines do."""

    def __init__(self):
        self.recent = defaultdict(deque)

    def count_1h(self, user_id, t):
        q = self.recent[user_id]
        while q and q[0] <= t - HOUR_S:
            q.popleft()
        n = len(q)
        q.append(t)
        return n


def features(event, velocity):
    ts = datetime.fromisoformat(event["timestamp"].replace("Z", "+00:00"))
    amount = float(event["amount"])
    country = event.get("country")
    home = event.get("home_country")
    # Python's weekday() is Monday = 0; the product's day_of_week is Sunday = 0.
    dow = (ts.weekday() + 1) % 7
    return [
        amount,
        math.log1p(amount),
        ts.hour,
        dow,
        1 if dow in (0, 6) else 0,
        CHANNELS.get(event.get("channel"), -1),
        DEVICES.get((event.get("device") or "").lower(), 5 if event.get("device") else -1),
        1 if country and home and country != home else 0,
        velocity.count_1h(event["user_id"], ts.timestamp()),
    ]


def classic_rules(event, x):
    """The reference pipelines' rules: high value 2, location change 2, high frequency 1; flag at 2."""
    points = 0
    hits = []
    if x[0] > 3000:
        points += 2
        hits.append("high_value")
    if x[7] == 1:
        points += 2
        hits.append("location_change")
    if x[8] >= 8:
        points += 1
        hits.append("high_frequency")
    return points, hits


def train(path, trees):
    velocity = Velocity()
    rows = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.strip():
                rows.append(features(json.loads(line), velocity))
    model = IsolationForest(n_estimators=trees, random_state=42)
    model.fit(np.asarray(rows, dtype=float))
    return model, len(rows)


DDL = """
CREATE TABLE IF NOT EXISTS baseline_scored (
  transaction_id text NOT NULL,
  user_id        text NOT NULL,
  event_time     timestamptz NOT NULL,
  amount         numeric(18, 2) NOT NULL,
  currency       text NOT NULL,
  country        text,
  features       jsonb NOT NULL,
  score          double precision NOT NULL,
  is_anomaly     boolean NOT NULL,
  rule_points    integer NOT NULL,
  rule_hits      text[] NOT NULL,
  risk           text NOT NULL,
  decision       text NOT NULL,
  is_fraud       boolean,
  payload        jsonb NOT NULL,
  produced_at    timestamptz NOT NULL,
  processed_at   timestamptz NOT NULL DEFAULT clock_timestamp()
)
"""

INSERT = """
INSERT INTO baseline_scored (transaction_id, user_id, event_time, amount, currency, country, features,
  score, is_anomaly, rule_points, rule_hits, risk, decision, is_fraud, payload, produced_at)
VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, to_timestamp(%s / 1000.0))
"""


def verdict(is_anomaly, points):
    if is_anomaly:
        points += 2
    if points >= 4:
        return "CRITICAL", "BLOCK"
    if points >= 2:
        return "HIGH", "REVIEW"
    if points >= 1:
        return "MEDIUM", "APPROVE"
    return "LOW", "APPROVE"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--brokers", required=True)
    ap.add_argument("--topic", required=True)
    ap.add_argument("--group", required=True)
    ap.add_argument("--database-url", required=True)
    ap.add_argument("--train", required=True, help="JSON Lines of transactions to fit the model on")
    ap.add_argument("--trees", type=int, default=100)
    ap.add_argument("--duration", type=float, default=60.0, help="seconds after the first event")
    ap.add_argument("--max-events", type=int, default=1_000_000_000)
    ap.add_argument(
        "--calls",
        choices=["score", "score+predict"],
        default="score",
        help="sklearn calls per event: score_samples only (default), or score_samples and predict",
    )
    args = ap.parse_args()

    t0 = time.perf_counter()
    model, train_rows = train(args.train, args.trees)
    fit_s = time.perf_counter() - t0
    print(f"python baseline: fitted {args.trees} trees on {train_rows} rows in {fit_s:.1f} s", file=sys.stderr)

    conn = psycopg2.connect(args.database_url)
    with conn.cursor() as cur:
        cur.execute(DDL)
    conn.commit()
    cur = conn.cursor()

    consumer = KafkaConsumer(
        args.topic,
        bootstrap_servers=args.brokers.split(","),
        group_id=args.group,
        auto_offset_reset="earliest",
        enable_auto_commit=True,
    )
    velocity = Velocity()
    # score_samples is the negated anomaly score; predict() is -1 where it falls below offset_.
    offset = model.offset_
    stages = {"parse": 0.0, "features": 0.0, "score": 0.0, "rules": 0.0, "insert_commit": 0.0}
    n = 0
    first = None
    cpu_first = 0.0
    last_report = time.perf_counter()
    deadline = None
    try:
        for msg in consumer:
            a = time.perf_counter()
            if first is None:
                first = a
                cpu_first = time.process_time()
                deadline = first + args.duration
            event = json.loads(msg.value)
            b = time.perf_counter()
            x = features(event, velocity)
            c = time.perf_counter()
            score = float(model.score_samples([x])[0])
            if args.calls == "score+predict":
                is_anomaly = bool(model.predict([x])[0] == -1)
            else:
                is_anomaly = score < offset
            d = time.perf_counter()
            points, hits = classic_rules(event, x)
            risk, decision = verdict(is_anomaly, points)
            e = time.perf_counter()
            fraud = event.get("is_fraud")
            cur.execute(
                INSERT,
                (
                    event["transaction_id"],
                    event["user_id"],
                    event["timestamp"],
                    event["amount"],
                    event["currency"],
                    event.get("country"),
                    json.dumps(dict(zip(FEATURES, x))),
                    score,
                    is_anomaly,
                    points,
                    hits,
                    risk,
                    decision,
                    None if fraud is None else bool(fraud),
                    json.dumps(event),
                    msg.timestamp,
                ),
            )
            conn.commit()
            f = time.perf_counter()
            stages["parse"] += b - a
            stages["features"] += c - b
            stages["score"] += d - c
            stages["rules"] += e - d
            stages["insert_commit"] += f - e
            n += 1
            if f - last_report >= 5:
                last_report = f
                print(f"python baseline: {n} events, {n / (f - first):.0f}/s", file=sys.stderr)
            if n >= args.max_events or f >= deadline:
                break
    finally:
        consumer.close()
        cur.close()
        conn.close()
    elapsed = (time.perf_counter() - first) if first is not None else 0.0
    cpu = time.process_time() - cpu_first
    busy = sum(stages.values())
    print(
        json.dumps(
            {
                "events": n,
                "seconds": round(elapsed, 3),
                "eventsPerSecond": round(n / elapsed, 1) if elapsed > 0 else 0,
                "trees": args.trees,
                "trainRows": train_rows,
                "fitSeconds": round(fit_s, 2),
                "calls": args.calls,
                "commit": "per event",
                # Cores this process kept busy (the rest of its time it waited on the broker or PostgreSQL).
                "cores": round(cpu / elapsed, 2) if elapsed > 0 else 0,
                "msPerEvent": {k: round(v / n * 1000, 3) for k, v in stages.items()} if n else {},
                "shareOfBusy": {k: round(v / busy, 3) for k, v in stages.items()} if busy else {},
                "python": sys.version.split()[0],
                "sklearn": __import__("sklearn").__version__,
                "kafkaPython": __import__("kafka").__version__,
                "psycopg2": psycopg2.__version__.split()[0],
            }
        )
    )


if __name__ == "__main__":
    main()
