"""Combining uploads into one database: what files loaded together say about each other."""

from __future__ import annotations

from handoff import pipeline


def test_overlapping_exports_count_each_deal_once():
    q1 = b"deal_id,stage,amount,close_date\n1,Won,100,2024-01-10\n2,Won,100,2024-02-10\n"
    q2 = b"deal_id,stage,amount,close_date\n2,Won,100,2024-02-10\n3,Lost,0,2024-04-10\n"
    db = pipeline.load_files([("q1.csv", q1), ("q2.csv", q2)])
    assert db.row_counts["deals"] == 3
    assert "1 deals repeated across the files were counted once" in db.notes[0]
