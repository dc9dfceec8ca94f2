"""Upload-to-profile time and peak memory, beside plain `pandas.read_csv` of the same file.

    .venv/bin/python bench/reading.py [--rows 200000] [--mb 50] [--rounds 3] [--keep DIR]

Generates (in a temporary directory) a 200,000-row x 20-column churn export, the same file in a
Brazilian locale (';', decimal comma, cp1252), and a ~50 MB file of the same columns. For each file,
in fresh subprocesses, interleaved round by round:

- `pandas.read_csv` of the bytes: the baseline (default options; for the Brazilian file the
  sep=';', decimal=',', encoding='cp1252' it needs, which the upload detects by itself);
- the upload: `RegisterDataset.execute` (detect encoding/separator/decimal, read, per-column facts,
  the domain's kinds and profile, sha256, store) on the in-memory store and on SQLite;
- the whole upload over HTTP: `POST /datasets` of the file by curl (`-F file=@...`, multipart) to
  the service as `main.py serve` builds it (uvicorn, every middleware, the default SQLite store, in
  this process, on a loopback port), from curl's start until its exit with the 201 and the profile.
  The client is another process, as a user's curl or browser is: its CPU is not the service's and
  is not counted, and it does not compete with the service for this process's GIL. The service is
  measured once started up (its training worker has imported what it needs, as minutes after start). The server's
  peak memory counts the bytes it receives (the other measures start with the file loaded).

Time is the median of the rounds (the machine is shared: compare the ratio within one run); CPU the
median process time of the call (all threads), steadier than wall time on a loaded machine. Both
ratios to read_csv are printed, with the load average at the start, at each round and at the end
(the upload parses a large UTF-8 file on two threads, read_csv on one: on a loaded machine its wall
time tends to its CPU time, on a quiet one to about half the parse's). Peak
memory is the growth of the process's peak RSS (VmHWM, reset just before the call) over its RSS
with the file's bytes already loaded, so the bytes themselves are not counted for either side.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

HEADER = [
    "customer_id", "age", "tenure", "monthly_charges", "total_charges", "balance", "products", "calls", "score",
    "region", "plan", "contract", "payment", "channel", "paperless", "senior", "partner", "signup", "last_payment", "churn",
]


def write_file(path: Path, rows: int, locale: str = "plain", seed: int = 1) -> None:
    rng = random.Random(seed)
    regions = ["São Paulo", "Rio de Janeiro", "Paraná", "Bahia", "Ceará", "Goiás"]
    sep = ";" if locale == "br" else ","
    start = date(2018, 1, 1)
    yes, no = ("Sim", "Não") if locale == "br" else ("Yes", "No")

    def number(value: float) -> str:
        text = f"{value:.2f}"
        return text.replace(".", ",") if locale == "br" else text

    with open(path, "w", encoding="cp1252" if locale == "br" else "utf-8", newline="") as out:
        out.write(sep.join(HEADER) + "\r\n")
        lines = []
        for i in range(rows):
            tenure = rng.randint(0, 72)
            monthly = rng.uniform(18, 120)
            signup = start + timedelta(days=rng.randint(0, 2500))
            last = signup + timedelta(days=rng.randint(0, 400))
            lines.append(sep.join([
                f"C{i:07d}", str(rng.randint(18, 90)), str(tenure), number(monthly), number(monthly * tenure),
                number(rng.uniform(0, 250000)), str(rng.randint(1, 4)), str(rng.randint(0, 12)), str(rng.randint(300, 850)),
                rng.choice(regions), rng.choice(["basic", "standard", "premium"]), rng.choice(["monthly", "yearly", "two-year"]),
                rng.choice(["card", "debit", "boleto", "pix"]), rng.choice(["web", "store", "phone"]),
                rng.choice([yes, no]), rng.choice(["0", "1"]), rng.choice([yes, no]),
                signup.isoformat(), last.isoformat(), yes if rng.random() < 0.27 else no,
            ]))
            if len(lines) == 10000:
                out.write("\r\n".join(lines) + "\r\n")
                lines = []
        if lines:
            out.write("\r\n".join(lines) + "\r\n")


def rows_for_mb(mb: float) -> int:
    probe = Path(tempfile.mkstemp(suffix=".csv")[1])
    write_file(probe, 2000)
    per_row = probe.stat().st_size / 2000
    probe.unlink()
    return int(mb * 1024 * 1024 / per_row)


# ---------------------------------------------------------------- the measured child


def _rss_kb(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def child(mode: str, path: str, home: str) -> None:
    import io

    import pandas as pd

    from adapters.memory import InMemoryDatasetStore
    from adapters.pandas_reader import PandasTableReader
    from adapters.sqlite.database import SqliteDatabase
    from adapters.sqlite.datasets import SqliteDatasetStore
    from churn.datasets import DatasetLimits
    from churn.use_cases.register_dataset import RegisterDataset
    from adapters.clock import SystemClock

    if mode == "upload-http":
        return _http_child(path, home)
    content = Path(path).read_bytes()
    warm = content[: content.index(b"\n", 200_000) + 1]  # a running service has imported and used everything once
    if mode == "pandas":
        # what a person has to type for the Brazilian file; plain read_csv for the others
        options = {"sep": ";", "decimal": ",", "encoding": "cp1252"} if content[:40].count(b";") > 2 else {}
        run = lambda: pd.read_csv(io.BytesIO(content), **options)  # noqa: E731
    else:
        store = InMemoryDatasetStore() if mode == "upload-memory" else SqliteDatasetStore(SqliteDatabase(os.path.join(home, "churn.db")))
        use_case = RegisterDataset(store, PandasTableReader(), SystemClock(), DatasetLimits(max_rows=10_000_000))
        run = lambda: use_case.execute("bench", content, "churn", "customer_id")  # noqa: E731
    if mode == "pandas":
        pd.read_csv(io.BytesIO(warm), **options)
    else:
        RegisterDataset(InMemoryDatasetStore(), PandasTableReader(), SystemClock()).execute("warm", warm, "churn", "customer_id")
    try:  # reset the peak RSS so it measures the call alone
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        pass
    before = _rss_kb("VmRSS")
    started, cpu_started = time.perf_counter(), time.process_time()
    result = run()
    seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu_started
    peak = _rss_kb("VmHWM")
    summary = {}
    if mode != "pandas":
        summary = {c.name: c.kind.value for c in result.profile.columns}
    print(json.dumps({"seconds": seconds, "cpu_seconds": cpu_seconds, "peak_mb": (peak - before) / 1024, "kinds": summary}))


def _http_child(path: str, home: str) -> None:
    import shutil
    import socket
    import threading

    import uvicorn

    from entrypoints.api.app import create_app
    from entrypoints.container import build_container
    from entrypoints.settings import Settings

    curl = shutil.which("curl")
    if curl is None:
        raise SystemExit("the HTTP measure sends the file with curl, as a user would: install curl")
    content = Path(path).read_bytes()
    warm = Path(home) / "warm.csv"
    warm.write_bytes(content[: content.index(b"\n", 200_000) + 1])
    mb = len(content) / 1024 / 1024 + 1
    del content  # the server holds only what it receives
    settings = Settings.from_env(
        env={}, home=home, registry="memory", load_sample=False, access_log="off", max_upload_mb=mb, max_dataset_rows=10_000_000
    )
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    container = build_container(settings)
    server = uvicorn.Server(uvicorn.Config(create_app(container), port=port, log_level="warning", access_log=False))
    serving = threading.Thread(target=server.run, daemon=True)
    serving.start()
    while not server.started:
        time.sleep(0.02)
    # A service at work started minutes ago: its training worker, spawned at start-up, has finished
    # importing scikit-learn and MLflow (seconds of CPU that would otherwise compete with the upload).
    container.training_pool().run(int)
    answer_file = Path(home) / "answer.json"

    def post(file: Path, name: str) -> dict:
        fields = [f"name={name}", "target=churn", "id_column=customer_id", f"file=@{file};type=text/csv"]
        status = subprocess.run(
            [curl, "-sS", "-o", str(answer_file), "-w", "%{http_code}", *[a for f in fields for a in ("-F", f)],
             f"http://127.0.0.1:{port}/datasets"],
            capture_output=True, text=True, timeout=600,
        ).stdout
        raw = answer_file.read_bytes()
        if status != "201":
            raise SystemExit(f"POST /datasets answered {status}: {raw[:500]!r}")
        return json.loads(raw)

    post(warm, "warm")
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        pass
    before = _rss_kb("VmRSS")
    started, cpu_started = time.perf_counter(), time.process_time()
    answer = post(Path(path), "bench")
    seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu_started
    peak = _rss_kb("VmHWM")
    summary = {c["name"]: c["kind"] for c in answer["profile"]["columns"]}
    print(json.dumps({"seconds": seconds, "cpu_seconds": cpu_seconds, "peak_mb": (peak - before) / 1024, "kinds": summary}), flush=True)
    server.should_exit = True
    serving.join(30)
    os._exit(0)  # the service's daemon threads (SQLite writer, checkpoints) can crash the interpreter's teardown


def measure(mode: str, path: Path) -> dict:
    with tempfile.TemporaryDirectory() as home:
        out = subprocess.run(
            [sys.executable, __file__, "--child", mode, str(path), home], capture_output=True, text=True, timeout=900, cwd=ROOT
        )
    if out.returncode != 0:
        raise SystemExit(f"{mode} on {path.name} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    args = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    args.add_argument("--rows", type=int, default=200_000)
    args.add_argument("--mb", type=float, default=50)
    args.add_argument("--rounds", type=int, default=3)
    args.add_argument("--keep", default=None, help="write the generated files here and keep them")
    args.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    opts = args.parse_args()
    if opts.child:
        child(*opts.child)
        return
    directory = Path(opts.keep or tempfile.mkdtemp(prefix="churn-reading-"))
    directory.mkdir(parents=True, exist_ok=True)
    files = {
        f"{opts.rows:,} rows x 20 columns": (directory / "plain.csv", opts.rows, "plain"),
        f"{opts.rows:,} rows, pt-BR (';', '29,85', cp1252)": (directory / "br.csv", opts.rows, "br"),
        f"{opts.mb:g} MB": (directory / "big.csv", rows_for_mb(opts.mb), "plain"),
    }
    for path, rows, locale in files.values():
        write_file(path, rows, locale)
    modes = ["pandas", "upload-memory", "upload-sqlite", "upload-http"]
    results: dict[tuple[str, str], list[dict]] = {}
    kinds = {}
    started = os.getloadavg()
    loads = []
    for _ in range(opts.rounds):
        loads.append(os.getloadavg()[0])
        for label, (path, _, _) in files.items():
            for mode in modes:
                figure = measure(mode, path)
                results.setdefault((label, mode), []).append(figure)
                if figure["kinds"]:
                    kinds[label] = figure["kinds"]
    ended = os.getloadavg()
    print(f"\nmedians of {opts.rounds} rounds, each call in a fresh process, {os.cpu_count()} cores shared with whatever else runs")
    print(
        f"load average (1, 5, 15 min): {' '.join(f'{x:.2f}' for x in started)} at the start, "
        f"{' '.join(f'{x:.2f}' for x in ended)} at the end; 1-min load at the rounds: {' '.join(f'{x:.1f}' for x in loads)}\n"
    )
    print(
        "| file | size | pandas.read_csv wall / CPU | upload (memory store) wall / CPU | ratio wall / CPU "
        "| upload (SQLite store) wall / CPU | ratio wall / CPU | POST /datasets (SQLite) wall / CPU | ratio wall / CPU "
        "| peak memory: read_csv / upload (memory) / upload (SQLite) / POST |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    verdicts = []
    for label, (path, rows, _) in files.items():
        size = path.stat().st_size / 1024 / 1024
        t = {m: statistics.median(r["seconds"] for r in results[(label, m)]) for m in modes}
        mem = {m: statistics.median(r["peak_mb"] for r in results[(label, m)]) for m in modes}
        cpu = {m: statistics.median(r["cpu_seconds"] for r in results[(label, m)]) for m in modes}
        wall = {m: t[m] / t["pandas"] for m in modes}
        work = {m: cpu[m] / cpu["pandas"] for m in modes}
        print(
            f"| {label} ({rows:,} rows) | {size:.1f} MB | {t['pandas']:.2f} / {cpu['pandas']:.2f} s "
            f"| {t['upload-memory']:.2f} / {cpu['upload-memory']:.2f} s | {wall['upload-memory']:.2f}x / {work['upload-memory']:.2f}x "
            f"| {t['upload-sqlite']:.2f} / {cpu['upload-sqlite']:.2f} s | {wall['upload-sqlite']:.2f}x / {work['upload-sqlite']:.2f}x "
            f"| {t['upload-http']:.2f} / {cpu['upload-http']:.2f} s | {wall['upload-http']:.2f}x / {work['upload-http']:.2f}x "
            f"| {mem['pandas']:.0f} / {mem['upload-memory']:.0f} / {mem['upload-sqlite']:.0f} / {mem['upload-http']:.0f} MB "
            f"({mem['upload-memory'] / size:.1f}x / {mem['upload-sqlite'] / size:.1f}x / {mem['upload-http'] / size:.1f}x the file) |"
        )
        verdicts.append(
            f"{label}: memory store {'within' if wall['upload-memory'] <= 2 else 'over'} 2x in wall time, "
            f"{'within' if work['upload-memory'] <= 2 else 'over'} in CPU; SQLite store "
            f"{'within' if wall['upload-sqlite'] <= 2 else 'over'} / {'within' if work['upload-sqlite'] <= 2 else 'over'}; "
            f"POST /datasets {'within' if wall['upload-http'] <= 2 else 'over'} / {'within' if work['upload-http'] <= 2 else 'over'}; "
            f"peak {'under' if max(mem['upload-memory'], mem['upload-sqlite'], mem['upload-http']) < 5 * size else 'over'} 5x the file"
        )
    print("\ntarget (upload within 2x read_csv, peak under 5x the file):")
    for line in verdicts:
        print(f"- {line}")
    first = next(iter(kinds.values()), {})
    print("\nkinds understood:", ", ".join(f"{k}={v}" for k, v in first.items()))
    if not opts.keep:
        for path, _, _ in files.values():
            path.unlink()
        directory.rmdir()


if __name__ == "__main__":
    main()
