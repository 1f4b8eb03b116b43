"""`labelgate init` on data in shapes the examples do not have."""

import pandas as pd
import yaml

from labelgate.cli import main
from labelgate.cli.pipeline import project_flags, resolved
from labelgate.preflight import preflight


def _write_parquet(folder, labels, *, train_rows=12):
    folder.mkdir(parents=True, exist_ok=True)
    pd.DataFrame({"id": range(train_rows), "text": ["a b c"] * train_rows}).to_parquet(folder / "train.parquet")
    for role in ("dev", "valid", "test"):
        pd.DataFrame({"id": range(len(labels)), "text": ["word"] * len(labels),
                      "label": labels}).to_parquet(folder / f"{role}.parquet")


def test_integer_labels_become_integer_class_names_in_numeric_order(tmp_path, capsys):
    # The train file has no label column: the combined column is float (1.0 ... 10.0); the classes are the
    # numbers as written, in numeric order (2 before 10), and every labeled row maps to its own class.
    _write_parquet(tmp_path / "data", [1, 2, 10, 2, 1, 10])
    assert main(["init", str(tmp_path / "proj"), "--data", str(tmp_path / "data"), "--text-column", "text"]) == 0
    config = yaml.safe_load((tmp_path / "proj" / "config.yaml").read_text())
    assert [str(c) for c in config["data"]["classes"]] == ["1", "2", "10"]
    out = capsys.readouterr().out
    assert "0=1 " in out
    # An LF's number is an index: 1 is class '2' here; init says so, with the fix.
    assert ("note: the labels are numbers other than 0..2, so class '1' has index 0: an LF returning the number 1 "
            "votes class '2'; in lfs.py return the constants (C_...) or the class name as text (label=\"1\")") in out


def test_classes_numbered_from_zero_get_a_hint_to_name_them_and_named_classes_none(tmp_path, capsys):
    _write_parquet(tmp_path / "data", [0, 1, 2, 1, 0, 2])
    assert main(["init", str(tmp_path / "a"), "--data", str(tmp_path / "data"), "--text-column", "text"]) == 0
    assert ("note: the classes are numbers; --classes NAME0,...,NAME2 (in index order) names them in reports"
            in capsys.readouterr().out)
    # named with --classes while the files keep the numbers: no note, and the numbers read as indices
    assert main(["init", str(tmp_path / "b"), "--data", str(tmp_path / "data"), "--text-column", "text",
                 "--classes", "low,mid,high"]) == 0
    out = capsys.readouterr().out
    assert "0=low 6 (33%), 1=mid 6 (33%), 2=high 6 (33%)" in out and "note: the classes are numbers" not in out


def test_files_without_an_id_column_make_a_project_without_one(tmp_path, capsys):
    data = tmp_path / "data"
    data.mkdir()
    rng = range(40)
    pd.DataFrame({"body": [f"text {i}" for i in rng]}).to_csv(data / "train.csv", index=False)
    for role in ("dev", "valid", "test"):
        pd.DataFrame({"body": [f"{role} {i}" for i in rng], "category": ["a", "b"] * 20}).to_csv(
            data / f"{role}.csv", index=False)
    project = tmp_path / "proj"
    assert main(["init", str(project), "--data", str(data), "--text-column", "body", "--label-column",
                 "category"]) == 0
    assert "no id column" in capsys.readouterr().out
    config = yaml.safe_load((project / "config.yaml").read_text())
    assert config["data"]["id_column"] is None
    suite = (project / "expectations.json").read_text()
    assert '"column": null' not in suite and "EQ(t1.None" not in (project / "constraints.txt").read_text()
    params = resolved(project_flags(type("A", (), {"project": str(project), "config_path": None,
                                                   "data_uri": None})(), ["config_path", "data_uri"]))
    report = preflight(data_uri=params["data_uri"], lf_module=params["lf_module"], config_path=params["config_path"],
                       suite_path=params["suite_path"], constraints_path=params["constraints_path"])
    assert report.errors == []
    assert report.ingested.roles["test"]["rows"] == 40


def test_keywords_are_picked_from_texts_in_any_script(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    words = {"счёт": "оплата возврат счёт", "доставка": "посылка курьер доставка", "café": "crème brûlée café"}
    pd.DataFrame({"id": range(10), "text": ["привет"] * 10}).to_csv(data / "train.csv", index=False)
    rows = [(f"{label}{i}", f"{text} {i}", label) for label, text in words.items() for i in range(6)]
    for role in ("dev", "valid", "test"):
        pd.DataFrame(rows, columns=["id", "text", "label"]).to_csv(data / f"{role}.csv", index=False)
    assert main(["init", str(tmp_path / "proj"), "--data", str(data), "--text-column", "text"]) == 0
    lfs = (tmp_path / "proj" / "lfs.py").read_text()
    assert "todo-" not in lfs
    assert "'посылка'" in lfs and "'оплата'" in lfs and "'brûlée'" in lfs


def test_class_names_in_other_scripts_get_distinct_lf_names(tmp_path):
    from labelgate.cli.init import _lfs

    source = _lfs("text", ["доставка", "счёт", "1", "a-b", "a b"], {})
    names = [line.split(" = ")[0] for line in source.splitlines() if " = keyword_lf(" in line]
    assert names == ["keyword_доставка", "keyword_счёт", "keyword_c_1", "keyword_a_b", "keyword_a_b_"]
    compile(source, "lfs.py", "exec")


def _labeled_csvs(folder, labels_by_role):
    folder.mkdir()
    pd.DataFrame({"id": range(4), "text": ["t"] * 4}).to_csv(folder / "train.csv", index=False)
    for role, labels in labels_by_role.items():
        pd.DataFrame({"id": range(len(labels)), "text": ["t"] * len(labels), "label": labels}).to_csv(
            folder / f"{role}.csv", index=False)


def test_labels_that_mix_names_and_numbers_are_refused_naming_the_row(tmp_path, capsys):
    _labeled_csvs(tmp_path / "data", {"dev": ["ham", "spam", "1"], "valid": ["ham", "spam"], "test": ["spam", "ham"]})
    assert main(["init", str(tmp_path / "proj"), "--data", str(tmp_path / "data"), "--text-column", "text"]) == 1
    err = capsys.readouterr().err
    assert "mix class names and numbers: '1' (dev.csv line 4)" in err and "--classes ham,spam" in err
    # With the order given, the number is the index it always was.
    assert main(["init", str(tmp_path / "proj"), "--data", str(tmp_path / "data"), "--text-column", "text",
                 "--classes", "ham,spam"]) == 0


def test_labels_that_differ_only_in_case_are_refused_naming_both(tmp_path, capsys):
    _labeled_csvs(tmp_path / "data", {"dev": ["ham", "spam"], "valid": ["ham", "spam"], "test": ["Spam", "ham"]})
    assert main(["init", str(tmp_path / "proj"), "--data", str(tmp_path / "data"), "--text-column", "text"]) == 1
    err = capsys.readouterr().err
    assert "differ only in upper/lower case: 'Spam' (test.csv line 2), 'spam' (dev.csv line 3)" in err


def test_a_rare_first_class_becomes_the_positive_class(tmp_path, capsys):
    # Sorted, 'fraud' comes first; the default positive class (the second) would be the 95% 'ok' class, and the
    # model gate's F1 would be about the class that needs no model.
    labels = ["ok"] * 19 + ["fraud"]
    _labeled_csvs(tmp_path / "data", {"dev": labels, "valid": labels, "test": labels})
    assert main(["init", str(tmp_path / "proj"), "--data", str(tmp_path / "data"), "--text-column", "text"]) == 0
    assert "Positive class (binary precision/recall/F1; evaluation.positive_class): fraud" in capsys.readouterr().out
    config = yaml.safe_load((tmp_path / "proj" / "config.yaml").read_text())
    assert config["data"]["classes"] == ["fraud", "ok"] and config["evaluation"]["positive_class"] == "fraud"


def test_a_split_column_of_role_words_becomes_the_role_column(tmp_path, capsys):
    # A Hugging Face export: one file, a 'split' column with train/validation/test.
    data = tmp_path / "data"
    data.mkdir()
    roles = ["train"] * 20 + ["validation"] * 10 + ["test"] * 10
    pd.DataFrame({"text": [f"t{i}" for i in range(40)], "label": [None] * 20 + ["a", "b"] * 10,
                  "split": roles}).to_parquet(data / "all.parquet")
    project = tmp_path / "proj"
    assert main(["init", str(project), "--data", str(data), "--text-column", "text"]) == 0
    out = capsys.readouterr().out
    assert "Roles: from column 'split'" in out and "no valid file" not in out
    config = yaml.safe_load((project / "config.yaml").read_text())
    assert config["data"]["role_column"] == "split"
    params = resolved(project_flags(type("A", (), {"project": str(project), "config_path": None,
                                                   "data_uri": None})(), ["config_path", "data_uri"]))
    report = preflight(data_uri=params["data_uri"], lf_module=params["lf_module"], config_path=params["config_path"],
                       suite_path=params["suite_path"], constraints_path=params["constraints_path"])
    assert report.ingested.roles["valid"]["rows"] == 10 and report.ingested.roles["test"]["rows"] == 10


def test_columns_named_like_labelgates_own_are_refused_before_anything_runs(tmp_path, capsys):
    _labeled_csvs(tmp_path / "data", {"dev": ["a", "b"], "valid": ["a", "b"], "test": ["a", "b"]})
    frame = pd.read_csv(tmp_path / "data" / "dev.csv")
    frame["source"] = "web"
    frame.to_csv(tmp_path / "data" / "dev.csv", index=False)
    assert main(["init", str(tmp_path / "proj"), "--data", str(tmp_path / "data"), "--text-column", "text"]) == 1
    assert "dev.csv: column(s) ['source'] have the name(s) of columns labelgate adds" in capsys.readouterr().err


def test_a_labeled_file_beside_an_unlabeled_one_gives_valid_and_test(tmp_path, capsys):
    data = tmp_path / "data"
    data.mkdir()
    pd.DataFrame({"id": range(50), "text": [f"u{i}" for i in range(50)]}).to_csv(data / "unlabeled.csv", index=False)
    pd.DataFrame({"id": range(100, 150), "text": [f"l{i}" for i in range(50)],
                  "label": ["a", "b"] * 25}).to_csv(data / "labeled.csv", index=False)
    project = tmp_path / "proj"
    assert main(["init", str(project), "--data", str(data), "--text-column", "text"]) == 0
    assert "valid and test: split from labeled.csv (split.holdout_sources: valid 20 rows, test 30 rows" in (
        capsys.readouterr().out)
    config = yaml.safe_load((project / "config.yaml").read_text())
    assert config["split"]["holdout_sources"] == ["labeled.csv"]
    params = resolved(project_flags(type("A", (), {"project": str(project), "config_path": None,
                                                   "data_uri": None})(), ["config_path", "data_uri"]))
    report = preflight(data_uri=params["data_uri"], lf_module=params["lf_module"], config_path=params["config_path"],
                       suite_path=params["suite_path"], constraints_path=params["constraints_path"])
    assert report.errors == []
    assert {r: report.ingested.roles[r]["rows"] for r in ("train", "valid", "test")} == {
        "train": 50, "valid": 20, "test": 30}


def test_a_text_column_that_is_no_python_name_gives_lfs_that_compile_and_run():
    from labelgate.cli.init import _lfs
    from labelgate.labeling.lf import Row

    namespace: dict = {}
    exec(compile(_lfs("review text", ["a", "b"], {}), "lfs.py", "exec"), namespace)
    assert namespace["short_text"](Row(**{"review text": "too short"})) == 0


def test_a_cp1252_project_reads_with_init_encoding_and_keeps_it_in_the_config(tmp_path, capsys):
    """Excel on Windows writes cp1252: init --encoding reads it (keywords with their accents) and the config's
    data.encoding makes every later read (preflight, ingest) agree; without the flag init names the fix."""
    data = tmp_path / "data"
    data.mkdir()
    words = {"sûr": "crème brûlée sûr", "déçu": "remboursé annulé déçu"}
    pd.DataFrame({"id": range(10), "text": ["bonjour à tous"] * 10}).to_csv(data / "train.csv", index=False,
                                                                          encoding="cp1252")
    rows = [(f"{label}{i}", f"{text} {i} – 5€", label) for label, text in words.items() for i in range(20)]
    for role in ("dev", "valid", "test"):
        pd.DataFrame(rows, columns=["id", "text", "label"]).to_csv(data / f"{role}.csv", index=False,
                                                                   encoding="cp1252")
    project = tmp_path / "proj"
    assert main(["init", str(project), "--data", str(data), "--text-column", "text"]) == 1
    assert "labelgate init --encoding cp1252" in capsys.readouterr().err
    assert main(["init", str(project), "--data", str(data), "--text-column", "text", "--encoding", "CP1252"]) == 0
    config = yaml.safe_load((project / "config.yaml").read_text())
    assert config["data"]["encoding"] == "cp1252" and sorted(config["data"]["classes"]) == ["déçu", "sûr"]
    assert '"déçu"' in (project / "config.yaml").read_text(encoding="utf-8")  # as typed, not "d\u00e9\u00e7u"
    assert "'brûlée'" in (project / "lfs.py").read_text()
    params = resolved(project_flags(type("A", (), {"project": str(project), "config_path": None,
                                                   "data_uri": None})(), ["config_path", "data_uri"]))
    report = preflight(data_uri=params["data_uri"], lf_module=params["lf_module"], config_path=params["config_path"],
                       suite_path=params["suite_path"], constraints_path=params["constraints_path"])
    assert report.errors == []
    assert "bonjour à tous" in set(report.ingested.frame["text"])


def test_an_unknown_init_encoding_is_refused_before_reading(tmp_path, capsys):
    assert main(["init", str(tmp_path / "proj"), "--data", str(tmp_path / "nowhere"), "--text-column", "text",
                 "--encoding", "latin-9x"]) == 1
    err = capsys.readouterr().err
    assert "--encoding: 'latin-9x' is not a text encoding Python knows" in err
    assert not (tmp_path / "proj").exists()


def test_keywords_in_scripts_without_spaces_are_character_pairs_that_the_lfs_find(tmp_path):
    """Chinese (and Japanese, Thai) put no spaces between words: a whole sentence was one "word", seen once, so
    every LF was a placeholder. Runs of those scripts are read as character pairs; the keyword LFs match them."""
    from labelgate.labeling.loader import load_lfs

    data = tmp_path / "data"
    data.mkdir()
    texts = {"退款": ["我要退款，商品坏了", "请给我退款谢谢", "申请退款可以吗", "退款什么时候到账"],
             "物流": ["物流太慢了吧", "我的包裹物流在哪里", "物流信息没有更新", "查询物流状态"]}
    rows = [(f"{label}{i}", text, label) for label, group in texts.items() for i, text in enumerate(group * 3)]
    pd.DataFrame({"id": range(10), "text": ["你好"] * 10}).to_csv(data / "train.csv", index=False)
    for role in ("dev", "valid", "test"):
        pd.DataFrame(rows, columns=["id", "text", "label"]).to_csv(data / f"{role}.csv", index=False)
    assert main(["init", str(tmp_path / "proj"), "--data", str(data), "--text-column", "text"]) == 0
    lfs_source = (tmp_path / "proj" / "lfs.py").read_text()
    assert "todo-" not in lfs_source and "'退款'" in lfs_source and "'物流'" in lfs_source
    lfs = {lf.name: lf for lf in load_lfs(str(tmp_path / "proj" / "lfs.py"))}
    config = yaml.safe_load((tmp_path / "proj" / "config.yaml").read_text())
    classes = [str(c) for c in config["data"]["classes"]]
    rows = [pd.Series({"text": text}) for text in ("退款进度怎么样", "物流到哪了")]
    votes = {name: [int(lf(row)) for row in rows] for name, lf in lfs.items() if name.startswith("keyword_")}
    assert sorted(votes.values()) == sorted([[classes.index("退款"), -1], [-1, classes.index("物流")]]), votes


def test_classes_named_on_numbered_labels_keep_their_keywords_and_shares(tmp_path, capsys):
    """--classes names classes whose files hold their indices: the profile's counts and keywords, keyed by the
    numbers the files hold, follow the names (they were lost: 0% shares and placeholder keyword LFs)."""
    data = tmp_path / "data"
    data.mkdir()
    pd.DataFrame({"id": range(10), "text": ["plain words"] * 10}).to_csv(data / "train.csv", index=False)
    rows = [(i, f"refund invoice charge {i}", 0) for i in range(6)] + [(10 + i, f"parcel courier late {i}", 1)
                                                                       for i in range(3)]
    for role in ("dev", "valid", "test"):
        pd.DataFrame(rows, columns=["id", "text", "label"]).to_csv(data / f"{role}.csv", index=False)
    assert main(["init", str(tmp_path / "proj"), "--data", str(data), "--text-column", "text",
                 "--classes", "billing,shipping"]) == 0
    out = capsys.readouterr().out
    assert "0=billing 18 (67%), 1=shipping 9 (33%)" in out
    assert "Positive class (binary precision/recall/F1; evaluation.positive_class): shipping" in out
    lfs = (tmp_path / "proj" / "lfs.py").read_text()
    billing = next(line for line in lfs.splitlines() if line.startswith("keyword_billing ="))
    shipping = next(line for line in lfs.splitlines() if line.startswith("keyword_shipping ="))
    assert {"refund", "invoice", "charge"} <= set(eval(billing[billing.index("["):billing.index("]") + 1]))
    assert {"parcel", "courier", "late"} <= set(eval(shipping[shipping.index("["):shipping.index("]") + 1]))
