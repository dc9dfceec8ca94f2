"""Serving benchmark, one command: the service's /predict against `mlflow models serve` of the very
model version the service registered, and against a FastAPI endpoint that only validates the same
fields (the ceiling of the web stack), all under the same wrk load on 127.0.0.1.

    .venv/bin/python bench/serving.py [--csv PATH] [--seconds 10] [--connections 8] [--rounds 3]
    .venv/bin/python bench/serving.py --during-training [--rows 200000]

`--during-training` is the other scenario: /predict's p50 / p99 idle and while a `--rows`-row
logistic regression trains, with the fit in the worker process and in the serving process (the
target: p99 during at most 1.5 x idle, worker process); see bench/training_load.py.

Needs `wrk` (Debian: apt-get install wrk). Uses ../shared/data/telco_customer_churn.csv when present,
else the project's sample (same schema). Everything runs in a temporary CHURN_HOME and stops by itself.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from statistics import median
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
TELCO = ROOT.parent / "shared" / "data" / "telco_customer_churn.csv"
SAMPLE = ROOT / "data" / "sample_customers.csv"
PY = sys.executable
CEILING = "validation-only ceiling (FastAPI + pydantic)"
MLFLOW = "mlflow models serve /invocations"
CHURN = "churn /predict (validated, scored, stored)"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_up(url: str, process: subprocess.Popen, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{url}: process exited with {process.returncode}")
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.HTTPError:
            time.sleep(0.3)
    raise RuntimeError(f"{url} did not come up in {timeout}s")


def cpu_seconds(pid: int) -> float:
    """User + system CPU so far of a process, its threads and its descendants (`mlflow models serve`
    runs the server as a child process), from Linux /proc."""
    stats = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rpartition(")")[2].split()
            except OSError:
                continue
            stats[int(entry.name)] = (int(fields[1]), int(fields[11]) + int(fields[12]))
    tree, total = {pid}, 0
    for _ in range(4):  # a few generations are enough for mlflow -> uvicorn -> workers
        tree |= {child for child, (parent, _) in stats.items() if parent in tree}
    total = sum(ticks for p, (_, ticks) in stats.items() if p in tree)
    return total / os.sysconf("SC_CLK_TCK")


def wrk(url: str, body: dict, seconds: int, connections: int, workdir: Path, pid: int) -> dict:
    script = workdir / f"post-{abs(hash(url))}.lua"
    payload = json.dumps(body).replace("\\", "\\\\").replace('"', '\\"')
    script.write_text(f'wrk.method = "POST"\nwrk.body = "{payload}"\nwrk.headers["Content-Type"] = "application/json"\n')
    warm = subprocess.run(["wrk", "-t1", f"-c{connections}", "-d2s", "-s", str(script), url], capture_output=True, text=True)
    if warm.returncode:
        raise RuntimeError(warm.stderr)
    cpu_before = cpu_seconds(pid)
    out = subprocess.run(
        ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", str(script), url],
        capture_output=True,
        text=True,
        timeout=seconds + 30,
    ).stdout
    cpu = cpu_seconds(pid) - cpu_before
    requests = int(re.search(r"(\d+) requests in", out).group(1))
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    lat = {m.group(1): _ms(m.group(2)) for m in re.finditer(r"^\s+(50|99)%\s+([\d.]+\w+)", out, re.M)}
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {"rps": rps, "p50_ms": lat.get("50"), "p99_ms": lat.get("99"), "non_2xx": int(errors.group(1)) if errors else 0,
            "cpu_us": cpu / requests * 1e6}


def _ms(text: str) -> float:
    value, unit = re.match(r"([\d.]+)(\w+)", text).groups()
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


CEILING_APP = '''
from fastapi import FastAPI
from pydantic import BaseModel, create_model
import json, sys
fields = json.loads(sys.argv[1])
TYPES = {"number": float | None, "boolean": bool | str | None}  # booleans: true/false or the file's own two values
Features = create_model("Features", **{name: (TYPES.get(kind, str | None), ...) for name, kind in fields})
class Body(BaseModel):
    customer_id: str | None = None
    features: Features
app = FastAPI()
@app.post("/validate")
async def validate(body: Body):
    return {"ok": True}
import uvicorn
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[2]), log_level="warning", access_log=False)
'''


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--csv", type=Path, default=TELCO if TELCO.exists() else SAMPLE)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds; medians are reported")
    parser.add_argument("--model-type", default="logistic_regression")
    parser.add_argument("--store", default="sqlite", choices=("sqlite", "memory"), help="the service's CHURN_STORE")
    parser.add_argument("--during-training", action="store_true", help="measure /predict while a big training runs instead")
    parser.add_argument("--rows", type=int, default=200_000, help="rows of the training's data set (--during-training)")
    args = parser.parse_args()
    if args.during_training:
        import training_load

        training_load.report(args.rows, float(args.seconds), clients=4)
        return 0
    if not shutil.which("wrk"):
        print("wrk is not installed (Debian: apt-get install wrk)")
        return 1

    work = Path(tempfile.mkdtemp(prefix="churn-bench-"))
    home = work / "home"
    processes: list[subprocess.Popen] = []
    env = {**os.environ, "CHURN_HOME": str(home), "CHURN_LOAD_SAMPLE": "false", "CHURN_STORE": args.store}
    try:
        port = free_port()
        service = f"http://127.0.0.1:{port}"
        log = (work / "service.log").open("wb")
        processes.append(subprocess.Popen([PY, "main.py", "serve", "--port", str(port)], cwd=ROOT, env=env, stdout=log, stderr=log))
        wait_up(f"{service}/health", processes[-1])
        with httpx.Client(base_url=service, timeout=300) as http:
            files = {"file": (args.csv.name, args.csv.read_bytes(), "text/csv")}
            http.post("/datasets", files=files, data={"name": "bench", "target": "Churn", "id_column": "customerID"}).raise_for_status()
            location = http.post("/train", json={"dataset": "bench", "model_type": args.model_type}).headers["Location"]
            while (job := http.get(location).json())["status"] not in ("succeeded", "failed"):
                time.sleep(0.5)
            if job["status"] != "succeeded":
                raise RuntimeError(job["error"])
            model = http.get("/models/active").json()
        features = {f["name"]: f["example"] for f in model["features"]}
        body = {"customer_id": "bench-customer", "features": features}
        ref = f"models:/{model['name']}/{model['version']}"
        print(f"data: {args.csv.name}; model: {ref} ({model['model_type']}, serving path {model['serving_path']})")

        mlflow_port = free_port()
        mlflow_env = {
            **os.environ,
            "MLFLOW_TRACKING_URI": f"sqlite:///{home / 'mlflow.db'}",
            "MLFLOW_ALLOW_PICKLE_DESERIALIZATION": "true",
            "MLFLOW_DISABLE_TELEMETRY": "true",
            "PATH": f"{Path(PY).parent}{os.pathsep}{os.environ.get('PATH', '')}",  # mlflow execs `uvicorn`
        }
        mlog = (work / "mlflow.log").open("wb")
        mlflow_bin = str(Path(PY).with_name("mlflow"))
        processes.append(
            subprocess.Popen(
                [mlflow_bin, "models", "serve", "-m", ref, "--env-manager", "local", "-p", str(mlflow_port), "-h", "127.0.0.1"],
                env=mlflow_env,
                stdout=mlog,
                stderr=mlog,
            )
        )
        wait_up(f"http://127.0.0.1:{mlflow_port}/ping", processes[-1], timeout=180)

        ceiling_port = free_port()
        fields = [(f["name"], f["kind"]) for f in model["features"]]
        processes.append(subprocess.Popen([PY, "-c", CEILING_APP, json.dumps(fields), str(ceiling_port)], cwd=ROOT))
        wait_up(f"http://127.0.0.1:{ceiling_port}/docs", processes[-1])

        check = httpx.post(f"http://127.0.0.1:{mlflow_port}/invocations", json={"dataframe_records": [features]}, timeout=30)
        check.raise_for_status()
        ours = httpx.post(f"{service}/predict", json=body, timeout=30).json()
        theirs = check.json()["predictions"][0]
        theirs = theirs[1] if isinstance(theirs, list) else theirs
        print(f"same model, same answer: service p={ours['churn_probability']:.12f}  mlflow serve p={float(theirs):.12f}")
        ceiling = httpx.post(f"http://127.0.0.1:{ceiling_port}/validate", json=body, timeout=30)
        if ceiling.status_code != 200:  # a ceiling that refuses the body measures its error path, not validation
            raise RuntimeError(f"the validation-only endpoint refused the body: {ceiling.status_code} {ceiling.text[:300]}")

        # Interleaved rounds (ceiling, mlflow, /predict, ceiling, ...): on a shared machine the load of
        # the moment moves every figure, so ratios are taken within a round and the median reported.
        targets = {
            CEILING: (f"http://127.0.0.1:{ceiling_port}/validate", body, processes[2].pid),
            MLFLOW: (f"http://127.0.0.1:{mlflow_port}/invocations", {"dataframe_records": [features]}, processes[1].pid),
            CHURN: (f"{service}/predict", body, processes[0].pid),
        }
        rounds = []
        for number in range(1, args.rounds + 1):
            rounds.append({name: wrk(url, payload, args.seconds, args.connections, work, pid) for name, (url, payload, pid) in targets.items()})
            r = rounds[-1]
            print(
                f"round {number}: ceiling {r[CEILING]['rps']:.0f} req/s, mlflow {r[MLFLOW]['rps']:.0f}, /predict {r[CHURN]['rps']:.0f}"
                f" -> {r[CHURN]['rps'] / r[MLFLOW]['rps']:.1f}x mlflow, {r[CHURN]['rps'] / r[CEILING]['rps']:.2f}x ceiling",
                flush=True,
            )
        with httpx.Client(base_url=service) as http:
            stored = http.get("/predictions/bands").json()["total"]
    finally:
        for p in processes:
            p.terminate()
        for p in processes:
            try:
                p.wait(20)
            except subprocess.TimeoutExpired:
                p.kill()
        if os.environ.get("BENCH_KEEP"):
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)

    print(f"\nwrk -t1 -c{args.connections} -d{args.seconds}s, one uvicorn worker each, 127.0.0.1; service store: {args.store}")
    print(f"median of {len(rounds)} interleaved rounds; CPU = server CPU time (all threads) per request")
    print(f"{'endpoint':48} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'CPU us':>8} {'non-2xx':>8}")
    for name in (CEILING, MLFLOW, CHURN):
        m = {key: median(r[name][key] for r in rounds) for key in ("rps", "p50_ms", "p99_ms", "cpu_us", "non_2xx")}
        print(f"{name:48} {m['rps']:9.0f} {m['p50_ms']:8.2f} {m['p99_ms']:8.2f} {m['cpu_us']:8.0f} {m['non_2xx']:8.0f}")
    vs_mlflow = median(r[CHURN]["rps"] / r[MLFLOW]["rps"] for r in rounds)
    vs_ceiling = median(r[CHURN]["rps"] / r[CEILING]["rps"] for r in rounds)
    cpu_ratio = median(r[CEILING]["cpu_us"] / r[CHURN]["cpu_us"] for r in rounds)
    print(f"\n/predict vs mlflow models serve: {vs_mlflow:.1f}x   (target >= 40x; median of per-round ratios)")
    print(f"/predict vs validation ceiling:  {vs_ceiling:.2f}x  (target >= 0.5x; median of per-round ratios)")
    print(f"ceiling CPU / /predict CPU per request: {cpu_ratio:.2f}  (the same ratio, free of the machine's load)")
    print(f"predictions stored by the service during the run: {stored}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
