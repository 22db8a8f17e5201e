"""The comparison workloads on dask.distributed: 2 worker processes x 1 thread, one client, 127.0.0.1.

Prints one "name value unit" line per figure, the same names as dist's ClusterBench.
Run by ./run.sh compare; needs Debian's python3-distributed.
"""
import os
import random
import statistics
import subprocess
import sys
import time

import dask
import dask.bag as db
from dask.distributed import Client, LocalCluster, Queue, wait

dask.config.set({"distributed.logging.distributed": "error"})


def report(name, value, unit):
    print(f"{name:<28} {value:12.2f} {unit}", flush=True)


def inc(x):
    return x + 1


def add(a, b):
    return a + b


def identity(x):
    return x


def make_bytes(n):
    # incompressible: the transfer measures the wire, not a compressor
    return random.Random(42).randbytes(n)


def nbytes(b):
    return len(b)


def blocker(path):
    # waits until the file exists: keeps dependents waiting on the scheduler
    while not os.path.exists(path):
        time.sleep(0.05)
    return 0


def multiply_by_two(x):
    time.sleep(0.02)
    return 2 * x


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def latency(client):
    warm, n = 2000, 2000  # the same warm-up as the dist side
    times = []
    for i in range(warm + n):
        s = time.perf_counter()
        r = client.submit(inc, 1_000_000 + i).result()
        d = time.perf_counter() - s
        assert r == 1_000_001 + i
        if i >= warm:
            times.append(d)
    times.sort()
    report("latency_median", times[n // 2] * 1e6, "us")
    report("latency_p99", times[int(n * 0.99)] * 1e6, "us")


def throughput(client):
    n = 20_000
    best = 0.0
    for rep in range(3):
        base = rep * n + 10_000_000
        s = time.perf_counter()
        fs = client.map(inc, range(base, base + n))
        out = client.gather(fs)
        secs = time.perf_counter() - s
        assert len(out) == n and out[-1] == base + n
        report(f"throughput_run{rep + 1}", n / secs, "tasks/s")
        best = max(best, n / secs)
        del fs, out
    report("throughput_best", best, "tasks/s")


def chain(client):
    """One untimed chain (a warm-up with other keys, as on the dist side), then the timed one."""
    chain_once(client, 10_000_000)
    report("chain_per_link", chain_once(client, 20_000_000), "us")


def chain_once(client, start):
    n = 1000
    s = time.perf_counter()
    x = client.submit(inc, start)
    for _ in range(1, n):
        x = client.submit(inc, x)
    r = x.result()
    per = (time.perf_counter() - s) * 1e6 / n
    assert r == start + n
    return per


def tree(client):
    """One untimed tree (a warm-up with other keys, as on the dist side), then the timed one."""
    tree_once(client, 40_000_000)
    report("tree_1024_leaves", tree_once(client, 30_000_000), "ms")


def tree_once(client, base):
    leaves = 1024
    s = time.perf_counter()
    level = [client.submit(identity, i + base) for i in range(leaves)]
    while len(level) > 1:
        level = [client.submit(add, level[i], level[i + 1]) for i in range(0, len(level), 2)]
    r = level[0].result()
    ms = (time.perf_counter() - s) * 1e3
    assert r == leaves * base + leaves * (leaves - 1) // 2
    return ms


def transfer(client):
    """One untimed transfer (a warm-up, as for latency, on both systems), then the timed one."""
    transfer_once(client)
    report("transfer_100MB", transfer_once(client), "MB/s")


def transfer_once(client):
    workers = sorted(client.scheduler_info()["workers"])
    size = 100 * 1000 * 1000
    x = client.submit(make_bytes, size, workers=[workers[0]], pure=False)
    wait(x)
    s = time.perf_counter()
    fut = client.submit(nbytes, x, workers=[workers[1]], pure=False)
    n = fut.result()
    secs = time.perf_counter() - s
    assert n == size
    del fut, x
    return size / 1e6 / secs


def bag(client):
    s = time.perf_counter()
    x = db.from_sequence(range(400), npartitions=200)
    total = client.compute(x.map(multiply_by_two).sum()).result()
    assert total == 159600
    report("preemptible_no_kills", (time.perf_counter() - s) * 1e3, "ms")


def lock_roundtrip(client):
    from distributed import Lock
    lock = Lock("bench-lock", client=client)
    warm, n = 500, 2000  # the same counts as the dist side
    for _ in range(warm):
        lock.acquire()
        lock.release()
    s = time.perf_counter()
    for _ in range(n):
        lock.acquire()
        lock.release()
    report("lock_roundtrip", (time.perf_counter() - s) / n * 1e6, "us")


def queue_put_get(client):
    """Put then get on a shared queue, one client, synchronously; the same warm-up as the dist side."""
    q = Queue("bench-queue", client=client)
    warm, n = 2000, 5000
    for i in range(warm):
        q.put(i)
        assert q.get() == i
    s = time.perf_counter()
    for i in range(n):
        q.put(i)
        assert q.get() == i
    report("queue_put_get", (time.perf_counter() - s) / n * 1e6, "us")


def wait_for_tasks(client, done, timeout=300):
    """Polls the scheduler's task count until done(count) holds."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        if done(client.run_on_scheduler(lambda dask_scheduler: len(dask_scheduler.tasks))):
            return
        time.sleep(0.5)
    raise RuntimeError("the scheduler's task count did not settle within %d s" % timeout)


def memory_per_task(tmpdir):
    """Scheduler RSS growth with 100,000 tasks waiting, scheduler in its own process."""
    port = 18786
    sched = subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_scheduler", "--port", str(port),
                              "--dashboard-address", ":0", "--no-show"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    worker = None
    try:
        worker = subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_worker", f"127.0.0.1:{port}",
                                   "--nthreads", "1", "--no-nanny", "--no-dashboard"],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        client = Client(f"127.0.0.1:{port}", timeout=60)
        client.wait_for_workers(1, timeout=60)
        flag = os.path.join(tmpdir, "go")
        b = client.submit(blocker, flag, pure=False)
        # untimed, on both systems: 10,000 waiting tasks of other keys, released again
        warm = 10_000
        warm_up = client.map(add, range(1_000_000, 1_000_000 + warm), [b] * warm)
        wait_for_tasks(client, lambda count: count >= warm)
        del warm_up
        wait_for_tasks(client, lambda count: count <= 1)
        time.sleep(1.0)
        before = rss_kib(sched.pid)
        n = 100_000
        fs = client.map(add, range(n), [b] * n)
        # wait until the scheduler knows them all
        deadline = time.time() + 300
        while time.time() < deadline:
            if client.run_on_scheduler(lambda dask_scheduler: len(dask_scheduler.tasks)) >= n:
                break
            time.sleep(0.5)
        time.sleep(1.0)
        after = rss_kib(sched.pid)
        report("sched_bytes_per_waiting_task", (after - before) * 1024 / n, "B")
        open(flag, "w").close()
        del fs
        client.close()
    finally:
        for p in (worker, sched):
            if p is not None:
                p.terminate()
                try:
                    p.wait(20)
                except subprocess.TimeoutExpired:
                    p.kill()


class Counter:
    """The actor of dask's own actor bench (distributed/tests/test_actor.py)."""

    def __init__(self):
        self.n = 0

    def increment(self):
        self.n += 1
        return self.n


def actors(client):
    # one caller: a synchronous round trip with a plain task's in the same run for the ratio,
    # then calls per second with many in flight
    counter = client.submit(Counter, actor=True).result()
    warm, n = 2000, 2000
    times = []
    for i in range(warm + n):
        s = time.perf_counter()
        r = counter.increment().result()
        d = time.perf_counter() - s
        assert r == i + 1
        if i >= warm:
            times.append(d)
    times.sort()
    tasks = []
    for i in range(warm + n):
        s = time.perf_counter()
        r = client.submit(inc, 3_000_000 + i).result()
        d = time.perf_counter() - s
        assert r == 3_000_001 + i
        if i >= warm:
            tasks.append(d)
    tasks.sort()
    report("actor_call_latency", times[n // 2] * 1e6, "us")
    report("actor_task_latency", tasks[n // 2] * 1e6, "us")
    report("actor_call_latency_ratio", times[n // 2] / tasks[n // 2], "x")
    calls, best = 20_000, 0.0
    for _ in range(3):
        s = time.perf_counter()
        fs = [counter.increment() for _ in range(calls)]
        for f in fs:
            f.result()
        best = max(best, calls / (time.perf_counter() - s))
    report("actor_calls_per_s", best, "calls/s")


def make_records(seed, records=10_000_000, partitions=100, keys=100_000):
    per = records // partitions
    return [(i % keys, i) for i in range(seed * per, (seed + 1) * per)]


def record_key(r):
    return r[0]


def groupby_bag(client=None):
    """dist's GroupByBench: 10,000,000 (key, value) records from 100 seeds on 4 single-thread worker
    processes, grouped by key (100,000 keys) into 100 partitions, the groups counted."""
    own = client is None
    if own:
        cluster = LocalCluster(n_workers=4, threads_per_worker=1, processes=True, host="127.0.0.1",
                               dashboard_address=None, memory_limit="1GiB")
        client = Client(cluster)
        client.wait_for_workers(4)
    try:
        s = time.perf_counter()
        b = db.from_sequence(range(100), npartitions=100).map(make_records).flatten()
        groups = client.compute(b.groupby(record_key, npartitions=100).count()).result()
        secs = time.perf_counter() - s
        assert groups == 100_000, groups
        peak, disk = workers_peak_and_spilled(client)
        report("groupby_10M_time", secs, "s")
        report("groupby_10M_peak_worker_rss", peak / 1024, "MB")
        report("groupby_10M_spilled", disk / 1e6, "MB")
    finally:
        if own:
            client.close()
            cluster.close()


def records_frame(seed, records=10_000_000, partitions=100, keys=100_000):
    """make_records as a pandas frame: the same (key, value) rows."""
    import numpy as np
    import pandas as pd
    per = records // partitions
    i = np.arange(seed * per, (seed + 1) * per, dtype=np.int64)
    return pd.DataFrame({"key": i % keys, "value": i})


def distinct_keys(frame):
    import pandas as pd
    return pd.Series([frame["key"].nunique()], dtype="int64")


def groupby_dataframe(records=10_000_000):
    """The groupby workload through dask.dataframe's shuffle: the same 10,000,000 rows in 100
    partitions on 4 single-thread worker processes, shuffled by key into 100 partitions, the keys
    counted per partition. p2p where this dask has it (it needs pyarrow), else tasks."""
    import dask.dataframe as dd
    try:
        import pyarrow  # noqa: F401  dask's p2p shuffle encodes with it
        method = "p2p"
    except ImportError:
        method = "tasks"
    cluster = LocalCluster(n_workers=4, threads_per_worker=1, processes=True, host="127.0.0.1",
                           dashboard_address=None, memory_limit="1GiB")
    client = Client(cluster)
    client.wait_for_workers(4)
    try:
        # the first run on fresh workers, then the same job eleven times more: as dist's GroupByBench
        times = []
        for _ in range(12):
            s = time.perf_counter()
            meta = records_frame(0, records=100, partitions=100).iloc[:0]
            ddf = dd.from_delayed([dask.delayed(records_frame)(k, records) for k in range(100)], meta=meta)
            shuffled = ddf.shuffle("key", npartitions=100, shuffle=method)
            groups = client.compute(shuffled.map_partitions(distinct_keys, meta=("key", "int64")).sum()).result()
            times.append(time.perf_counter() - s)
            assert groups == min(100_000, records), groups
        secs = times[0]
        peak, disk = workers_peak_and_spilled(client)
        report(f"groupby_10M_df_{method}_time", secs, "s")
        # dask's faster groupby path, warm, on the row of dist's warm groupby
        report("groupby_10M_warm_time", min(times[1:6]), "s")
        report("groupby_10M_steady_time", min(times[6:]), "s")
        report(f"groupby_10M_df_{method}_peak_rss", peak / 1024, "MB")
        report(f"groupby_10M_df_{method}_spilled", disk / 1e6, "MB")
    finally:
        client.close()
        cluster.close()


def spilled_bytes(dask_worker):
    """Bytes a worker wrote to disk (the metric's name differs between dask versions)."""
    try:
        m = dask_worker.data.get_metrics()
        return m.get("disk_write_bytes_total", m.get("disk_bytes", float("nan")))
    except AttributeError:
        return float("nan")


def workers_peak_and_spilled(client):
    """The largest peak resident size of a worker process in KiB, and the bytes all workers spilled."""
    pids = client.run(os.getpid)
    peak = max(peak_rss_kib(p) for p in pids.values())
    return peak, sum(client.run(spilled_bytes).values())


def peak_rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


def main():
    import tempfile
    if "--only" in sys.argv:  # some workloads, e.g. --only lock_roundtrip
        only = sys.argv[sys.argv.index("--only") + 1].split(",")
        cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                               dashboard_address=None)
        client = Client(cluster)
        client.wait_for_workers(2)
        for w in only:
            globals()[w](client) if w not in ("groupby_bag", "groupby_dataframe") else globals()[w]()
        client.close()
        cluster.close()
        return
    t0 = time.perf_counter()
    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                           dashboard_address=None)
    client = Client(cluster)
    client.wait_for_workers(2)
    report("startup_2_workers", (time.perf_counter() - t0) * 1e3, "ms")
    latency(client)
    throughput(client)
    chain(client)
    tree(client)
    transfer(client)
    bag(client)
    lock_roundtrip(client)
    actors(client)
    queue_put_get(client)
    client.close()
    cluster.close()
    with tempfile.TemporaryDirectory() as d:
        memory_per_task(d)
    groupby_bag()
    groupby_dataframe()


if __name__ == "__main__":
    main()
