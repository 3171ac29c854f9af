"""Benchmark: importing an office's history (issue #12 §2): N synthetic rows in ≤ 5 minutes.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/xinfang_bench_import \\
        .venv/bin/python bench/import_bench.py --rows 100000
    .venv/bin/python bench/import_bench.py --rows 2000          # SQLite under var/bench-import/

The database is made afresh (migrate, the demo tree and accounts, no petitions).  A CSV of N
synthetic rows — invented names, valid ID numbers with their check digit, every importable state,
received dates from 2005 on, a third of the people with several petitions — is written for the
demo intake clerk's county, then imported with ``xinfang import_petitions`` as an operator would,
timed end to end (reading, checking every row, writing).  Then the same file again: every row
must be skipped as already imported.  Synthetic data only.
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import resource
import secrets
import subprocess
import sys
import time
from pathlib import Path

from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parent.parent
VAR = ROOT / "var" / "bench-import"
REPLY = "经调查核实，已依法依规作出处理，并向信访人当面答复。"
WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华"
TOPICS = (
    ("拖欠工资", "某建筑工地拖欠农民工工资{n}万元，多次讨要未果，请求协调解决。"),
    ("供暖不达标", "小区冬季室内温度长期低于十六度，物业与供热单位互相推诿，请求督促整改。"),
    ("征地补偿", "村集体土地被征收后补偿款{n}万元迟迟未发放到户，请求依法发放。"),
    ("噪声扰民", "附近工地夜间施工至凌晨，噪声严重影响休息，请求依法查处。"),
    ("低保申请", "家庭困难申请最低生活保障被拒，认为审核不公，请求重新审核。"),
    ("物业纠纷", "物业公司擅自提高收费标准{n}成且不公示账目，请求规范管理。"),
)
STATES = [("已终结", 55), ("已答复", 10), ("不予受理", 6), ("已告知其他途径", 6), ("已撤回", 3),
          ("已受理", 8), ("已转送", 5), ("已交办", 4), ("已登记", 3)]  # fmt: skip


def id_number(rng: random.Random) -> str:
    birth = f"{rng.randint(1940, 2000)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}"
    first = f"330102{birth}{rng.randint(0, 999):03d}"
    return first + "10X98765432"[sum(int(d) * w for d, w in zip(first, WEIGHTS, strict=True)) % 11]


def prepare() -> dict[str, str]:
    VAR.mkdir(parents=True, exist_ok=True)
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith("postgres"):
        import psycopg

        server, db = url.rsplit("/", 1)
        with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
            admin.execute(f'CREATE DATABASE "{db}"')
    else:
        for suffix in ("", "-wal", "-shm"):
            (VAR / f"xinfang.sqlite3{suffix}").unlink(missing_ok=True)
        url = f"sqlite:///{VAR / 'xinfang.sqlite3'}"
    keys = VAR / "secrets.env"
    keys.write_text(
        f"SECRET_KEY={secrets.token_urlsafe(50)}\nXINFANG_FIELD_KEYS={Fernet.generate_key().decode()}\n"
        f"XINFANG_BLIND_INDEX_KEY={secrets.token_urlsafe(32)}\nXINFANG_AUDIT_KEY={secrets.token_urlsafe(32)}\n"
    )
    env = {
        "DATABASE_URL": url,
        "XINFANG_ENV_FILE": str(keys),
        "XINFANG_VAR_DIR": str(VAR),
        "DEBUG": "1",  # the demo accounts (published password) are refused with DEBUG off
        "ALLOWED_HOSTS": "localhost",
        "PYTHONWARNINGS": "ignore",
        "XINFANG_WORKER_SCHEDULER": "false",
    }
    run_env = {**os.environ, **env}
    xinfang = [sys.executable, "-m", "xinfang.cli"]
    print("== preparing the database (migrate, demo tree and accounts)", flush=True)
    subprocess.run([*xinfang, "migrate", "--noinput", "-v0"], env=run_env, cwd=ROOT, check=True)
    subprocess.run([*xinfang, "createcachetable"], env=run_env, cwd=ROOT, check=True)
    subprocess.run([*xinfang, "seed", "--demo", "--petitions", "0", "--no-stats"], env=run_env, cwd=ROOT,
                   check=True, stdout=subprocess.DEVNULL)  # fmt: skip
    return run_env


def write_file(path: Path, rows: int, seed: int) -> tuple[str, str]:
    """The synthetic CSV for the demo intake clerk's office; returns (office code or name, username)."""
    import django

    django.setup()
    from xinfang.organisations.choices import OrganisationKind
    from xinfang.organisations.models import Organisation, User
    from xinfang.petitions.models import Category

    clerk = User.objects.select_related("organisation").get(username="intake")
    office = clerk.organisation
    area = office.parent
    units = list(
        Organisation.objects.filter(
            path__startswith=area.path, kind=OrganisationKind.DEPARTMENT, is_active=True
        )
        .exclude(pk=office.pk)
        .values_list("name", flat=True)[:20]
    )
    places = list(
        Organisation.objects.filter(path__startswith=area.path, kind=OrganisationKind.GOVERNMENT)
        .exclude(code="")
        .values_list("code", flat=True)
    )
    categories = list(
        Category.objects.filter(is_active=True, children__isnull=True).values_list("code", flat=True)
    )
    rng = random.Random(seed)
    people = [
        (
            rng.choice(SURNAMES) + rng.choice(GIVEN) + rng.choice(GIVEN),
            id_number(rng),
            f"13{rng.randint(0, 999999999):09d}",
        )
        for _ in range(max(1, rows * 2 // 3))
    ]
    states, weights = zip(*STATES, strict=True)
    headers = ["来源编号", "收到日期", "信访形式", "信访目的", "标题", "内容", "姓名", "身份证号",
               "电话", "地址", "问题类别", "问题属地", "责任单位", "状态", "办结日期", "答复意见",
               "处理说明"]  # fmt: skip
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(headers)
        for i in range(rows):
            name, idn, phone = rng.choice(people)
            title, content = rng.choice(TOPICS)
            received = f"{rng.randint(2005, 2024)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
            state = rng.choices(states, weights)[0]
            closed = received[:5] + f"{min(12, int(received[5:7]) + 1):02d}" + received[7:]
            needs_unit = state in ("已转送", "已交办", "已受理")
            writer.writerow([
                f"OLD-{i:07d}", received, rng.choice(["来信", "来访", "网上信访", "来电"]), "投诉请求",
                f"{title}（{i}）", content.format(n=rng.randint(2, 90)), name, idn, phone,
                f"幸福路{rng.randint(1, 300)}号",
                rng.choice(categories), rng.choice(places),
                rng.choice(units) if needs_unit or rng.random() < 0.5 else "",
                state, "" if state in ("已受理", "已转送", "已交办", "已登记") else closed,
                REPLY if state in ("已答复", "已终结") else "",
                "历史数据",
            ])  # fmt: skip
    return office.code or office.name, clerk.username


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=12)
    args = parser.parse_args()
    env = prepare()
    os.environ.update(env)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "xinfang.settings")
    path = VAR / "history.csv"
    office, user = write_file(path, args.rows, args.seed)
    print(f"== {args.rows:,} rows written to {path} ({path.stat().st_size / 1e6:.1f} MB)", flush=True)
    command = [sys.executable, "-m", "xinfang.cli", "import_petitions", str(path), "--office", office,
               "--user", user, "--source", "bench"]  # fmt: skip
    figures = []
    for label in ("import", "re-import (all skipped)"):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        done = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True)
        if done.returncode:
            sys.exit(f"import_petitions failed:\n{done.stderr[-3000:]}")
        seconds = time.perf_counter() - started
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        print(done.stdout.strip().splitlines()[0])
        figures.append((label, seconds, cpu))
    engine = "PostgreSQL" if env["DATABASE_URL"].startswith("postgres") else "SQLite"
    load = os.getloadavg()[0]
    print(f"\n{engine}, {os.cpu_count()} CPUs, load average {load:.1f} at the end; goal 100,000 rows ≤ 300 s")
    print(f"{'run':<26}{'rows':>10}{'seconds':>10}{'rows/s':>10}{'CPU s (importer)':>18}")
    for label, seconds, cpu in figures:
        print(f"{label:<26}{args.rows:>10,}{seconds:>10.1f}{args.rows / seconds:>10.0f}{cpu:>18.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
