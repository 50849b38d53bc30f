#!/usr/bin/env python3
"""The reference benchmark job, side by side: mapctl against a typed-Rust baseline, jq and jaq.

usage: python3 bench/run.py [COUNT] [SEED] [--runs N] [--mimalloc]

--mimalloc also builds mapctl with `--features mimalloc` (into target/mimalloc) and times it
beside the default build.

1. Generates COUNT deals with bench/gen_deals.py (cached in bench/data/).
2. Builds mapctl and bench/typed (release, --locked).
3. Checks every tool's output against the reference semantics: with the shared oracle
   ../shared/bench/check_outputs.py when it exists, else mapctl (merged with its rejects by
   bench/merge_streams.py) and jq against the typed baseline, as JSON, line by line.
4. Times whole processes (median of --runs, default 3) on the same file, in the same run, and
   prints deals per second and the ratio to the typed baseline; then single-deal latency (median
   of 20 runs) and mapctl's peak memory.
"""
import json
import resource
import os
import shutil
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA = os.path.join(ROOT, "bench", "data")
MAPCTL = os.path.join(ROOT, "target", "release", "mapctl")
MAPCTL_MIMALLOC = os.path.join(ROOT, "target", "mimalloc", "release", "mapctl")
TYPED = os.path.join(ROOT, "bench", "typed", "target", "release", "typed-baseline")
ORACLE = os.path.join(ROOT, "..", "shared", "bench", "check_outputs.py")
JQ_PROGRAM = os.path.join(ROOT, "..", "shared", "bench", "map.jq")


def sh(args, **kwargs):
    return subprocess.run(args, check=True, **kwargs)


def tools(deals, out_dir, mimalloc):
    """name -> (argv, stdout file or None)."""
    mapctl_out = os.path.join(out_dir, "mapctl.ndjson")
    mapctl_rej = os.path.join(out_dir, "mapctl.rejects")
    found = {
        "typed Rust (bench/typed)": ([TYPED, deals], os.path.join(out_dir, "typed.ndjson")),
        "mapctl": ([MAPCTL, "apply", os.path.join(ROOT, "bench", "reference.map"), deals,
                    "--out", mapctl_out, "--rejects", mapctl_rej], None),
    }
    found["mapctl --jobs 0 (every core)"] = (
        [MAPCTL, "apply", os.path.join(ROOT, "bench", "reference.map"), deals, "--jobs", "0",
         "--out", os.path.join(out_dir, "mapctl-jobs.ndjson"), "--rejects", os.path.join(out_dir, "mapctl-jobs.rejects")], None)
    if mimalloc:
        found["mapctl --features mimalloc"] = (
            [MAPCTL_MIMALLOC, "apply", os.path.join(ROOT, "bench", "reference.map"), deals,
             "--out", os.path.join(out_dir, "mapctl-mimalloc.ndjson"),
             "--rejects", os.path.join(out_dir, "mapctl-mimalloc.rejects")], None)
    if shutil.which("jq") and os.path.exists(JQ_PROGRAM):
        found["jq " + subprocess.run(["jq", "--version"], capture_output=True, text=True).stdout.strip()] = (
            ["jq", "-c", "-f", JQ_PROGRAM, deals], os.path.join(out_dir, "jq.ndjson"))
    if shutil.which("jaq") and os.path.exists(JQ_PROGRAM):
        found["jaq"] = (["jaq", "-c", "-f", JQ_PROGRAM, deals], os.path.join(out_dir, "jaq.ndjson"))
    return found


def remove_outputs(argv, stdout_path):
    """Deletes what the previous run of argv wrote, before the clock starts: otherwise a program
    that replaces its output file (mapctl renames a finished temporary file over it) pays for
    freeing the old file's pages inside its own time, and one whose output the shell or Python
    truncates (jq, the typed program) does not, or pays it in the parent process."""
    paths = [stdout_path] if stdout_path else []
    paths += [argv[i + 1] for i, arg in enumerate(argv[:-1]) if arg in ("--out", "--rejects")]
    for path in paths:
        if os.path.exists(path):
            os.remove(path)


def run_once(argv, stdout_path):
    """Runs argv once; returns (wall seconds, CPU seconds: user + system)."""
    remove_outputs(argv, stdout_path)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    if stdout_path:
        with open(stdout_path, "wb") as out:
            result = subprocess.run(argv, stdout=out, stderr=subprocess.DEVNULL)
    else:
        result = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    elapsed = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if result.returncode not in (0, 1):
        sys.exit(f"{argv[0]} failed with exit code {result.returncode}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return elapsed, cpu


def check(deals, outputs):
    merged = os.path.join(DATA, "out", "mapctl.merged.ndjson")
    with open(merged, "w") as out:
        sh([sys.executable, os.path.join(ROOT, "bench", "merge_streams.py"), deals,
            os.path.join(DATA, "out", "mapctl.ndjson"), os.path.join(DATA, "out", "mapctl.rejects")], stdout=out)
    variants = (("mapctl-jobs", "mapctl --jobs 0"), ("mapctl-mimalloc", "mapctl --features mimalloc"))
    for other, label in variants:
        if not any(name.startswith(label) for name in outputs):
            continue
        for suffix in ("ndjson", "rejects"):
            one, every = (os.path.join(DATA, "out", f"{name}.{suffix}") for name in ("mapctl", other))
            same = open(one, "rb").read() == open(every, "rb").read()
            print(f"  {label} {suffix}: {'byte-identical to the default build, one thread' if same else 'DIFFERS from the default build'}")
            if not same:
                return False
    named = {"mapctl": merged, **{k.split()[0]: v for k, v in outputs.items() if v and "mapctl" not in k}}
    if os.path.exists(ORACLE):
        result = subprocess.run([sys.executable, ORACLE, deals] + [f"{k}={v}" for k, v in named.items()])
        return result.returncode == 0
    reference = [json.loads(l) for l in open(named["typed"]) if l.strip()]
    ok = True
    for name, path in named.items():
        got = [json.loads(l) for l in open(path) if l.strip()]
        equal = got == reference
        print(f"  {name}: {'JSON-equal to the typed baseline' if equal else 'DIFFERS from the typed baseline'}")
        ok &= equal
    return ok


def peak_memory_kb(argv):
    if not os.path.exists("/usr/bin/time"):
        return None
    result = subprocess.run(["/usr/bin/time", "-f", "%M"] + argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    return int(result.stderr.strip().splitlines()[-1])


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    runs = int(sys.argv[sys.argv.index("--runs") + 1]) if "--runs" in sys.argv else 3
    args = [a for a in args if not (sys.argv.index(a) > 0 and sys.argv[sys.argv.index(a) - 1] == "--runs")]
    count = int(args[0]) if args else 200000
    seed = int(args[1]) if len(args) > 1 else 42
    os.makedirs(os.path.join(DATA, "out"), exist_ok=True)
    deals = os.path.join(DATA, f"deals-{count}-{seed}.ndjson")
    if not os.path.exists(deals):
        with open(deals, "w") as out:
            sh([sys.executable, os.path.join(ROOT, "bench", "gen_deals.py"), str(count), str(seed)], stdout=out)
    one = os.path.join(DATA, "one-deal.ndjson")
    with open(deals) as src, open(one, "w") as dst:
        dst.write(src.readline())
    sh(["cargo", "build", "--release", "--locked", "--quiet"], cwd=ROOT)
    mimalloc = "--mimalloc" in sys.argv
    if mimalloc:
        sh(["cargo", "build", "--release", "--locked", "--quiet", "--features", "mimalloc"], cwd=ROOT,
           env={**os.environ, "CARGO_TARGET_DIR": os.path.join(ROOT, "target", "mimalloc")})
    sh(["cargo", "build", "--release", "--locked", "--quiet", "--manifest-path", os.path.join(ROOT, "bench", "typed", "Cargo.toml")])
    found = tools(deals, os.path.join(DATA, "out"), mimalloc)
    timings = {name: [] for name in found}
    for _ in range(runs):
        for name, (argv, stdout_path) in found.items():
            timings[name].append(run_once(argv, stdout_path))
    print(f"\n{count} deals, {os.path.getsize(deals) / 1e6:.0f} MB, seed {seed}, median of {runs} runs")
    print("\nchecking outputs against the reference semantics:")
    ok = check(deals, {name: path for name, (argv, path) in found.items()})
    typed = timings["typed Rust (bench/typed)"]
    base = statistics.median(wall for wall, _ in typed)
    base_cpu = statistics.median(cpu for _, cpu in typed)
    print("\n| program | seconds | deals/s | x typed Rust | throughput vs typed | CPU seconds | CPU vs typed |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for name, times in timings.items():
        median = statistics.median(wall for wall, _ in times)
        cpu = statistics.median(c for _, c in times)
        print(f"| {name} | {median:.2f} | {count / median:,.0f} | {median / base:.2f} | "
              f"{base / median:.2f}x | {cpu:.2f} | {base_cpu / cpu:.2f}x |")
    print("\n| single deal, process start to exit | median ms |\n| --- | ---: |")
    for name, (argv, _) in found.items():
        if "--jobs" in argv:
            continue
        single = [one if a == deals else a for i, a in enumerate(argv)
                  if a not in ("--out", "--rejects") and argv[i - 1] not in ("--out", "--rejects")]
        latencies = [run_once(single, None)[0] for _ in range(20)]
        print(f"| {name} | {statistics.median(latencies) * 1000:.1f} |")
    memory = peak_memory_kb(found["mapctl"][0])
    if memory:
        print(f"\nmapctl peak memory (RSS) on the {os.path.getsize(deals) / 1e6:.0f} MB file: {memory / 1024:.1f} MB")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
