"""gridgov on Apache Spark: partial runs fanned out as Spark tasks, merged on the driver.

Spark schedules, retries and ships the binary; gridgov reads, joins and counts. Each task runs
`gridgov run PIPELINE --partial STATES/group-K-of-N --group K/N` (or `--files` for a group of
named files) through `subprocess`, with the task's own environment and working folder; the
driver then runs `gridgov merge PIPELINE STATES/group-*` and exits with its code.

    spark-submit --master yarn --files /opt/gridgov/gridgov \\
        deploy/spark/gridgov_spark.py /shared/city/pipelines/city.toml \\
        --states /shared/gridgov/states/2026-10-31 --groups 40 --as-of 2026-10-31

Retries and speculative copies are harmless: a group's state folder has one fixed name,
gridgov writes it under a temporary name and renames it into place, and a second attempt that
finds the same state there leaves it. The pipeline file, the data it names and the states
folder must be on a file system every executor and the driver see (NFS, CephFS, HDFS or OSS
mounted). See docs/scale-out.md.
"""

import argparse
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import time


def parse_args(argv):
    p = argparse.ArgumentParser(
        prog="gridgov_spark.py",
        description="Fan gridgov partial runs out over Spark tasks and merge their states on the driver.",
    )
    p.add_argument("pipeline", help="the pipeline file (on a file system every executor sees)")
    p.add_argument("--states", required=True, help="folder for the partial states (shared by every executor and the driver)")
    how = p.add_mutually_exclusive_group(required=True)
    how.add_argument("--groups", type=int, metavar="N", help="cut the case files into N groups of consecutive files (gridgov's --group K/N)")
    how.add_argument(
        "--group-by-path",
        metavar="REGEX",
        help="one group per distinct value of the regex's first group in each case file's path "
        "(e.g. 'exports/([^/]+)/' for a folder per district), so a district's files stay together",
    )
    p.add_argument("--gridgov", default="gridgov", help="the binary's file name as shipped with spark-submit --files (default gridgov), or a path every executor sees")
    p.add_argument("--as-of", help="the as-of date (YYYY-MM-DD), passed to every partial run and the merge")
    p.add_argument("--output-dir", help="where the merge publishes the run folder (default: the pipeline's output_dir)")
    p.add_argument("--threads", type=int, help="threads per task (RAYON_NUM_THREADS); default spark.task.cpus")
    p.add_argument("--report", help="write the tasks' and the merge's times and peak memory to this JSON file")
    p.add_argument("--no-merge", action="store_true", help="only write the states")
    return p.parse_args(argv)


def resolve_binary(name):
    """The binary's path where this code runs (driver or executor): a path as given, else the
    file shipped with spark-submit --files (SparkFiles), else a name on PATH."""
    from pyspark import SparkFiles

    if os.sep in name:
        return name
    shipped = SparkFiles.get(name)
    if os.path.isfile(shipped):
        # Spark keeps the execute bit of a shipped file on most file systems; make sure.
        if not os.access(shipped, os.X_OK):
            os.chmod(shipped, 0o755)
        return shipped
    return name


def run(cmd, env, cwd):
    """Runs a command, returning its exit code, output, wall seconds and peak RSS (MB)."""
    t0 = time.monotonic()
    # Output into files, not pipes: waiting on a child whose pipe is full would hang.
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(cmd, env=env, cwd=cwd, stdout=out, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        texts = [f.read().decode("utf-8", "replace") for f in (out, err)]
    return proc.returncode, texts[0], texts[1], time.monotonic() - t0, usage.ru_maxrss / 1024


def task_env(threads):
    env = dict(os.environ)
    if threads:
        env["RAYON_NUM_THREADS"] = str(threads)
        env["POLARS_MAX_THREADS"] = str(threads)
    return env


def state_name(states, k, n):
    return os.path.join(states, f"group-{k:04d}-of-{n:04d}")


def case_files(binary, pipeline, env, cwd):
    """The pipeline's case files in the order a run reads them (`gridgov case-files`)."""
    code, out, err, _, _ = run([binary, "case-files", pipeline], env, cwd)
    if code != 0:
        sys.exit(f"gridgov case-files {pipeline} failed (exit {code}):\n{err}")
    return [line for line in out.splitlines() if line]


def groups_by_path(files, pattern):
    """Groups of files by the regex's first group in their path; every file must match."""
    rx = re.compile(pattern)
    groups, unmatched = {}, []
    for f in files:
        m = rx.search(f)
        if not m or m.group(1) is None:
            unmatched.append(f)
        else:
            groups.setdefault(m.group(1), []).append(f)
    if unmatched:
        sys.exit(f"--group-by-path {pattern!r} matches no group in {len(unmatched)} case file(s), e.g. {unmatched[0]}")
    return [groups[k] for k in sorted(groups)]


def main(argv):
    a = parse_args(argv)
    from pyspark import SparkContext

    sc = SparkContext.getOrCreate()
    sc.setLogLevel("WARN")
    # Paths as the driver sees them; every executor must see the same.
    pipeline = os.path.abspath(a.pipeline)
    states = os.path.abspath(a.states)
    cwd = os.getcwd()
    os.makedirs(states, exist_ok=True)
    threads = a.threads or int(sc.getConf().get("spark.task.cpus", "1"))
    binary = resolve_binary(a.gridgov)
    common = ["--as-of", a.as_of] if a.as_of else []

    if a.groups is not None:
        if a.groups < 1:
            sys.exit("--groups must be at least 1")
        n = a.groups
        shares = [["--group", f"{k + 1}/{n}"] for k in range(n)]
    else:
        env = task_env(threads)
        file_groups = groups_by_path(case_files(binary, pipeline, env, cwd), a.group_by_path)
        n = len(file_groups)
        shares = [["--files", *g] for g in file_groups]
    names = [state_name(states, k + 1, n) for k in range(n)]
    gridgov = a.gridgov

    def run_group(index, _rows):
        # In the executor: this task's own environment and working folder (where YARN unpacks
        # --archives); every path passed is absolute. Not rdd.pipe, which replaces the
        # environment and, in local mode, runs in the driver's folder.
        cmd = [resolve_binary(gridgov), "run", pipeline, "--partial", names[index], *shares[index], *common, "-q"]
        code, _, err, secs, rss = run(cmd, task_env(threads), None)
        if code != 0:
            # Failing the task lets Spark retry it (spark.task.maxFailures); the state folder
            # is only ever renamed into place whole, so a retry starts clean.
            raise RuntimeError(f"group {index + 1}/{n}: {' '.join(cmd)} exited {code}:\n{err[-4000:]}")
        yield {"group": index + 1, "seconds": round(secs, 3), "peak_rss_mb": round(rss, 1), "state": names[index]}

    t0 = time.monotonic()
    tasks = sc.parallelize(range(n), n).mapPartitionsWithIndex(run_group).collect()
    fan_out = time.monotonic() - t0
    for t in sorted(tasks, key=lambda t: t["group"]):
        print(f"gridgov_spark: group {t['group']}/{n}: {t['seconds']:.2f} s, peak {t['peak_rss_mb']:.0f} MB -> {t['state']}", file=sys.stderr)
    report = {"groups": n, "tasks": tasks, "fan_out_seconds": round(fan_out, 3)}
    code = 0
    if not a.no_merge:
        merge = [binary, "merge", pipeline, *names, *common]
        if a.output_dir:
            merge += ["--output-dir", os.path.abspath(a.output_dir)]
        code, out, err, secs, rss = run(merge, task_env(None), cwd)
        sys.stdout.write(out)
        sys.stderr.write(err)
        report["merge"] = {"exit": code, "seconds": round(secs, 3), "peak_rss_mb": round(rss, 1)}
        print(f"gridgov_spark: merge of {n} states: exit {code}, {secs:.2f} s, peak {rss:.0f} MB", file=sys.stderr)
    if a.report:
        with open(a.report, "w") as f:
            json.dump(report, f, indent=2)
    sc.stop()
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
