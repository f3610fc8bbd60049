"""The live report's served data age: the staleness probe records the ``X-Data-Age`` header of
every read it makes and the report shows its p99 and max per read family (``n/a`` without one).
Fake answers, no server."""

from __future__ import annotations

import json
from collections.abc import Sequence
from http.client import HTTPMessage

import pytest

from bench.live import LiveRun, WriterStats
from bench.probe import Probe, Staleness, data_age
from bench.report import Report, render_live

SALES = "sales: day's orders"


def _headers(age: str | None) -> HTTPMessage:
    headers = HTTPMessage()
    if age is not None:
        headers["X-Data-Age"] = age
    return headers


class FakeHttp:
    """Answers every GET with the next (status, body, X-Data-Age) of ``answers``."""

    def __init__(self, answers: Sequence[tuple[int, object, str | None]]) -> None:
        self.answers = list(answers)
        self.paths: list[str] = []

    def request(self, method: str, path: str, body: bytes | None = None):
        assert method == "GET"
        self.paths.append(path)
        status, payload, age = self.answers.pop(0)
        return status, json.dumps(payload).encode(), _headers(age)

    def close(self) -> None:
        pass


def _probe(answers: Sequence[tuple[int, object, str | None]]) -> tuple[Probe, FakeHttp]:
    probe = Probe("http://127.0.0.1:1", "key", "test", period_s=1)
    fake = FakeHttp(answers)
    probe._local.client = fake  # this thread's client: the reads below go to the fake
    return probe, fake


def _signal(probe: Probe, name: str):
    return next(s for s in probe._signals if s.name == name)


def test_data_age_reads_the_header():
    assert data_age(_headers("1.234")) == 1.234
    assert data_age(_headers("0")) == 0.0
    assert data_age(_headers(None)) is None
    for bad in ("", "soon", "-1", "nan", "inf"):
        with pytest.raises(ValueError):
            data_age(_headers(bad))


def test_probe_records_the_age_of_every_read_and_sums_up_p99_and_max():
    sales = {"totals": {"orders": 3}}
    # 0.000 .. 1.000 s in 101 reads (p99 0.990, max 1.000), one read without the header.
    answers = [(200, sales, f"{i / 100:.3f}") for i in range(101)] + [(200, sales, None)]
    probe, fake = _probe(answers)
    signal = _signal(probe, SALES)
    assert [probe._get(signal, "") for _ in answers] == [3] * len(answers)
    assert fake.paths[0] == signal.path("")
    assert len(probe.ages[SALES]) == 101

    summary = probe._summary(signal)
    assert summary.age_p99_s == 0.99
    assert summary.age_max_s == 1.0
    order = probe._summary(_signal(probe, "order"))  # never read: no age
    assert order.age_p99_s is None and order.age_max_s is None


def test_probe_records_ages_of_not_found_answers_and_counts_a_bad_header_as_an_error():
    probe, _ = _probe([(404, {"error": "not found"}, "0.250"), (200, {}, "later")])
    order = _signal(probe, "order")
    assert probe._get(order, "PROBE-1") == 0  # not there yet, served 0.25 s old
    assert probe._get(order, "PROBE-1") is None  # malformed header: an error, no age
    assert probe.ages["order"] == [0.25]


def _staleness(signal: str, p99: float | None, max_s: float | None) -> Staleness:
    return Staleness(signal, "/x", 3, 3, 1.0, 2.0, 2.0, 0, 0, p99, max_s)


def test_live_report_shows_served_age_per_family_and_n_a_without_header():
    writer = WriterStats(20, 19.5, 10, 20, 195, 40, 39, 0, 5, 9, 12, 3)
    run = LiveRun(
        "sqlite",
        200,
        16,
        writer,
        [],
        [_staleness("order", None, None), _staleness(SALES, 0.99, 1.0)],
        0,
    )
    lines = render_live(Report(mode="smoke", machine={}, live=[run]))
    header = next(line for line in lines if line.startswith("| backend | orders | signal |"))
    assert header.endswith("| errors | data age p99 s | data age max s |")
    rows = {
        cells[2]: cells
        for line in lines[lines.index(header) + 2 :]
        if line.startswith("|")
        for cells in [[cell.strip() for cell in line.strip("|").split("|")]]
    }
    assert rows["order"][11:] == ["n/a", "n/a"]
    assert rows[SALES][11:] == ["0.990", "1.000"]
