"""The HTTP workloads of issue #12 §3, for locust (run by ``bench/http_bench.py``).

    locust -f bench/locust/locustfile.py Register --headless -u 16 -r 16 -t 30s --host http://127.0.0.1:PORT
    XINFANG_BENCH_WORKLOAD=queue locust -f bench/locust/locustfile.py Read --headless -u 1 …

``XINFANG_BENCH_CONFIG`` names a JSON file written by ``http_bench.py``: API tokens and staff
session cookies of the measured users, the registration's category and locality, and the read
workloads (path and who asks).  Users never wait between requests (closed loop, as the peer's
``wrk`` runs were): throughput is what the server gives, latency what a client sees.

This file imports no Django: locust runs in its own process and only speaks HTTP.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import random
import uuid
from functools import cache
from typing import Any

from locust import FastHttpUser, constant, task

# GB 11643 check character (ISO 7064 MOD 11-2), as xinfang.petitions.validators.id_check_digit.
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"
_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
_GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英"
_REGIONS = ("330102", "330106", "330108", "330122", "330127", "330183")
_TOPICS = (
    ("拖欠农民工工资", "某建筑工地拖欠我们{n}名农民工工资共计{m}万元，多次讨要未果，请求协调解决。"),
    ("小区物业乱收费", "小区物业公司擅自上调物业费，{n}户业主多次反映无果，请求相关部门查处。"),
    ("征地补偿款未到位", "村里征地已{n}个月，补偿款{m}万元至今未发放到户，请求督促落实。"),
    ("噪声扰民", "附近工地夜间施工噪声严重，持续{n}天影响周边居民休息，请求依法处理。"),
    ("养老保险待遇核定有误", "本人退休后养老金核定比同龄人少{m}百元，申请复核，已等待{n}个月。"),
)
# About one registration in ten is by someone who came before: the repeat look-up then finds them.
_REPEAT_SHARE = 0.1
_seen_people: list[tuple[str, str]] = []


@cache
def config() -> dict[str, Any]:
    with open(os.environ["XINFANG_BENCH_CONFIG"], encoding="utf-8") as fh:
        return json.load(fh)


def id_number(rng: random.Random) -> str:
    birth = dt.date(1950, 1, 1) + dt.timedelta(days=rng.randrange(365 * 55))
    first17 = f"{rng.choice(_REGIONS)}{birth:%Y%m%d}{rng.randrange(1000):03d}"
    return first17 + _CHECK[sum(int(d) * w for d, w in zip(first17, _WEIGHTS, strict=True)) % 11]


def registration_body(rng: random.Random, *, category: int, locality: int, today: dt.date) -> dict[str, Any]:
    """A realistic ``POST /api/v1/petitions`` body: a letter with one petitioner's ID number and
    phone (both encrypted and blind-indexed by the server)."""
    if _seen_people and rng.random() < _REPEAT_SHARE:
        name, number = rng.choice(_seen_people)
    else:
        name = rng.choice(_SURNAMES) + "".join(rng.choice(_GIVEN) for _ in range(rng.choice((1, 2))))
        number = id_number(rng)
        if len(_seen_people) < 1000:
            _seen_people.append((name, number))
    title, content = rng.choice(_TOPICS)
    return {
        "channel": "letter",
        "purpose": "complaint",
        "title": title,
        "content": content.format(n=rng.randrange(2, 40), m=rng.randrange(1, 90)),
        "category": category,
        "locality": locality,
        "received_on": today.isoformat(),
        "petitioners": [
            {
                "name": name,
                "id_number": number,
                "phone": "13" + "".join(rng.choice("0123456789") for _ in range(9)),
                "address": f"城关镇幸福路{rng.randrange(1, 300)}号",
            }
        ],
    }


def headers_for(who: dict[str, str]) -> dict[str, str]:
    """A token (API) or a session cookie (staff pages).  The server believes one proxy hop
    (XINFANG_TRUSTED_PROXIES=1), so ``X-Forwarded-Proto: https`` stands for nginx's TLS."""
    headers = {"X-Forwarded-Proto": "https"}
    if who.get("token"):
        headers["Authorization"] = f"Bearer {who['token']}"
    if who.get("session"):
        headers["Cookie"] = f"sessionid={who['session']}"
    return headers


class Register(FastHttpUser):
    """W1: registration through the API, all users as one intake clerk of one office."""

    wait_time = constant(0)

    def on_start(self) -> None:
        cfg = config()
        self.rng = random.Random()
        self.reg = cfg["register"]
        self.today = dt.date.fromisoformat(self.reg["today"])
        self.base_headers = {**headers_for(cfg["users"][self.reg["who"]]), "Content-Type": "application/json"}

    @task
    def register(self) -> None:
        body = registration_body(
            self.rng, category=self.reg["category"], locality=self.reg["locality"], today=self.today
        )
        headers = {**self.base_headers, "Idempotency-Key": str(uuid.uuid4())}
        with self.client.post(
            "/api/v1/petitions", data=json.dumps(body, ensure_ascii=False).encode(), headers=headers,
            name="W1 POST /api/v1/petitions", catch_response=True,
        ) as response:  # fmt: skip
            if response.status_code != 201:
                response.failure(f"{response.status_code}: {(response.text or '')[:200]}")


class Read(FastHttpUser):
    """W2–W4 and the petition page: one GET, chosen by XINFANG_BENCH_WORKLOAD."""

    wait_time = constant(0)

    def on_start(self) -> None:
        cfg = config()
        self.read = cfg["reads"][os.environ["XINFANG_BENCH_WORKLOAD"]]
        self.headers = headers_for(cfg["users"][self.read["who"]])

    @task
    def get(self) -> None:
        with self.client.get(
            self.read["path"], headers=self.headers, name=self.read["name"], catch_response=True,
            allow_redirects=False,  # a lapsed session redirects to the login page: a failure, not a 200
        ) as response:  # fmt: skip
            if response.status_code != 200:
                response.failure(f"{response.status_code}: {(response.text or '')[:200]}")
