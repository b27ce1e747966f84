#!/usr/bin/env python3
"""The end-to-end benchmark harness: every workload against every implementation in one run.

bench/run builds everything and calls this with the paths it built. For each workload the
servers of every implementation start once, each is warmed up, and then the rounds alternate
between them (A B C A B C ...) so that drift on this shared machine hits all of them equally.
Every measured run records the load generator's throughput and the server's CPU time (user +
system of its whole process tree, read from /proc around the run) per operation.

Output: a markdown table on stdout and in bench/results/latest.md, the rows in
bench/results/latest.json (machine and versions in machine.json), and a chart in
bench/results/chart.svg.
"""

import argparse
import json
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field, replace

CLK_TCK = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")
# The server gets CPU 0 and the load generator CPU 1: they never compete for a core, and the
# same split holds for every implementation. Stated in every report.
SERVER_CPUS = "0"
# Servers start on every CPU (several JVMs starting on one CPU take seconds) and are pinned to
# SERVER_CPUS, every thread, once they accept connections; JVMs get -XX:ActiveProcessorCount=1 so
# that they size their collectors and compiler threads for the one CPU they will run on.
STARTUP_CPUS = "0,1"
# The jcmd of the JDK that runs the servers (set in main): another JDK's jcmd cannot attach.
JCMD = "jcmd"
CLIENT_CPUS = "1"


# ---------------------------------------------------------------- processes and /proc

def cpu_seconds(pid):
    """User + system CPU seconds of pid and all its descendants (nginx's worker, say)."""
    total = 0
    for p in [pid] + descendants(pid):
        try:
            with open(f"/proc/{p}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14, 15)
        except (FileNotFoundError, ProcessLookupError):
            pass
    return total / CLK_TCK


def descendants(pid):
    children = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            children.setdefault(ppid, []).append(int(entry))
        except (FileNotFoundError, ProcessLookupError, ValueError):
            pass
    out, todo = [], [pid]
    while todo:
        for c in children.get(todo.pop(), []):
            out.append(c)
            todo.append(c)
    return out


def rss_bytes(pid):
    total = 0
    for p in [pid] + descendants(pid):
        try:
            with open(f"/proc/{p}/statm") as f:
                total += int(f.read().split()[1]) * PAGE
        except FileNotFoundError:
            pass
    return total


def free_port():
    """A free port below the ephemeral range, so no client socket can be holding it: the churn
    workload cycles through every ephemeral port, and a server port taken from that range may
    be in use as a client's local port by the time the server binds it."""
    low = 32768
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            low = int(f.read().split()[0])
    except (OSError, ValueError):
        pass
    import random
    for _ in range(1000):
        port = random.randrange(max(1024, low - 12000), low)
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
                return port
            except OSError:
                continue
    raise RuntimeError("no free port below the ephemeral range")


def wait_port(port, timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port} after {timeout} s")


@dataclass
class Server:
    """One running server process of one implementation."""
    impl: str
    proc: subprocess.Popen
    port: int
    log: str
    tmp: str = None

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.tmp:
            shutil.rmtree(self.tmp, ignore_errors=True)

    def alive(self):
        return self.proc.poll() is None


# ---------------------------------------------------------------- implementations

@dataclass
class Impls:
    """How to start each implementation's server in a given mode."""
    root: str
    classpath: str
    cserver: str
    cserver_boringssl: str
    certs: str
    java: str
    logs: str
    jvm_flags: list = field(default_factory=list)

    def argv(self, impl, mode, port):
        java = ["taskset", "-c", STARTUP_CPUS, self.java] + self.jvm_flags + ["-cp", self.classpath]
        tls = ["--cert", f"{self.certs}/server.pem", "--key", f"{self.certs}/server.key"]
        extra = tls if mode == "tls-echo" else []
        if impl == "lori-ffm":
            return java + ["dev.loriffm.bench.servers.LoriServer", "--mode", mode, "--port", str(port)] + extra
        if impl == "netty-epoll":
            return java + ["dev.loriffm.bench.servers.NettyServer", "--mode", mode, "--port", str(port)] + extra
        if impl == "netty-tcnative":
            return java + ["dev.loriffm.bench.servers.NettyServer", "--mode", mode, "--port", str(port),
                           "--ssl", "tcnative"] + extra
        if impl == "netty-jdk-ssl":
            return java + ["dev.loriffm.bench.servers.NettyServer", "--mode", mode, "--port", str(port),
                           "--ssl", "jdk"] + extra
        if impl == "jdk-nio":
            return java + ["dev.loriffm.bench.servers.NioServer", "--mode", mode, "--port", str(port)]
        if impl in ("c-epoll", "c-openssl"):
            return ["taskset", "-c", STARTUP_CPUS, self.cserver, "--mode", mode, "--port", str(port)] + extra
        if impl == "c-boringssl":
            return ["taskset", "-c", STARTUP_CPUS, self.cserver_boringssl, "--mode", mode, "--port",
                    str(port)] + extra
        raise ValueError(impl)

    def start(self, impl, mode, extra_jvm=(), wait=True):
        port = free_port()
        log = os.path.join(self.logs, f"{impl}-{mode}-{port}.log")
        tmp = None
        if impl == "nginx":
            tmp = tempfile.mkdtemp(prefix="bench-nginx-")
            with open(os.path.join(self.root, "bench/conf/nginx.conf.in")) as f:
                conf = f.read().replace("@PORT@", str(port)).replace("@DIR@", tmp)
            with open(os.path.join(tmp, "nginx.conf"), "w") as f:
                f.write(conf)
            argv = ["taskset", "-c", STARTUP_CPUS, "nginx", "-p", tmp, "-c", os.path.join(tmp, "nginx.conf")]
        else:
            argv = self.argv(impl, mode, port)
            if extra_jvm and argv[3].endswith("java"):
                argv = argv[:4] + list(extra_jvm) + argv[4:]
        with open(log, "w") as out:
            proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        server = Server(impl, proc, port, log, tmp)
        if wait:
            self.ready(server, mode)
        return server

    @staticmethod
    def ready(server, mode):
        """Waits until {server} accepts connections; stops it and raises if it never does."""
        try:
            wait_port(server.port)
            for pid in [server.proc.pid] + descendants(server.proc.pid):
                subprocess.run(["taskset", "-a", "-p", "-c", SERVER_CPUS, str(pid)], capture_output=True,
                               check=True)
        except RuntimeError:
            server.stop()
            raise RuntimeError(f"{server.impl} ({mode}) did not start; its log {server.log}:\n"
                               + open(server.log).read()[-2000:])


# ---------------------------------------------------------------- load generators

def run(argv, timeout):
    """Runs a load generator on the client CPU; returns its stdout (raises on failure)."""
    p = subprocess.run(["taskset", "-c", CLIENT_CPUS] + argv, capture_output=True, text=True, timeout=timeout)
    if p.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed ({p.returncode}): {p.stderr.strip()[-800:]}")
    return p.stdout


def wrk(port, seconds, pipeline_lua=None, conns=50):
    argv = ["wrk", "-t1", f"-c{conns}", f"-d{seconds}s", "--latency", f"http://127.0.0.1:{port}/"]
    if pipeline_lua:
        argv[1:1] = ["-s", pipeline_lua]
    out = run(argv, seconds + 60)
    m = re.search(r"^\s*(\d+) requests in ([\d.]+)(m?s)", out, re.M)
    requests, secs = int(m.group(1)), float(m.group(2)) / (1000 if m.group(3) == "ms" else 1)
    errors = 0
    e = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    if e:
        errors += sum(int(x) for x in e.groups()[:3])  # timeouts are latency, not failures
    e = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if e:
        errors += int(e.group(1))
    p99 = re.search(r"^\s*99%\s+([\d.]+)(us|ms|s)", out, re.M)
    scale = {"us": 1, "ms": 1e3, "s": 1e6}
    return {"ops": requests, "seconds": secs, "errors": errors,
            "p99_us": float(p99.group(1)) * scale[p99.group(2)] if p99 else None}


def loadgen(binary, mode, port, seconds, warmup, **opts):
    argv = [binary, mode, "--port", str(port), "--seconds", str(seconds), "--warmup", str(warmup)]
    for k, v in opts.items():
        if v is True:
            argv.append(f"--{k}")  # a flag without a value, such as --resume
        elif v is not False:
            argv += [f"--{k}", str(v)]
    out = run(argv, seconds + warmup + 120)
    return json.loads(out.strip().splitlines()[-1])


# ---------------------------------------------------------------- workloads

@dataclass
class Workload:
    name: str
    title: str
    mode: str            # the server mode
    impls: list
    unit: str            # what one operation is: req, msg, MB, conn, handshake
    rate_metric: str     # e.g. req_per_s
    measure: object      # fn(ctx, server, seconds, warmup) -> dict with ops, seconds, extras
    latency: bool = False


def http_plain(ctx, server, seconds, warmup):
    return wrk(server.port, seconds)


def http_pipelined(ctx, server, seconds, warmup):
    return wrk(server.port, seconds, pipeline_lua=ctx.pipeline_lua)


def echo_small(ctx, server, seconds, warmup):
    r = loadgen(ctx.loadgen, "echo", server.port, seconds, warmup, conns=50, size=64, depth=16)
    return {"ops": r["messages"], "seconds": r["seconds"], "errors": r.get("errors", 0)}


def echo_bulk(ctx, server, seconds, warmup):
    r = loadgen(ctx.loadgen, "bulk", server.port, seconds, warmup, conns=1, size=65536, depth=4)
    return {"ops": r["bytes"] / 1e6, "seconds": r["seconds"], "errors": r.get("errors", 0)}


def ping_pong(ctx, server, seconds, warmup):
    r = loadgen(ctx.loadgen, "pingpong", server.port, seconds, warmup, size=64)
    return {"ops": r["count"], "seconds": r["seconds"], "errors": r.get("errors", 0),
            "p50_us": r["p50_us"], "p99_us": r["p99_us"], "p999_us": r["p999_us"]}


def churn(ctx, server, seconds, warmup):
    r = loadgen(ctx.loadgen, "churn", server.port, seconds, warmup, conns=16)
    return {"ops": r["connections"], "seconds": r["seconds"], "errors": r.get("errors", 0)}


def handshakes(ctx, server, seconds, warmup, resume):
    # loadgen, not s_time: s_time makes one connection at a time and, with -reuse, takes its
    # session before TLS 1.3's ticket arrives, so it never resumes. Every connection echoes one
    # byte after the handshake (which also lets the tickets arrive) and closes.
    r = loadgen(ctx.loadgen, "handshake", server.port, seconds, warmup, conns=4, resume=resume)
    return {"ops": r["handshakes"], "seconds": r["seconds"], "errors": r.get("errors", 0),
            "client_cpu": r.get("client_cpu")}


def tls_full(ctx, server, seconds, warmup):
    return handshakes(ctx, server, seconds, warmup, resume=False)


def tls_resumed(ctx, server, seconds, warmup):
    return handshakes(ctx, server, seconds, warmup, resume=True)


def tls_bulk(ctx, server, seconds, warmup):
    r = loadgen(ctx.loadgen, "tlsbulk", server.port, seconds, warmup, conns=1, size=16384, depth=4)
    return {"ops": r["bytes"] / 1e6, "seconds": r["seconds"], "errors": r.get("errors", 0)}


JVM_PLAIN = ["lori-ffm", "netty-epoll", "jdk-nio"]
# c-openssl: the C server on the same OpenSSL 3 as lori-ffm, directly on the socket: the ceiling
# for this TLS library, which tells lori-ffm's own cost apart from OpenSSL's against BoringSSL's.
# c-boringssl: the same C server linked against BoringSSL (Debian's build), netty-tcnative's TLS
# library: the gap between the two C servers is the gap between the TLS libraries.
TLS_IMPLS = ["lori-ffm", "netty-tcnative", "netty-jdk-ssl", "c-openssl", "c-boringssl"]

WORKLOADS = [
    Workload("http", "HTTP hello, keep-alive, wrk 1 thread x 50 connections", "http",
             JVM_PLAIN + ["c-epoll", "nginx"], "req", "req_per_s", http_plain, latency=True),
    Workload("http-pipelined", "HTTP hello, pipelining 16, wrk 1 thread x 50 connections", "http",
             JVM_PLAIN + ["c-epoll", "nginx"], "req", "req_per_s", http_pipelined),  # wrk times batches, not requests
    Workload("echo-64", "Echo, 64 B messages, 50 connections x 16 in flight", "echo",
             JVM_PLAIN + ["c-epoll"], "msg", "msg_per_s", echo_small),
    Workload("echo-64k", "Echo, 64 KiB messages, 1 connection x 4 in flight", "echo",
             JVM_PLAIN + ["c-epoll"], "MB", "mb_per_s", echo_bulk),
    Workload("ping-pong", "Ping-pong, 64 B, 1 connection, 1 message in flight", "echo",
             JVM_PLAIN + ["c-epoll"], "msg", "msg_per_s", ping_pong),
    Workload("churn", "Connection churn: connect, 1 request/response, close; 16 at once", "http",
             JVM_PLAIN + ["c-epoll", "nginx"], "conn", "conn_per_s", churn),
    Workload("tls-full", "TLS 1.3 full handshakes (X25519, ECDSA P-256), 4 at once, 1-byte echo each", "tls-echo",
             TLS_IMPLS, "handshake", "handshakes_per_s", tls_full),
    Workload("tls-resumed", "TLS 1.3 resumed handshakes (tickets), 4 at once, 1-byte echo each", "tls-echo",
             TLS_IMPLS, "handshake", "handshakes_per_s", tls_resumed),
    Workload("tls-bulk", "TLS 1.3 echo, 16 KiB messages, 1 connection x 4 in flight", "tls-echo",
             TLS_IMPLS, "MB", "mb_per_s", tls_bulk),
]
IDLE_IMPLS = JVM_PLAIN + ["c-epoll"]


def netty_baseline(workload_name, impls):
    if "netty-epoll" in impls:
        return "netty-epoll"
    if "netty-tcnative" in impls:
        return "netty-tcnative"
    return None


def run_workload(ctx, w, rounds, seconds, warmup, tls_warmup):
    """Starts every implementation's server, warms each, then alternates measured runs."""
    servers = {}
    samples = {impl: [] for impl in w.impls}
    try:
        failed = set()

        def attempt(impl, action):
            # One implementation failing (a crash, a refused connection, a content error) is
            # reported and drops it from this workload; the others still run.
            try:
                return action()
            except Exception as e:  # noqa: BLE001 - reported, never hidden
                log(f"  {w.name:15} {impl:15} FAILED: {e}")
                failed.add(impl)
                ctx.failures.append(f"{w.name} / {impl}: {str(e).splitlines()[0][:300]}")
                return None

        # Launch every server at once (JVM start-ups overlap), then wait for each.
        for impl in w.impls:
            server = attempt(impl, lambda: ctx.impls.start(impl, w.mode, wait=False))
            if server:
                servers[impl] = server
        for impl in list(servers):
            if attempt(impl, lambda: ctx.impls.ready(servers[impl], w.mode) or True) is None:
                del servers[impl]
        for impl in w.impls:  # warm-up: JIT, pools and caches, not counted
            if impl not in failed:
                # A handshake exercises far more code than a request: give the JIT longer.
                attempt(impl, lambda: w.measure(ctx, servers[impl], warmup * (tls_warmup if w.mode == "tls-echo" else 1), 0))
        for r in range(rounds):
            order = w.impls if r % 2 == 0 else list(reversed(w.impls))
            for impl in order:
                if impl in failed:
                    continue
                server = servers[impl]
                before = cpu_seconds(server.proc.pid)
                result = attempt(impl, lambda: w.measure(ctx, server, seconds, 0))
                if result is None:
                    continue
                if not server.alive():
                    attempt(impl, lambda: (_ for _ in ()).throw(RuntimeError(f"died; see {server.log}")))
                    continue
                cpu = cpu_seconds(server.proc.pid) - before
                result["cpu_s"] = cpu
                samples[impl].append(result)
                log(f"  {w.name:15} round {r + 1} {impl:15} {result['ops'] / result['seconds']:12.1f} "
                    f"{w.unit}/s  cpu {cpu * 1e6 / max(result['ops'], 1e-9):9.2f} us/{w.unit}"
                    + (f"  errors {result['errors']}" if result.get("errors") else ""))
    finally:
        for s in servers.values():
            s.stop()
    return samples


def rows_for(w, samples):
    rows = []
    metrics = {w.rate_metric: lambda s: s["ops"] / s["seconds"],
               f"cpu_us_per_{w.unit.lower()}": lambda s: s["cpu_s"] * 1e6 / max(s["ops"], 1e-9)}
    if w.name == "ping-pong":
        for q in ("p50_us", "p99_us", "p999_us"):
            metrics[q] = (lambda key: lambda s: s[key])(q)
    elif w.latency:
        metrics["p99_us"] = lambda s: s["p99_us"]
    base = netty_baseline(w.name, w.impls)
    medians = {}
    for impl, ss in samples.items():
        for metric, fn in metrics.items():
            values = [fn(s) for s in ss if fn(s) is not None]
            if not values:
                continue
            medians[(impl, metric)] = statistics.median(values)
            rows.append({"workload": w.name, "implementation": impl, "metric": metric,
                         "median": statistics.median(values), "min": min(values), "max": max(values),
                         "samples": len(values), "errors": sum(s.get("errors", 0) for s in ss)})
    for row in rows:
        b = medians.get((base, row["metric"]))
        row["ratio_to_netty"] = row["median"] / b if b else None
    return rows


# ---------------------------------------------------------------- idle scale

def heap_used_after_gc(pid):
    """Java heap in use after a full GC, via jcmd (bytes), or None for a non-JVM process."""
    try:
        subprocess.run([JCMD, str(pid), "GC.run"], capture_output=True, timeout=60, check=True)
        out = subprocess.run([JCMD, str(pid), "GC.heap_info"], capture_output=True, text=True,
                             timeout=60, check=True).stdout
    except (subprocess.CalledProcessError, FileNotFoundError):
        return None
    # One line per generation or heap ("def new generation total ..K, used ..K"; G1: one line),
    # apart from the metaspace lines, which have no "total".
    used = [int(m.group(1)) for line in out.splitlines() if "total" in line
            for m in [re.search(r"used (\d+)K", line)] if m]
    return sum(used) * 1024 if used else None


def native_committed(pid):
    """Off-heap memory the JVM hands to Java code (NMT's "Other": FFM arenas, direct buffers), bytes."""
    try:
        out = subprocess.run([JCMD, str(pid), "VM.native_memory", "summary"], capture_output=True,
                             text=True, timeout=60, check=True).stdout
    except (subprocess.CalledProcessError, FileNotFoundError):
        return None
    other = re.search(r"Other \(reserved=\d+KB, committed=(\d+)KB\)", out)
    return int(other.group(1)) * 1024 if other else 0


def idle_scale(ctx, conns):
    rows = []
    # Launch every server at once (JVM start-ups overlap); each is measured alone, the others idle.
    servers = {}
    for impl in IDLE_IMPLS:
        try:
            servers[impl] = ctx.impls.start(impl, "echo", extra_jvm=["-XX:NativeMemoryTracking=summary"],
                                            wait=False)
        except Exception as e:  # noqa: BLE001 - reported, never hidden
            log(f"  idle            {impl:15} FAILED: {e}")
            ctx.failures.append(f"idle-10k / {impl}: {str(e).splitlines()[0][:300]}")
    for impl, server in servers.items():
        try:
            ctx.impls.ready(server, "echo")
            rows += idle_one(ctx, impl, server, conns)
        except Exception as e:  # noqa: BLE001 - reported, never hidden
            log(f"  idle            {impl:15} FAILED: {e}")
            ctx.failures.append(f"idle-10k / {impl}: {str(e).splitlines()[0][:300]}")
        finally:
            server.stop()
    base = {r["metric"]: r["median"] for r in rows if r["implementation"] == "netty-epoll"}
    for r in rows:
        b = base.get(r["metric"])
        r["ratio_to_netty"] = r["median"] / b if b else None
    return rows


def idle_one(ctx, impl, server, conns):
    """Memory per idle connection of one implementation: RSS, heap after GC, JVM off-heap."""
    rows = []
    # Warm up the accept and echo paths with a few connections first, so that
    # class loading and JIT do not count as per-connection memory.
    loadgen(ctx.loadgen, "echo", server.port, 1, 0, conns=50, size=64, depth=1)
    pid = server.proc.pid
    heap0, native0 = heap_used_after_gc(pid), native_committed(pid)
    rss0 = rss_bytes(pid)
    client = subprocess.Popen(["taskset", "-c", CLIENT_CPUS, ctx.loadgen, "idle", "--port",
                               str(server.port), "--conns", str(conns)],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    line = client.stdout.readline()
    if not line:
        raise RuntimeError(f"idle client for {impl} failed")
    connected = json.loads(line)["connected"]
    # Let the last connections' first reads finish everywhere. (lori-ffm reads into its
    # loop's shared area and keeps nothing per idle connection; Netty returns its buffer
    # to the pool after every read; NIO and C share one buffer per loop.)
    time.sleep(1)
    heap1, native1 = heap_used_after_gc(pid), native_committed(pid)
    rss1 = rss_bytes(pid)
    client.stdin.close()
    client.wait(timeout=60)
    values = {"rss_bytes_per_conn": (rss1 - rss0) / connected}
    if heap0 is not None and heap1 is not None:
        values["heap_bytes_per_conn"] = (heap1 - heap0) / connected
    if native0 is not None and native1 is not None:
        values["offheap_bytes_per_conn"] = (native1 - native0) / connected
    log(f"  idle            {impl:15} " + "  ".join(f"{k} {v:9.0f}" for k, v in values.items())
        + f"  ({connected} connections)")
    for metric, v in values.items():
        rows.append({"workload": "idle-10k", "implementation": impl, "metric": metric,
                     "median": v, "min": v, "max": v, "samples": 1, "errors": 0})
    return rows


# ---------------------------------------------------------------- JMH

def jmh(ctx, quick):
    out = os.path.join(ctx.logs, "jmh.json")
    argv = [ctx.java, "--enable-native-access=ALL-UNNAMED", "-cp", ctx.impls.classpath, "org.openjdk.jmh.Main",
            "dev.loriffm.bench.jmh|dev.loriffm.tcp.ReadBufferBench", "-rf", "json", "-rff", out,
            "-prof", "gc", "-jvmArgsAppend", "--enable-native-access=ALL-UNNAMED"]
    argv += ["-f", "1", "-wi", "2", "-w", "1", "-i", "3", "-r", "1"]
    p = subprocess.run(["taskset", "-c", SERVER_CPUS] + argv, capture_output=True, text=True)
    with open(os.path.join(ctx.logs, "jmh.log"), "w") as f:
        f.write(p.stdout + p.stderr)
    if p.returncode != 0 or not os.path.exists(out):
        raise RuntimeError("JMH failed; see " + os.path.join(ctx.logs, "jmh.log"))
    rows = []
    for b in json.load(open(out)):
        name = b["benchmark"].rsplit(".", 2)
        params = b.get("params") or {}
        label = name[-2] + "." + name[-1] + "".join(f"[{k}={v}]" for k, v in sorted(params.items()))
        pm = b["primaryMetric"]
        raw = [x for fork in pm.get("rawData", []) for x in fork]
        rows.append({"workload": "jmh", "implementation": label, "metric": pm["scoreUnit"].replace("/", "_per_"),
                     "median": statistics.median(raw) if raw else pm["score"],
                     "min": min(raw) if raw else pm["score"], "max": max(raw) if raw else pm["score"],
                     "samples": len(raw), "errors": 0, "ratio_to_netty": None})
        secondary = b.get("secondaryMetrics") or {}
        extra = {}
        if "gc.alloc.rate.norm" in secondary:
            extra["alloc_bytes_per_op"] = secondary["gc.alloc.rate.norm"]["score"]
        if "loopAllocBytes" in secondary and secondary.get("echoes", {}).get("score"):
            # AllocationBench: what the event-loop thread alone allocated per echoed message.
            extra["loop_alloc_bytes_per_msg"] = secondary["loopAllocBytes"]["score"] / secondary["echoes"]["score"]
        for metric, v in extra.items():
            rows.append({"workload": "jmh", "implementation": label, "metric": metric,
                         "median": v, "min": v, "max": v, "samples": 1, "errors": 0, "ratio_to_netty": None})
    return rows


# ---------------------------------------------------------------- reporting

def log(msg):
    print(msg, file=sys.stderr, flush=True)


def fmt(v):
    if v is None:
        return ""
    if abs(v) >= 1000:
        return f"{v:,.0f}"
    if abs(v) >= 10:
        return f"{v:.1f}"
    return f"{v:.3g}"


def summary(rows):
    """One line per workload: lori-ffm's deciding figure (server CPU per operation; memory per
    connection for idle-10k) beside Netty's and the C reference's, and the ratios."""
    def med(w, impl, metric):
        return next((r["median"] for r in rows if r["workload"] == w and r["implementation"] == impl
                     and r["metric"] == metric), None)
    lines = ["| workload | metric | lori-ffm | Netty | C | lori-ffm / Netty | lori-ffm / C | throughput lori-ffm / Netty |",
             "|---|---|---|---|---|---|---|---|"]
    for w in [x.name for x in WORKLOADS] + ["idle-10k"]:
        if not any(r["workload"] == w for r in rows):
            continue
        wl = next((x for x in WORKLOADS if x.name == w), None)
        metrics = [f"cpu_us_per_{wl.unit.lower()}"] if wl else ["rss_bytes_per_conn", "heap_bytes_per_conn"]
        if w == "ping-pong":
            metrics.append("p99_us")
        netty = "netty-tcnative" if wl and wl.mode == "tls-echo" else "netty-epoll"
        c = "c-openssl" if wl and wl.mode == "tls-echo" else "c-epoll"
        for metric in metrics:
            lo, ne, cc = med(w, "lori-ffm", metric), med(w, netty, metric), med(w, c, metric)
            if lo is None:
                continue
            rate = ""
            if wl and metric.startswith("cpu_"):
                lr, nr = med(w, "lori-ffm", wl.rate_metric), med(w, netty, wl.rate_metric)
                rate = f"{lr / nr:.2f}x" if lr and nr else ""
            lines.append(f"| {w} | {metric} | {fmt(lo)} | {fmt(ne)} | {fmt(cc)} | "
                         f"{f'{lo / ne:.2f}x' if ne else ''} | {f'{lo / cc:.2f}x' if cc else ''} | {rate} |")
    return "\n".join(lines)


def tls_overhead(rows):
    """For TLS workloads, each JVM runtime's CPU per operation over the C server linked against the
    same TLS library (lori-ffm and c-openssl on OpenSSL 3; Netty+tcnative and c-boringssl on
    BoringSSL): the runtime's own cost, with the TLS libraries' difference taken out."""
    def med(w, impl, metric):
        return next((r["median"] for r in rows if r["workload"] == w and r["implementation"] == impl
                     and r["metric"] == metric), None)
    lines = []
    for wl in WORKLOADS:
        if wl.mode != "tls-echo":
            continue
        metric = f"cpu_us_per_{wl.unit.lower()}"
        lo, co = med(wl.name, "lori-ffm", metric), med(wl.name, "c-openssl", metric)
        ne, cb = med(wl.name, "netty-tcnative", metric), med(wl.name, "c-boringssl", metric)
        if None in (lo, co, ne, cb):
            continue
        lines.append(f"| {wl.name} | {metric} | {lo / co:.2f}x | {ne / cb:.2f}x | {co / cb:.2f}x |")
    if not lines:
        return ""
    return "\n".join(["**TLS, the runtime's own cost**: CPU per operation over the C server on the same "
                      "TLS library (lower is better):", "",
                      "| workload | metric | lori-ffm / c-openssl | netty-tcnative / c-boringssl "
                      "| c-openssl / c-boringssl (the libraries) |",
                      "|---|---|---|---|---|"] + lines + [""])


def markdown(rows, meta):
    lines = [f"Machine: {meta['machine']}; {meta['cpus']}. Versions: {meta['versions']}. "
             f"Rounds: {meta['rounds']} x {meta['seconds']} s per implementation, alternated; "
             "median [min-max]; ratio = median / Netty's median (Netty+tcnative for TLS).", "",
             "**Summary** (lower is better for every figure but throughput; C is c-openssl for TLS):", "",
             summary(rows), ""]
    overhead = tls_overhead(rows)
    if overhead:
        lines += [overhead, ""]
    workloads = []
    for r in rows:
        if r["workload"] not in workloads:
            workloads.append(r["workload"])
    for w in workloads:
        wrows = [r for r in rows if r["workload"] == w]
        metrics = []
        for r in wrows:
            if r["metric"] not in metrics:
                metrics.append(r["metric"])
        impls = []
        for r in wrows:
            if r["implementation"] not in impls:
                impls.append(r["implementation"])
        title = next((x.title for x in WORKLOADS if x.name == w), w)
        lines.append(f"**{w}**: {title}")
        lines.append("")
        lines.append("| implementation | " + " | ".join(metrics) + " |")
        lines.append("|---|" + "---|" * len(metrics))
        for impl in impls:
            cells = []
            for m in metrics:
                r = next((x for x in wrows if x["implementation"] == impl and x["metric"] == m), None)
                if r is None:
                    cells.append("")
                    continue
                cell = fmt(r["median"])
                if r["samples"] > 1:
                    cell += f" [{fmt(r['min'])}-{fmt(r['max'])}]"
                if r.get("ratio_to_netty") is not None:
                    cell += f" ({r['ratio_to_netty']:.2f}x)"
                if r.get("errors"):
                    cell += f" ERRORS {r['errors']}"
                cells.append(cell)
            lines.append(f"| {impl} | " + " | ".join(cells) + " |")
        lines.append("")
    return "\n".join(lines)


COLORS = {"lori-ffm": "#d9480f", "netty-epoll": "#1c7ed6", "netty-tcnative": "#1c7ed6",
          "netty-jdk-ssl": "#74c0fc", "jdk-nio": "#868e96", "c-epoll": "#2b8a3e", "c-openssl": "#2b8a3e",
          "c-boringssl": "#8ce99a",
          "nginx": "#8ce99a"}


def chart(rows, meta, path):
    """Grouped bars: server CPU per operation of each implementation, relative to Netty (1.0)."""
    groups = []
    for r in rows:
        if r["metric"].startswith("cpu_us_per_") and r.get("ratio_to_netty"):
            g = next((x for x in groups if x[0] == r["workload"]), None)
            if g is None:
                g = (r["workload"], [])
                groups.append(g)
            g[1].append((r["implementation"], r["ratio_to_netty"], r["median"], r["metric"]))
    for r in rows:  # idle memory, also relative to Netty
        if r["metric"] == "rss_bytes_per_conn" and r.get("ratio_to_netty"):
            g = next((x for x in groups if x[0] == "idle-10k"), None)
            if g is None:
                g = ("idle-10k", [])
                groups.append(g)
            g[1].append((r["implementation"], r["ratio_to_netty"], r["median"], r["metric"]))
    bar, gap, left, top, height = 14, 26, 70, 70, 300
    width = left + sum(len(g[1]) * bar + gap for g in groups) + 180
    ymax = max([2.0] + [min(v[1], 4.0) for g in groups for v in g[1]])
    y = lambda v: top + height - (min(v, ymax) / ymax) * height
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{top + height + 120}" '
           f'font-family="sans-serif" font-size="11">',
           f'<rect width="100%" height="100%" fill="white"/>',
           f'<text x="{left}" y="22" font-size="15" font-weight="bold">Server CPU per operation '
           f'(idle-10k: RSS per connection), relative to Netty (epoll; + tcnative for TLS) = 1.0; lower is better</text>',
           f'<text x="{left}" y="40">{meta["machine"]}; {meta["cpus"]}</text>',
           f'<text x="{left}" y="55">{meta["versions"]}</text>']
    for t in (0.5, 1.0, 1.5, 2.0, 3.0, 4.0):
        if t <= ymax:
            out.append(f'<line x1="{left}" x2="{width - 170}" y1="{y(t):.1f}" y2="{y(t):.1f}" '
                       f'stroke="{"#333" if t == 1.0 else "#ddd"}"/>')
            out.append(f'<text x="{left - 8}" y="{y(t) + 4:.1f}" text-anchor="end">{t:.1f}x</text>')
    x = left + gap / 2
    for name, bars in groups:
        x0 = x
        for impl, ratio, median, metric in bars:
            out.append(f'<rect x="{x:.1f}" y="{y(ratio):.1f}" width="{bar - 2}" '
                       f'height="{top + height - y(ratio):.1f}" fill="{COLORS.get(impl, "#999")}">'
                       f'<title>{impl} {name}: {ratio:.2f}x ({fmt(median)} {metric})</title></rect>')
            x += bar
        out.append(f'<text x="{(x0 + x) / 2:.1f}" y="{top + height + 16}" text-anchor="middle">{name}</text>')
        x += gap
    ly = top
    for impl, color in COLORS.items():
        if any(impl == b[0] for g in groups for b in g[1]):
            out.append(f'<rect x="{width - 160}" y="{ly}" width="12" height="12" fill="{color}"/>')
            out.append(f'<text x="{width - 142}" y="{ly + 10}">{impl}</text>')
            ly += 18
    out.append("</svg>")
    with open(path, "w") as f:
        f.write("\n".join(out) + "\n")


def machine_meta(ctx, rounds, seconds):
    cpu = "unknown CPU"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    java = subprocess.run([ctx.java, "-version"], capture_output=True, text=True).stderr.splitlines()[0]
    wrk_v = subprocess.run(["wrk", "-v"], capture_output=True, text=True).stdout.split("\n")[0].split(" [")[0]
    nginx_v = subprocess.run(["nginx", "-v"], capture_output=True, text=True).stderr.strip().split("/")[-1]
    ossl = subprocess.run(["openssl", "version"], capture_output=True, text=True).stdout.strip()
    return {
        "machine": f"{os.cpu_count()} x {cpu}, {round(os.sysconf('SC_PHYS_PAGES') * PAGE / 2**30)} GiB, "
                   f"Linux {platform.release()}",
        "cpus": f"servers pinned to CPU {SERVER_CPUS}, load generators to CPU {CLIENT_CPUS} (taskset)",
        "versions": f"{java}; Netty {ctx.netty_version} (epoll; tcnative-boringssl {ctx.tcnative_version}); "
                    f"{wrk_v}; nginx {nginx_v}; {ossl}",
        "rounds": rounds, "seconds": seconds,
    }


@dataclass
class Context:
    impls: Impls
    loadgen: str
    pipeline_lua: str
    java: str
    logs: str
    netty_version: str
    tcnative_version: str
    failures: list = field(default_factory=list)


def render(results):
    """Writes latest.md and chart.svg again from latest.json and machine.json (no measuring)."""
    rows = json.load(open(os.path.join(results, "latest.json")))
    meta = json.load(open(os.path.join(results, "machine.json")))
    table = markdown(rows, meta)
    if meta.get("failures"):
        table += "\n**Failures** (left out of the table):\n\n" + "\n".join(f"- {f}" for f in meta["failures"]) + "\n"
    with open(os.path.join(results, "latest.md"), "w") as f:
        f.write(table + "\n")
    chart(rows, meta, os.path.join(results, "chart.svg"))
    print(table)


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "--render":
        render(sys.argv[2])
        return
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--root", required=True)
    ap.add_argument("--classpath", required=True)
    ap.add_argument("--java", required=True)
    ap.add_argument("--cserver", required=True)
    ap.add_argument("--cserver-boringssl", required=True)
    ap.add_argument("--loadgen", required=True)
    ap.add_argument("--certs", required=True)
    ap.add_argument("--netty-version", required=True)
    ap.add_argument("--tcnative-version", required=True)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--only", action="append", default=[],
                    help="run only this workload (repeatable): " + ", ".join(
                        [w.name for w in WORKLOADS] + ["idle-10k", "jmh"]))
    ap.add_argument("--rounds", type=int)
    ap.add_argument("--seconds", type=int)
    ap.add_argument("--results", default=None, help="folder for latest.json/md and chart.svg")
    a = ap.parse_args()
    global JCMD
    JCMD = os.path.join(os.path.dirname(a.java), "jcmd")

    known = [w.name for w in WORKLOADS] + ["idle-10k", "jmh"]
    for o in a.only:
        if o not in known:
            sys.exit(f"bench/run: unknown workload {o!r}; known: {', '.join(known)}")
    rounds = a.rounds or (2 if a.quick else 3)
    seconds = a.seconds or (1 if a.quick else 5)
    warmup = 1 if a.quick else 3
    results = a.results or os.path.join(a.root, "bench/results")
    os.makedirs(results, exist_ok=True)
    logs = tempfile.mkdtemp(prefix="bench-logs-")
    # The same flags for every JVM server. The last four give Netty its fastest configuration
    # (Unsafe, cleaner-less direct buffers, uninitialised arrays); lori-ffm and NIO ignore them.
    jvm_flags = ["-Xms512m", "-Xmx512m", "-XX:ActiveProcessorCount=1", "--enable-native-access=ALL-UNNAMED",
                 "--sun-misc-unsafe-memory-access=allow", "-Dio.netty.tryReflectionSetAccessible=true",
                 "--add-opens=java.base/java.nio=ALL-UNNAMED",
                 "--add-opens=java.base/jdk.internal.misc=ALL-UNNAMED"]
    impls = Impls(a.root, a.classpath, a.cserver, a.cserver_boringssl, a.certs, a.java, logs, jvm_flags)
    ctx = Context(impls, a.loadgen, os.path.join(a.root, "bench/conf/pipeline16.lua"), a.java, logs,
                  a.netty_version, a.tcnative_version)
    meta = machine_meta(ctx, rounds, seconds)
    log(f"bench: {meta['machine']}\nbench: {meta['cpus']}\nbench: {meta['versions']}\n"
        f"bench: {rounds} rounds x {seconds} s, warm-up {warmup} s per server; logs in {logs}")
    selected = lambda name: not a.only or name in a.only
    rows = []
    started = time.time()
    for w in WORKLOADS:
        if selected(w.name):
            if a.quick:
                # c-boringssl is a control (which TLS library), not a competitor: a smoke run skips it.
                w = replace(w, impls=[i for i in w.impls if i != "c-boringssl"])
            t0 = time.time()
            log(f"bench: {w.name}: {w.title}")
            rows += rows_for(w, run_workload(ctx, w, rounds, seconds, warmup, 1 if a.quick else 3))
            log(f"bench: {w.name} took {time.time() - t0:.0f} s")
    if selected("idle-10k"):
        log("bench: idle-10k: heap + native + RSS per idle connection at 10,000 connections")
        rows += idle_scale(ctx, 10000)
    if selected("jmh") and not a.quick:
        log("bench: jmh: hot-path downcalls, read buffer, allocation per message")
        rows += jmh(ctx, a.quick)
    meta["duration_s"] = round(time.time() - started)
    meta["failures"] = ctx.failures
    table = markdown(rows, meta)
    if ctx.failures:
        table += "\n**Failures** (left out of the table):\n\n" + "\n".join(f"- {f}" for f in ctx.failures) + "\n"
    print(table)
    with open(os.path.join(results, "latest.md"), "w") as f:
        f.write(table + "\n")
    with open(os.path.join(results, "latest.json"), "w") as f:
        json.dump(rows, f, indent=1)
    with open(os.path.join(results, "machine.json"), "w") as f:
        json.dump(meta, f, indent=1)
    chart(rows, meta, os.path.join(results, "chart.svg"))
    log(f"bench: done in {meta['duration_s']} s; results in {results}")


if __name__ == "__main__":
    main()
