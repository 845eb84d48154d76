#!/usr/bin/env python3
"""End-to-end tests of Scripts/spark-embed (run by Scripts/test-spark, which Scripts/test calls).

1. local[2], 4 partitions, a few thousand lines: every id exactly once, text intact, embeddings equal to one
   single-process `encoder embed` run within 1e-6.
2. The same job with an encoder wrapper whose first invocation dies part-way (after 40 records): Spark retries
   the task, and the output is complete and equal.
3. A wrapper that corrupts the record of one id before the real encoder reads it: the encoder rejects that line
   and the job fails with the line and id named.

Exit status 0 only when every check passes; missing prerequisites (encoder, model, Java, pyspark) are failures.
"""

import json
import os
import random
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LINES = int(os.environ.get("SPARK_TEST_LINES", "2000"))
failures = []
checks = 0


def check(condition, message):
    global checks
    checks += 1
    print(("ok   " if condition else "FAIL ") + message, flush=True)
    if not condition:
        failures.append(message)


def corpus(count):
    """Deterministic short texts, with some empty, Unicode and JSON-special lines."""
    rng = random.Random(14)
    words = ("the cat dog sat ran on a mat Paris café naïve 東京 über quick brown fox jumps lazy "
             "model vector spark encoder \"quoted\" back\\slash tab\there").split(" ")
    lines = []
    for i in range(count):
        if i % 97 == 5:
            lines.append("")
        else:
            lines.append(" ".join(rng.choice(words) for _ in range(rng.randint(2, 9))))
    return lines


def run(command, **kwargs):
    print("$ " + " ".join(command), flush=True)
    return subprocess.run(command, text=True, capture_output=True, **kwargs)


def main():
    encoder = os.environ.get("SPARK_TEST_ENCODER") or os.path.join(ROOT, ".build/debug/encoder")
    model = os.path.join(ROOT, "models/all-MiniLM-L6-v2")
    if not os.access(encoder, os.X_OK):
        print(f"FAIL encoder executable missing: {encoder} (swift build)")
        return 1
    if not os.path.exists(os.path.join(model, "model.safetensors")):
        print(f"FAIL default model missing at {model} (Scripts/setup)")
        return 1
    from pyspark.sql import SparkSession

    work = tempfile.mkdtemp(prefix="spark-embed-test-")
    try:
        lines = corpus(LINES)
        source = os.path.join(work, "input.txt")
        with open(source, "w", encoding="utf-8") as f:
            f.write("\n".join(lines) + "\n")

        # The single-process reference.
        reference_path = os.path.join(work, "reference.jsonl")
        result = run([encoder, "embed", "--model", model, "--input", source, "--output", reference_path])
        check(result.returncode == 0, f"single-process encoder embed: {result.stderr.strip()[-200:]}")
        with open(reference_path) as f:
            reference = [json.loads(line)["embedding"] for line in f]
        check(len(reference) == LINES, f"reference has {len(reference)} rows for {LINES} lines")

        job = [os.path.join(ROOT, "Scripts/spark-embed")]
        common = ["--model", model, "--master", "local[2]", "--partitions", "4", "--batch-size", "16"]

        # Wrappers: the test's, not the product's.
        state = os.path.join(work, "state")
        os.mkdir(state)
        dying = os.path.join(work, "dying-encoder")
        with open(dying, "w") as f:
            f.write(f"""#!/bin/sh
# The first invocation dies after 40 records; later ones are the real encoder.
if mkdir "{state}/died" 2>/dev/null; then
    "{encoder}" "$@" | head -n 40
    echo "dying-encoder: simulated crash" >&2
    exit 137
fi
exec "{encoder}" "$@"
""")
        os.chmod(dying, 0o755)
        rejected_id = LINES // 2 + 3
        corrupting = os.path.join(work, "corrupting-encoder")
        with open(corrupting, "w") as f:
            f.write(f"""#!/bin/sh
# Breaks the JSON of the record with id {rejected_id}; the real encoder then rejects that line.
sed -u 's/^{{"id": {rejected_id}, /{{"id": {rejected_id}, BROKEN /' | exec "{encoder}" "$@"
""")
        os.chmod(corrupting, 0o755)

        outputs = {}
        for name, binary in [("plain", encoder), ("retried", dying)]:
            out = os.path.join(work, name + ".parquet")
            result = run(job + [source, out, "--encoder", binary] + common)
            check(result.returncode == 0, f"{name}: job succeeded: {result.stderr.strip()[-400:]}")
            outputs[name] = out
        check(os.path.isdir(os.path.join(state, "died")), "retried: the wrapper's first encoder died")

        rejected_out = os.path.join(work, "rejected.parquet")
        result = run(job + [source, rejected_out, "--encoder", corrupting, "--max-failures", "2"] + common)
        named = f"line {rejected_id + 1} (id {rejected_id})"
        check(result.returncode != 0, "rejected: the job failed")
        check(named in result.stderr, f"rejected: the error names {named}: {result.stderr.strip()[-300:]}")
        check(not os.path.exists(os.path.join(rejected_out, "_SUCCESS")), "rejected: no committed output")

        spark = (SparkSession.builder.master("local[2]").appName("spark-embed-test")
                 .config("spark.ui.showConsoleProgress", "false").getOrCreate())
        spark.sparkContext.setLogLevel("ERROR")
        for name, out in outputs.items():
            if not os.path.exists(os.path.join(out, "_SUCCESS")):
                check(False, f"{name}: output committed")
                continue
            frame = spark.read.parquet(out)
            check([f.name for f in frame.schema.fields] == ["id", "text", "embedding"]
                  and frame.schema["embedding"].dataType.simpleString() == "array<float>",
                  f"{name}: schema {frame.schema.simpleString()}")
            rows = frame.collect()
            ids = [row.id for row in rows]
            check(len(rows) == LINES, f"{name}: {len(rows)} rows for {LINES} lines")
            check(sorted(ids) == list(range(LINES)), f"{name}: every id 0..{LINES - 1} exactly once")
            bad_text = [row.id for row in rows if 0 <= row.id < LINES and row.text != lines[row.id]]
            check(not bad_text, f"{name}: text intact ({len(bad_text)} differ, first ids {bad_text[:5]})")
            worst = 0.0
            for row in rows:
                if 0 <= row.id < LINES:
                    worst = max(worst, max(abs(a - b) for a, b in zip(row.embedding, reference[row.id])))
                    if len(row.embedding) != len(reference[row.id]):
                        worst = float("inf")
            print(f"     {name}: max |spark - single process| = {worst:.3g} over {len(rows)} rows")
            check(worst <= 1e-6, f"{name}: embeddings equal to the single-process run within 1e-6 (max {worst:.3g})")
        spark.stop()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"spark-embed: {checks - len(failures)} passed, {len(failures)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
