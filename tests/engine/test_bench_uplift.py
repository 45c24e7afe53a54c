from __future__ import annotations

import json

from forecasting.bench.uplift import main


def test_it_prints_and_writes_the_rankings_table(tmp_path, capsys):
    report_path = tmp_path / "uplift.json"

    assert main(["--seeds", "0", "--customers", "1500", "--report", str(report_path)]) == 0

    printed = capsys.readouterr().out.splitlines()
    report = json.loads(report_path.read_text())
    assert [line.split()[0] for line in printed[2:]] == ["t_learner", "response", "random", "oracle"]
    assert set(report["summary"]["t_learner"]) == {"qini", "uplift_top20", "uplift_top30"}
    assert report["summary"]["oracle"]["qini"]["mean"] > report["summary"]["random"]["qini"]["mean"]
    assert report["summary"]["t_learner"]["qini"]["std"] == 0.0
