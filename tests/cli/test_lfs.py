from labelgate.cli import main


def test_lfs_command_prints_the_analysis_and_writes_artifacts(tmp_path, example_data, example_config, capsys):
    code = main(["lfs", "--data", str(example_data), "--config", str(example_config), "--out", str(tmp_path)])
    assert code == 0
    out = capsys.readouterr().out
    assert "| lf | polarity | coverage" in out and "keyword_subscribe" in out
    for name in ("label_matrix.npy", "probs.parquet", "label_model.json", "lf_analysis.html",
                 "lf_coverage_accuracy.png"):
        assert (tmp_path / name).stat().st_size > 0


def test_lfs_command_reports_a_broken_module_as_an_error(tmp_path, example_data, example_config, capsys):
    code = main(["lfs", "--data", str(example_data), "--config", str(example_config), "--out", str(tmp_path),
                 "--lf-module", str(tmp_path / "missing.py")])
    assert code == 1 and "LF module file not found" in capsys.readouterr().err
