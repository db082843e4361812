"""Benchmark: ``resguardo reconcile --json`` against DuckDB computing the same classification.

Generates a registry CSV and a count CSV (1,000,000 rows each by default)
with planted discrepancies of every kind, then runs, each as a child
process so wall time and peak memory are measured alike:

- ``resguardo reconcile --registry R --count C --agency A --json``;
- the anchor: DuckDB reading the same two files and classifying in SQL.

Runs both sides ``--runs`` times, interleaved, and keeps the best of each.
Prints both times, their ratio, each peak RSS, the counts per kind from both
(and the counts the generator planted), and fails when the two disagree.
Targets: within 2x of DuckDB's time, peak memory under 1.5 GB.

    .venv/bin/python bench/reconcile.py                # 1,000,000 rows
    .venv/bin/python bench/reconcile.py --rows 20000   # a quick run

The anchor assumes what the generated data guarantees: no serial key is
shared by two registry weapons unless the scans give the make, so a scan
never has to choose between weapons by what was seen before it.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

AGENCY = "Policía Municipal de Tlalnepantla"
OTHER_AGENCY = "Secretaría de Seguridad del Estado"
MAKES = ("GLOCK", "BERETTA", "SIG SAUER", "SMITH & WESSON", "COLT", "H&K", "CZ", "TAURUS")
KINDS = ("pistola", "fusil", "carabina", "escopeta", "subametralladora", "revólver")
CALIBRES = ("9mm", "5.56mm", ".38 Special", "12 GA", ".223")
LOCATIONS = tuple(f"Armería {n}" for n in range(1, 41))
LOOKALIKE = {"0": "O", "1": "I", "5": "S", "8": "B", "2": "Z", "6": "G"}
KINDS_OF_FINDING = (
    "missing",
    "unregistered",
    "foreign",
    "status_conflict",
    "mislocated",
    "custody_mismatch",
    "duplicate_scan",
    "explained",
)


def generate(directory: Path, rows: int, seed: int = 7) -> tuple[Path, Path, Counter[str]]:
    """Write registry.csv and count.csv; return their paths and the planted counts."""
    rnd = random.Random(seed)
    registry_path, count_path = directory / "registry.csv", directory / "count.csv"
    planted: Counter[str] = Counter()
    scans: list[list[str]] = []
    later: list[list[str]] = []  # second scans of a weapon: after its first one

    def badge() -> str:
        return f"P-{rnd.randrange(100000):05d}"

    def scan(serial: str, location: str, holder: str, make: str) -> None:
        if rnd.random() < 0.05:
            location = ""  # scanned without a location: location is not compared
        if rnd.random() < 0.1:
            serial = serial.lower().replace("-", "")  # same serial key
        scans.append([serial, location, holder, make, f"07/03/2024 10:{rnd.randrange(60):02d}", ""])

    with open(registry_path, "w", encoding="utf-8", newline="") as f:
        out = csv.writer(f, lineterminator="\r\n")
        out.writerow(
            [
                "No. de serie",
                "Marca",
                "Modelo",
                "Calibre",
                "Tipo",
                "Estatus",
                "Ubicación",
                "Resguardante",
                "Corporación",
                "Fecha de alta",
            ]
        )
        for i in range(rows):
            serial = f"{'ABCDEFGHJK'[i % 10]}{'MNPRTVWXYZ'[(i // 10) % 10]}-{i:08d}"
            make = MAKES[i % len(MAKES)]
            ours = rnd.random() >= 0.01
            r = rnd.random()
            location = rnd.choice(LOCATIONS)
            custodian = ""
            if r < 0.004:
                status = rnd.choice(("extraviada", "robada", "baja"))
            elif r < 0.012:
                status = rnd.choice(("en reparación", "en tránsito"))
            elif r < 0.30:
                status, custodian = "asignada", badge()
            else:
                status = rnd.choice(("en armería", "En Armería", "almacenada"))
            out.writerow(
                [
                    serial,
                    make,
                    f"M{i % 17}",
                    rnd.choice(CALIBRES),
                    rnd.choice(KINDS),
                    status,
                    location,
                    custodian,
                    AGENCY if ours else OTHER_AGENCY,
                    f"2019-05-{1 + i % 28:02d}",
                ]
            )
            if not ours:
                if rnd.random() < 0.05:
                    scan(serial, location, custodian, make)
                    planted["foreign"] += 1
                continue
            p = rnd.random()
            if status in ("extraviada", "robada", "baja"):
                if p < 0.3:
                    scan(serial, rnd.choice(LOCATIONS), "", make)
                    planted["status_conflict"] += 1
                continue
            if status in ("en reparación", "en tránsito"):
                if p < 0.2:
                    scan(serial, rnd.choice(LOCATIONS), "", make)
                else:
                    planted["explained"] += 1
                continue
            if p < 0.004:
                planted["missing"] += 1
                if rnd.random() < 0.25:  # misread: one look-alike or one typo away
                    digits = [k for k, ch in enumerate(serial) if ch in LOOKALIKE]
                    k = rnd.choice(digits)
                    misread = serial[:k] + LOOKALIKE[serial[k]] + serial[k + 1 :]
                    scan(misread, location, custodian, make)
                    planted["unregistered"] += 1
                continue
            if p < 0.007:
                other = rnd.choice([x for x in LOCATIONS if x != location])
                if custodian:
                    scan(serial, location, badge(), make)
                    planted["custody_mismatch"] += 1
                else:
                    scans.append([serial, other, "", make, "", ""])
                    planted["mislocated"] += 1
                continue
            if p < 0.008:
                scans.append([serial, location, "" if custodian else badge(), make, "", ""])
                planted["custody_mismatch"] += 1
                continue
            if p < 0.010:
                other = rnd.choice([x for x in LOCATIONS if x != location])
                scans.append([serial, location, custodian, make, "", ""])
                later.append([serial, other, custodian, make, "", "segunda lectura"])
                planted["duplicate_scan"] += 1
                continue
            scan(serial, location, custodian, make)
            if p < 0.015:
                later.append([serial, location, custodian, make, "", "repetida"])
        for j in range(max(1, rows // 500)):
            serial = f"ZZ-{j:09d}"
            scans.append([serial, rnd.choice(LOCATIONS), "", rnd.choice(MAKES), "", ""])
            planted["unregistered"] += 1
    rnd.shuffle(scans)
    rnd.shuffle(later)
    scans.extend(later)
    with open(count_path, "w", encoding="utf-8", newline="") as f:
        out = csv.writer(f, lineterminator="\r\n")
        out.writerow(
            ["Matrícula", "Ubicación", "Portador", "Marca", "Fecha y hora", "Observaciones"]
        )
        out.writerows(scans)
    planted["scans"] = len(scans)
    return registry_path, count_path, planted


ANCHOR_SQL = r"""
create macro squeeze(x) as case when regexp_matches(x, '\s\s|[\t\n\r\f\v]')
  then regexp_replace(x, '\s+', ' ', 'g') else x end;
create macro fold(x) as nullif(lower(strip_accents(trim(squeeze(x)))), '');
create macro skey(x) as upper(case when regexp_matches(x, '[\s\-./\\_]')
  then regexp_replace(x, '[\s\-./\\_]+', '', 'g') else x end);
create macro mkey(x) as nullif(upper(trim(squeeze(x))), '');
create table words(word varchar, code varchar);
insert into words values {words};
create table raw_r as
  select * from read_csv($registry, header=true, all_varchar=true, delim=',', quote='"');
create table raw_c as
  select * from read_csv($count, header=true, all_varchar=true, delim=',', quote='"');
-- Folding (accents, case, spacing) is costly per row: fold each distinct text once.
create table places as
  select x, fold(x) as f from (
    select "Ubicación" as x from raw_r union select "Resguardante" from raw_r
    union select "Corporación" from raw_r union select "Ubicación" from raw_c
    union select "Portador" from raw_c) where x is not null;
create table statuses as
  select x, coalesce(w.code, 'in_storage') as code
  from (select distinct "Estatus" as x from raw_r) s
  left join words w on w.word = fold(replace(replace(s.x, '_', ' '), '-', ' '));
create table r as
  select t.rowid as rid, skey("No. de serie") as k, mkey("Marca") as mk,
         coalesce(st.code, 'in_storage') as status, pl.f as loc, pc.f as cust,
         coalesce(pa.f = fold($agency), true) as ours
  from raw_r t
  left join statuses st on st.x = t."Estatus"
  left join places pl on pl.x = t."Ubicación"
  left join places pc on pc.x = t."Resguardante"
  left join places pa on pa.x = t."Corporación";
create table c as
  select t.rowid as sid, skey("Matrícula") as k, mkey("Marca") as mk,
         pl.f as loc, ph.f as holder
  from raw_c t
  left join places pl on pl.x = t."Ubicación"
  left join places ph on ph.x = t."Portador";
create table pick as
  select c.sid, arg_min(r.rid, (not r.ours)::int * 2 + (not case r.status
          when 'in_storage' then c.holder is null
                                 and (r.loc is null or c.loc is null or r.loc = c.loc)
          when 'issued' then c.holder is not null and (r.cust is null or r.cust = c.holder)
          else r.status in ('in_repair', 'in_transit', 'held_as_evidence') end)::int) as rid
  from c join r on r.k = c.k and (c.mk is null or c.mk = r.mk)
  group by c.sid;
create table seen as
  select p.rid, arg_min(c.loc, c.sid) as loc, arg_min(c.holder, c.sid) as holder,
         min(coalesce(c.holder, '')) <> max(coalesce(c.holder, '')) or min(c.loc) <> max(c.loc)
           as moved
  from pick p join c using (sid) group by p.rid;
create table unreg as
  select c.k, coalesce(c.mk, '') as mk,
         min(coalesce(c.holder, '')) <> max(coalesce(c.holder, '')) or min(c.loc) <> max(c.loc)
           as moved
  from c anti join pick p using (sid) group by all;
create table cls as
  select r.rid, r.ours, s.moved,
    case
      when not r.ours then case when s.rid is not null then 'foreign' end
      when r.status in ('lost', 'stolen', 'decommissioned') then
        case when s.rid is not null then 'status_conflict' end
      when r.status in ('in_repair', 'in_transit', 'held_as_evidence') then
        case when s.rid is null then 'explained' else 'matched' end
      when s.rid is null then 'missing'
      when r.status = 'in_storage' then
        case when s.holder is not null then 'custody_mismatch'
             when s.loc is null or r.loc is null or s.loc = r.loc then 'matched'
             else 'mislocated' end
      else case when s.holder is not null and (r.cust is null or s.holder = r.cust)
                then 'matched' else 'custody_mismatch' end
    end as kind
  from r left join seen s using (rid);
"""

ANCHOR_SUMMARY = """
select 'registry', count(*) from r where ours
union all select 'scans', count(*) from c
union all select kind, count(*) from cls where kind is not null group by kind
union all select 'duplicate_scan',
  (select count(*) from cls where moved) + (select count(*) from unreg where moved)
union all select 'unregistered', count(*) from unreg
"""


def anchor(registry: str, count: str, agency: str) -> dict[str, int]:
    """The classification counts computed by DuckDB in SQL (run in a child process)."""
    import duckdb

    from resguardo.domain.vocabulary import _fold_word, status_words

    pairs = [
        (_fold_word(w), code.value)
        for code, ws in status_words().items()
        for w in (code.value, *ws)
    ]
    words = ", ".join("('{}', '{}')".format(w.replace("'", "''"), c) for w, c in pairs)
    con = duckdb.connect()
    params = {"registry": registry, "count": count, "agency": agency}
    for statement in ANCHOR_SQL.format(words=words).split(";"):
        if statement.strip():
            names = [n for n in params if f"${n}" in statement]
            con.execute(statement, {n: params[n] for n in names})
    summary = dict.fromkeys(("registry", "scans", "matched", *KINDS_OF_FINDING), 0)
    for key, value in con.execute(ANCHOR_SUMMARY).fetchall():
        summary[key] = int(value)
    return summary


def _tree_rss_mb(root: int) -> float:
    """Resident memory of ``root`` and all its descendants, in MB (Linux /proc)."""
    parents: dict[int, int] = {}
    rss: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(entry)] = int(fields[1])
        rss[int(entry)] = int(fields[21])
    tree, frontier = {root}, [root]
    while frontier:
        pid = frontier.pop()
        children = [c for c, p in parents.items() if p == pid and c not in tree]
        tree.update(children)
        frontier.extend(children)
    return sum(rss.get(pid, 0) for pid in tree) * os.sysconf("SC_PAGE_SIZE") / 2**20


def run_child(args: list[str], stdout_path: Path) -> tuple[float, float, int, float]:
    """Run a child; return (wall seconds, peak RSS in MB, exit status, CPU seconds).

    Peak RSS is the larger of the kernel's figure for the child and the peak of
    the child's whole process tree sampled every 50 ms, so that the memory of
    processes it forks counts too.
    """
    peak = [0.0]
    done = threading.Event()
    with open(stdout_path, "wb") as out:
        start = time.perf_counter()
        proc = subprocess.Popen(args, stdout=out, stderr=subprocess.PIPE)

        def sample() -> None:
            while not done.wait(0.05):
                peak[0] = max(peak[0], _tree_rss_mb(proc.pid))

        sampler = threading.Thread(target=sample, daemon=True)
        if os.path.isdir("/proc"):
            sampler.start()
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        done.set()
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode != 0 and proc.stderr is not None:
            sys.stderr.write(proc.stderr.read().decode(errors="replace"))
    rss = max(usage.ru_maxrss / 1024, peak[0])
    return wall, rss, proc.returncode, usage.ru_utime + usage.ru_stime


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--rows", type=int, default=1_000_000, help="registry rows (default 1,000,000)"
    )
    parser.add_argument(
        "--runs", type=int, default=2, help="interleaved runs of each side (default 2; best kept)"
    )
    parser.add_argument("--dir", type=Path, help="where to write the files (default: a temp dir)")
    parser.add_argument("--keep", action="store_true", help="keep the generated files")
    parser.add_argument(
        "--anchor", nargs=3, metavar=("REGISTRY", "COUNT", "AGENCY"), help=argparse.SUPPRESS
    )
    args = parser.parse_args()
    if args.anchor:
        print(json.dumps(anchor(*args.anchor)))
        return 0

    directory = Path(args.dir or tempfile.mkdtemp(prefix="resguardo-bench-"))
    directory.mkdir(parents=True, exist_ok=True)
    try:
        t0 = time.perf_counter()
        registry, count, planted = generate(directory, args.rows)
        print(
            f"generated {args.rows:,} registry rows and {planted['scans']:,} scans "
            f"in {time.perf_counter() - t0:.1f}s ({directory})"
        )
        resguardo = shutil.which("resguardo", path=str(Path(sys.executable).parent)) or "resguardo"
        cmd = [
            resguardo,
            "reconcile",
            "--registry",
            str(registry),
            "--count",
            str(count),
            "--agency",
            AGENCY,
            "--json",
        ]
        ours_out, anchor_out = directory / "resguardo.json", directory / "duckdb.json"
        startup, _, _, _ = run_child([resguardo, "reconcile", "--help"], directory / "help.txt")
        load_before = os.getloadavg()[0]
        anchor_cmd = [sys.executable, __file__, "--anchor", str(registry), str(count), AGENCY]
        # Interleaved, so both sides meet the same load; the best run of each is compared.
        ours_runs: list[tuple[float, float, float]] = []
        duck_runs: list[tuple[float, float, float]] = []
        ours: dict[str, int] = {}
        duck: dict[str, int] = {}
        for n in range(args.runs):
            wall, rss, rc, cpu = run_child(cmd, ours_out)
            if rc != 0:
                print(f"resguardo reconcile failed with exit status {rc}")
                return 1
            ours_runs.append((wall, cpu, rss))
            wall, rss, rc, cpu = run_child(anchor_cmd, anchor_out)
            if rc != 0:
                print(f"the DuckDB anchor failed with exit status {rc}")
                return 1
            duck_runs.append((wall, cpu, rss))
            print(
                f"run {n + 1}: resguardo {ours_runs[-1][0]:.2f} s wall, {ours_runs[-1][1]:.2f} s CPU; "
                f"duckdb {wall:.2f} s wall, {cpu:.2f} s CPU; load {os.getloadavg()[0]:.2f}"
            )
            summary = json.loads(ours_out.read_text(encoding="utf-8"))["summary"]
            if ours and summary != ours:
                print("resguardo's counts changed from one run to the next")
                return 1
            ours, duck = summary, json.loads(anchor_out.read_text(encoding="utf-8"))
        ours_time, ours_cpu = min(r[0] for r in ours_runs), min(r[1] for r in ours_runs)
        duck_time, duck_cpu = min(r[0] for r in duck_runs), min(r[1] for r in duck_runs)
        ours_rss = max(r[2] for r in ours_runs)
        duck_rss = max(r[2] for r in duck_runs)
        print(f"\n{'kind':<18}{'resguardo':>12}{'duckdb':>12}{'planted':>12}")
        agree = True
        for key in ("registry", "scans", "matched", *KINDS_OF_FINDING):
            mark = "" if ours[key] == duck[key] else "   <-- differ"
            agree = agree and not mark
            expected = planted.get(key, "")
            print(f"{key:<18}{ours[key]:>12,}{duck[key]:>12,}{expected!s:>12}{mark}")
        ratio = ours_time / duck_time
        print(
            f"\nresguardo reconcile: {ours_time:6.2f} s wall, {ours_cpu:6.2f} s CPU, "
            f"peak RSS {ours_rss:5.0f} MB (CLI start-up alone: {startup:.2f} s)"
        )
        print(
            f"duckdb anchor:       {duck_time:6.2f} s wall, {duck_cpu:6.2f} s CPU, "
            f"peak RSS {duck_rss:5.0f} MB"
        )
        print(
            f"best of {args.runs} interleaved runs each (peak RSS: the largest); "
            f"load average before the runs: {load_before:.2f} on {os.cpu_count()} CPUs"
        )
        print(
            f"ratio: {ratio:.2f}x DuckDB's wall time (target <= 2x), "
            f"{ours_cpu / duck_cpu:.2f}x its CPU time; memory target < 1536 MB: "
            f"{'met' if ours_rss < 1536 else 'MISSED'}"
        )
        if not agree:
            print("the counts per kind DISAGREE")
            return 1
        print("counts per kind agree")
        return 0
    finally:
        if not args.keep and args.dir is None:
            shutil.rmtree(directory, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
