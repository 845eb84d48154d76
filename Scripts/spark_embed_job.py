#!/usr/bin/env python3
"""The Spark job behind Scripts/spark-embed: texts -> `encoder embed` per partition -> Parquet.

Every text gets a stable 0-based id, its line number (text file) or row number (Parquet), assigned with
zipWithIndex before any repartitioning. Each partition starts one `encoder embed --input-format jsonl`
process, writes {"id": …, "text": …} records to its stdin from a feeder thread and reads the output lines as
they come (the partition is never collected in memory: only the records between the feeder and the reader,
bounded by the pipe and the encoder's read-ahead, are held). Output lines are checked against the ids sent,
in order. An encoder that dies fails the task, which Spark retries (a failed attempt's rows are discarded by
Spark's output commit, so every id appears exactly once); an input the encoder rejects fails the job with its
id and line named.
"""

import argparse
import collections
import json
import os
import re
import subprocess
import sys
import tempfile
import threading


def parse_arguments(argv):
    root = os.environ.get("SPARK_EMBED_ROOT", os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    ap = argparse.ArgumentParser(prog="spark-embed", description=__doc__.split("\n\n")[0])
    ap.add_argument("input", help="a text file (one text per line) or Parquet (file or folder)")
    ap.add_argument("output", help="Parquet folder to write: id, text, embedding")
    ap.add_argument("--model", default=os.environ.get("ENCODER_MODEL", os.path.join(root, "models/all-MiniLM-L6-v2")))
    ap.add_argument("--partitions", type=int, default=None, help="partitions (default: Spark's for the input)")
    ap.add_argument("--master", default=None, help="Spark master (default: spark-submit's, else local[*])")
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--threads-per-task", type=int, default=1,
                    help="encoder threads per task; also spark.task.cpus, so tasks never oversubscribe the cores")
    ap.add_argument("--text-column", default=None, help="Parquet input: the column of texts (default: 'text')")
    ap.add_argument("--input-format", choices=["auto", "text", "parquet"], default="auto")
    ap.add_argument("--encoder", default=None, help="the encoder executable (default: the release build, else debug)")
    ap.add_argument("--ship", action="store_true",
                    help="send the encoder and the model folder to executors with SparkContext.addFile "
                         "instead of using the same path on every node")
    ap.add_argument("--max-failures", type=int, default=4, help="attempts per task (local masters: local[N,F])")
    ap.add_argument("--overwrite", action="store_true", help="replace OUTPUT if it exists")
    args = ap.parse_args(argv)
    if args.encoder is None:
        for build in ("release", "debug"):
            candidate = os.path.join(root, ".build", build, "encoder")
            if os.access(candidate, os.X_OK):
                args.encoder = candidate
                break
        else:
            ap.error("no encoder executable: build it (swift build -c release) or pass --encoder PATH")
    for name in ("partitions", "batch_size", "threads_per_task", "max_failures"):
        value = getattr(args, name)
        if value is not None and value < 1:
            ap.error(f"--{name.replace('_', '-')} must be positive")
    if args.input_format == "auto":
        args.input_format = "parquet" if args.input.endswith(".parquet") or os.path.isdir(args.input) else "text"
    if args.text_column and args.input_format != "parquet":
        ap.error("--text-column applies to Parquet input")
    args.text_column = args.text_column or "text"
    return args


def master_with_retries(master, failures):
    """local[N] does not retry failed tasks; local[N,F] does."""
    match = re.fullmatch(r"local\[([^\],]+)\]", master or "")
    if match:
        return f"local[{match.group(1)},{failures}]"
    if master == "local":
        return f"local[1,{failures}]"
    return master


class EncoderFailure(RuntimeError):
    pass


def embed_partition(encoder, model, batch_size, threads, input_name):
    """The mapPartitions function: (id, text) records in, (id, text, embedding) rows out, streaming."""

    def run(records):
        from pyspark import SparkFiles  # executors only

        executable = SparkFiles.get(encoder[len("shipped:"):]) if encoder.startswith("shipped:") else encoder
        model_dir = SparkFiles.get(model[len("shipped:"):]) if model.startswith("shipped:") else model
        if encoder.startswith("shipped:"):
            os.chmod(executable, 0o755)
        stderr = tempfile.TemporaryFile()
        process = subprocess.Popen(
            [executable, "embed", "--model", model_dir, "--input-format", "jsonl",
             "--batch-size", str(batch_size), "--threads", str(threads)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=stderr, bufsize=1 << 16)
        sent = collections.deque()  # (id, text) written, not yet read back
        feeder_error = []

        def feed():
            try:
                for identifier, text in records:
                    sent.append((identifier, text))
                    process.stdin.write((json.dumps({"id": identifier, "text": text}, ensure_ascii=False)
                                         + "\n").encode("utf-8", "surrogatepass"))
                process.stdin.close()
            except BrokenPipeError:
                pass  # the encoder stopped reading: its exit status says why
            except BaseException as error:  # noqa: BLE001 - reported by the reader
                feeder_error.append(error)
                try:
                    process.stdin.close()
                except OSError:
                    pass

        feeder = threading.Thread(target=feed, daemon=True)
        feeder.start()
        done = 0
        for line in process.stdout:
            record = json.loads(line)
            identifier, text = sent.popleft()
            if record.get("id") != identifier or record.get("index") != done:
                raise EncoderFailure(f"encoder output out of order: expected id {identifier} at index {done}, got {line[:80]!r}")
            done += 1
            yield identifier, text, record["embedding"]
        status = process.wait()
        feeder.join()
        stderr.seek(0)
        message = stderr.read().decode("utf-8", "replace").strip().splitlines()
        last = message[-1] if message else ""
        if feeder_error:
            raise feeder_error[0]
        if status != 0:
            if sent and re.search(r"line \d+", last):
                identifier, _ = sent[0]
                raise EncoderFailure(
                    f"{input_name}: line {identifier + 1} (id {identifier}) was rejected by the encoder: {last}")
            raise EncoderFailure(f"encoder exited with status {status} after {done} records: {last}")
        if sent:
            raise EncoderFailure(f"encoder ended after {done} records with {len(sent)} unanswered")

    return run


def main(argv=None):
    args = parse_arguments(argv)
    from pyspark.sql import SparkSession
    from pyspark.sql.types import ArrayType, FloatType, LongType, StringType, StructField, StructType

    builder = (SparkSession.builder.appName("spark-embed").config("spark.task.cpus", str(args.threads_per_task))
               .config("spark.ui.showConsoleProgress", "false"))
    master = args.master or (None if os.environ.get("SPARK_MASTER_SET_BY_SUBMIT") else "local[*]")
    if master:
        builder = builder.master(master_with_retries(master, args.max_failures))
    builder = builder.config("spark.task.maxFailures", str(args.max_failures))
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("WARN")
    sc = spark.sparkContext

    encoder, model = os.path.abspath(args.encoder), os.path.abspath(args.model)
    if args.ship:
        sc.addFile(encoder)
        sc.addFile(model, recursive=True)
        encoder, model = "shipped:" + os.path.basename(encoder), "shipped:" + os.path.basename(model.rstrip("/"))

    if args.input_format == "text":
        lines = sc.textFile(args.input, minPartitions=args.partitions or sc.defaultMinPartitions)
    else:
        frame = spark.read.parquet(args.input)
        if args.text_column not in frame.columns:
            raise SystemExit(f"spark-embed: {args.input}: no column '{args.text_column}' (columns: {frame.columns})")
        lines = frame.select(args.text_column).rdd.map(lambda row: row[0] if row[0] is not None else "")
    records = lines.zipWithIndex().map(lambda pair: (pair[1], pair[0]))
    if args.partitions and records.getNumPartitions() != args.partitions:
        records = records.repartition(args.partitions)

    rows = records.mapPartitions(embed_partition(encoder, model, args.batch_size, args.threads_per_task, args.input))
    schema = StructType([
        StructField("id", LongType(), False),
        StructField("text", StringType(), False),
        StructField("embedding", ArrayType(FloatType(), False), False),
    ])
    try:
        spark.createDataFrame(rows, schema).write.mode("overwrite" if args.overwrite else "errorifexists").parquet(args.output)
    except Exception as error:  # noqa: BLE001 - one line naming the cause, then Spark's own report
        cause = re.search(r"EncoderFailure: ([^\n]*)", str(error))
        print(f"spark-embed: job failed: {cause.group(1) if cause else str(error).splitlines()[0]}", file=sys.stderr)
        spark.stop()
        return 1
    written = spark.read.parquet(args.output).count()
    print(f"spark-embed: {written} rows in {records.getNumPartitions()} partitions -> {args.output}", file=sys.stderr)
    spark.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
