"""The grading benchmark's arithmetic and table (autograder.bench): the idle time of a
grading slot, the parallel efficiency and the machine's ceiling come out of the timings
as documented."""

from __future__ import annotations

import pytest

from autograder import bench


def batch() -> bench.Batch:
    runs = {
        bench.LOCAL_1: bench.PathRun(bench.LOCAL_1, 1, 500.0, 480.0, 30.0),
        bench.LOCAL_2: bench.PathRun(bench.LOCAL_2, 2, 275.0, 520.0, 31.0),
        bench.REMOTE_2: bench.PathRun(bench.REMOTE_2, 2, 250.0, 490.0, 29.0),
    }
    return bench.Batch("04_pooling", 100, runs)


def test_idle_time_per_job_is_what_the_slots_did_not_spend_executing():
    b = batch()
    assert b.runs[bench.LOCAL_1].idle_per_job(100) == pytest.approx(0.2)
    assert b.runs[bench.LOCAL_2].idle_per_job(100) == pytest.approx(0.3)  # 550 − 520
    assert b.runs[bench.REMOTE_2].idle_per_job(100) == pytest.approx(0.1)


def test_efficiency_is_the_one_worker_time_over_twice_the_two_worker_time():
    b = batch()
    assert b.efficiency(bench.LOCAL_2) == pytest.approx(500 / 550)
    assert b.efficiency(bench.REMOTE_2) == pytest.approx(1.0)


def test_the_table_gives_each_path_and_the_verdict_against_the_goal():
    text = bench.render(None, batch())
    assert "(b) 100 submissions of 04_pooling" in text
    assert "| LocalCluster, 1 worker | 500.0 | 5.00 | 480.0 | 0.20 | 0.30 | — |" in text
    assert "| LocalCluster, 2 workers | 275.0 | 2.75 | 520.0 | 0.30 | 0.31 | 0.91 |" in text
    assert "parallel efficiency 0.91 (goal ≥ 0.9: met); execution 1.08×" in text
    assert "parallel efficiency 1.00 (goal ≥ 0.9: met); execution 1.02×" in text


def test_the_ceiling_is_one_over_the_slowdown_of_two_executions_at_once():
    c = bench.Ceiling("04_pooling", [5.0, 5.2, 4.9], [5.5, 6.0, 5.6, 5.9, 5.4, 5.7])
    assert c.slowdown == pytest.approx(5.65 / 5.0)  # medians: two at once over alone
    assert c.efficiency == pytest.approx(5.0 / 5.65)
    text = bench.render(None, None, c)
    assert "| one process alone | 3 | 5.00 | 4.90 |" in text
    assert "| two at once | 6 | 5.65 | 5.40 |" in text
    assert "each 1.13× as long; the most two slots can reach on this machine is 0.88" in text
