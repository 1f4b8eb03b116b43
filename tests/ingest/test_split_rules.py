"""Each decision of ingest's typing and splitting at its boundary, on tiny in-memory tables: label parsing,
the fingerprint, role precedence (globs, then the role column, then the file name), holdout sizes, the dev
sample, and the full text of each refusal (what is wrong, where, and the fix)."""

from __future__ import annotations

import hashlib

import pandas as pd
import pytest

from labelgate.errors import DataError
from labelgate.ingest import DataSettings, SplitSettings
from labelgate.ingest.dataset import _labels, _typed, assign_roles, file_role, fingerprint, split_roles
from labelgate.ingest.readers import RawFile

DATA = DataSettings(id_column="id", text_column="text", label_column="label", classes=("neg", "pos"))


def _frame(files: dict[str, int], *, labeled: bool | set[str] = True, extra: dict | None = None) -> pd.DataFrame:
    """Rows as load_raw gives them: ``files`` maps a file name to its row count; labels alternate 0/1."""
    parts = []
    for name, n in files.items():
        has = labeled if isinstance(labeled, bool) else name in labeled
        part = pd.DataFrame({"source": name, "id": [f"{name}:{i}" for i in range(n)],
                             "text": [f"{name} text {i}" for i in range(n)],
                             "label": pd.array([i % 2 if has else pd.NA for i in range(n)], dtype="Int64")})
        for column, values in (extra or {}).get(name, {}).items():
            part[column] = values
        parts.append(part)
    return pd.concat(parts, ignore_index=True)


def _refusal(frame, settings: SplitSettings | None = None) -> str:
    with pytest.raises(DataError) as caught:
        split_roles(frame, DATA, settings or SplitSettings())
    return str(caught.value)


# --- labels and typing -------------------------------------------------------------------------------------

def test_labels_are_class_names_or_whole_indices_below_the_cardinality() -> None:
    column = pd.Series(["pos", " neg ", "1", 0, 1.0, "0.0", None, pd.NA], dtype="object")
    parsed = _labels("f.csv", column, DATA)
    assert str(parsed.dtype) == "Int64"
    assert parsed.tolist()[:6] == [1, 0, 1, 0, 1, 0] and parsed.isna().tolist()[6:] == [True, True]


@pytest.mark.parametrize("bad", ["2", 2, -1, "-1", 1.5, "eggs", "Pos"])
def test_anything_else_is_refused_with_its_row_and_the_fix(bad) -> None:
    column = pd.Series(["neg", bad, "pos"], dtype="object")
    with pytest.raises(DataError) as caught:
        _labels("f.csv", column, DATA)
    assert str(caught.value) == (
        "f.csv: column 'label' must hold a class name from data.classes ['neg', 'pos'] or its index 0..1; "
        f"found ['{bad}'] (rows [3]). Fix the labels or list every class in data.classes.")


def test_labels_stay_on_the_rows_they_came_from() -> None:
    parsed = _labels("f.csv", pd.Series(["pos", None, "neg"], index=[7, 3, 12], dtype="object"), DATA)
    assert parsed.index.tolist() == [7, 3, 12] and parsed.loc[7] == 1 and parsed.loc[12] == 0
    assert pd.isna(parsed.loc[3])


def test_the_label_refusal_shows_the_first_three_bad_rows_counted_from_the_header() -> None:
    column = pd.Series(["x1", "neg", "x2", "x3", "pos", "x4"], dtype="object")
    with pytest.raises(DataError, match=r"found \['x1', 'x2', 'x3'\] \(rows \[2, 4, 5\]\)"):
        _labels("f.csv", column, DATA)


def _raw(frame: pd.DataFrame, name: str = "a.csv") -> RawFile:
    return RawFile(uri=f"s3://bucket/{name}", name=name, sha256="0" * 64, frame=frame)


def test_typing_makes_ids_and_text_strings_adds_the_source_first_and_an_empty_label() -> None:
    typed = _typed(_raw(pd.DataFrame({"id": [7, 8], "text": [1.5, "b"], "part": [1, 2]})),
                   DATA.model_copy(update={"role_column": "part"}))
    assert list(typed.columns[:1]) == ["source"] and typed["source"].tolist() == ["a.csv", "a.csv"]
    assert typed["id"].tolist() == ["7", "8"] and str(typed["id"].dtype) == "string"
    assert typed["text"].tolist() == ["1.5", "b"] and str(typed["text"].dtype) == "string"
    assert str(typed["part"].dtype) == "string" and typed["part"].tolist() == ["1", "2"]
    assert str(typed["label"].dtype) == "Int64" and typed["label"].isna().all()
    labeled = _typed(_raw(pd.DataFrame({"id": [1], "text": ["t"], "label": ["pos"], "part": [3]})), DATA)
    assert labeled["label"].tolist() == [1] and labeled["part"].tolist() == [3]  # no role column: untouched
    # a file without the role column is typed as it is (assign_roles names the missing column)
    plain = _typed(_raw(pd.DataFrame({"id": [1], "text": ["t"]})), DATA.model_copy(update={"role_column": "part"}))
    assert list(plain.columns) == ["source", "id", "text", "label"]


def test_missing_id_and_text_columns_are_both_named_with_their_settings() -> None:
    with pytest.raises(DataError) as caught:
        _typed(_raw(pd.DataFrame({"body": ["x"]})), DATA)
    assert str(caught.value) == (
        "s3://bucket/a.csv: missing column(s) ['id', 'text']; the file has ['body']. Set data.id_column and "
        "data.text_column in the config to the file's column name(s) (data.id_column: null if the data has no id "
        "column).")


# --- fingerprint and file names ----------------------------------------------------------------------------

def test_the_fingerprint_is_one_hash_over_sorted_name_and_content_hash_pairs() -> None:
    one = fingerprint({"b.csv": "22", "a.csv": "11"})
    assert one == fingerprint({"a.csv": "11", "b.csv": "22"})  # the order files were read in does not count
    assert len(one) == 64 and int(one, 16) >= 0
    assert one != fingerprint({"a.csv": "22", "b.csv": "11"})  # the same contents under swapped names
    assert one != fingerprint({"a.csv": "11"})
    assert fingerprint({"ab": "c"}) != fingerprint({"a": "bc"})  # names and hashes cannot run together
    assert fingerprint({}) == hashlib.sha256().hexdigest()


@pytest.mark.parametrize(("name", "role"), [
    ("train.csv", "train"), ("TRAIN_part2.parquet", "train"), ("dev.csv", "dev"), ("developers.csv", "dev"),
    ("valid.csv", "valid"), ("Validation-set.csv", "valid"), ("test.jsonl", "test"), ("my_train.csv", None),
    ("a.csv", None), ("tes.csv", None),
])
def test_a_role_word_must_lead_the_file_name(name, role) -> None:
    assert file_role(name) == role


# --- roles: precedence and origins -------------------------------------------------------------------------

def test_globs_then_the_role_column_then_the_file_name() -> None:
    frame = _frame({"train_x.csv": 4, "b.csv": 3, "bx.csv": 1, "test_y.csv": 2, "dev_z.csv": 1, "plain.csv": 1},
                   extra={"train_x.csv": {"part": ["Validation", " Test ", "", None]},
                          "b.csv": {"part": ["dev", "validation", None]}, "bx.csv": {"part": ["train"]},
                          "test_y.csv": {"part": ["train", None]}, "dev_z.csv": {"part": ["valid"]},
                          "plain.csv": {"part": [None]}})
    frame["part"] = frame["part"].astype("string")
    data = DATA.model_copy(update={"role_column": "part"})
    roles, origins = assign_roles(frame, data, SplitSettings(roles={"test": ("b.csv",), "valid": ("b*.csv",)}))
    # b.csv: the first glob wins (the second matches it too); the column is not asked where a glob matched;
    # a file name gives a role only to rows still without one (dev_z.csv has none left, plain.csv no role word)
    assert roles.tolist() == ["valid", "test", "train", "train", "test", "test", "test", "valid", "train", "test",
                              "valid", None]
    assert origins == {"test": {"split.roles test=b.csv", "column part", "file test_y.csv"},
                       "valid": {"split.roles valid=b*.csv", "column part"},
                       "train": {"column part", "file train_x.csv"}}


def test_roles_follow_the_frames_own_row_labels() -> None:
    """A frame filtered or re-indexed by the caller: each role lands on its own row, not on a position."""
    frame = _frame({"a.csv": 2, "test.csv": 2, "dev.csv": 1}).iloc[::-1]
    frame.index = [40, 30, 20, 10, 0]
    roles, _ = assign_roles(frame, DATA, SplitSettings(roles={"valid": ("a.csv",)}))
    assert roles.index.tolist() == [40, 30, 20, 10, 0]
    assert roles.tolist() == ["dev", "test", "test", "valid", "valid"]


def test_a_glob_that_matches_no_file_is_refused() -> None:
    frame = _frame({"a.csv": 2, "b.csv": 2})
    with pytest.raises(DataError) as caught:
        assign_roles(frame, DATA, SplitSettings(roles={"dev": ("data/a.csv", "c*")}))
    assert str(caught.value) == ("split.roles.dev = ['data/a.csv', 'c*'] matches no file; the files are "
                                 "['a.csv', 'b.csv']. Fix the glob (it matches file names, not paths).")


def test_a_glob_whose_files_are_all_taken_is_refused() -> None:
    frame = _frame({"a.csv": 2})
    with pytest.raises(DataError, match=r"split.roles.valid = \['a.csv'\] matches no file"):
        assign_roles(frame, DATA, SplitSettings(roles={"test": ("a.csv",), "valid": ("a.csv",)}))


def test_an_absent_role_column_is_refused() -> None:
    with pytest.raises(DataError) as caught:
        assign_roles(_frame({"a.csv": 1}), DATA.model_copy(update={"role_column": "part"}), SplitSettings())
    assert str(caught.value) == ("data.role_column 'part' is not a column of the data; the columns are "
                                 "['id', 'text', 'label']. Fix the name or remove data.role_column.")


def test_unknown_role_values_are_listed_sorted_five_at_most() -> None:
    frame = _frame({"a.csv": 7}, extra={"a.csv": {"part": ["g", "f", "e", "d", "c", "b", "train"]}})
    frame["part"] = frame["part"].astype("string")
    with pytest.raises(DataError) as caught:
        assign_roles(frame, DATA.model_copy(update={"role_column": "part"}), SplitSettings())
    assert str(caught.value) == ("column 'part' (data.role_column) holds ['b', 'c', 'd', 'e', 'f']; allowed: "
                                 "train, dev, valid, test or empty (pooled). Fix those values.")


# --- split_roles -------------------------------------------------------------------------------------------

def test_given_roles_are_kept_and_train_labels_hidden_except_on_dev_rows() -> None:
    frame = _frame({"train.csv": 6, "pool_a.csv": 2, "pool_b.csv": 1, "dev.csv": 3, "valid.csv": 2, "test.csv": 4})
    result = split_roles(frame, DATA, SplitSettings())
    out = result.frame
    assert out.index.tolist() == list(range(18))
    assert out.groupby("source")["split"].unique().map(list).to_dict() == {
        "dev.csv": ["train"], "pool_a.csv": ["train"], "pool_b.csv": ["train"], "test.csv": ["test"],
        "train.csv": ["train"], "valid.csv": ["valid"]}
    assert out.loc[out.dev, "source"].unique().tolist() == ["dev.csv"]
    assert out.loc[~out.dev & (out.split == "train"), "label"].isna().all()
    assert out.loc[out.dev | (out.split != "train"), "label"].notna().all()
    assert result.roles == {"train": {"rows": 9, "origin": "file train.csv; pooled: pool_a.csv, pool_b.csv"},
                            "dev": {"rows": 3, "origin": "file dev.csv"},
                            "valid": {"rows": 2, "origin": "file valid.csv"},
                            "test": {"rows": 4, "origin": "file test.csv"}}
    assert result.dropped == [] and result.warnings == []
    assert list(out.columns) == ["source", "id", "text", "label", "split", "dev"]
    assert "split" not in frame.columns  # the caller's frame is left alone


@pytest.mark.parametrize("role", ["valid", "test", "dev"])
def test_a_gold_role_without_labels_is_refused(role) -> None:
    files = {"train.csv": 2, "valid.csv": 2, "test.csv": 2, "dev.csv": 2}
    frame = _frame(files, labeled=set(files) - {f"{role}.csv"})
    frame.loc[frame.source == f"{role}.csv", "label"] = pd.array([pd.NA, 1], dtype="Int64")  # one of two
    assert _refusal(frame) == (
        f"['{role}.csv']: 1 {role} row(s) lack a gold label in column 'label' ({role} rows are gold); label them, "
        "set data.label_column, or give the file another role (a train file needs no labels).")


def test_unlabeled_train_rows_are_fine() -> None:
    frame = _frame({"train.csv": 3, "valid.csv": 1, "test.csv": 1}, labeled={"valid.csv", "test.csv"})
    assert split_roles(frame, DATA, SplitSettings(dev_size=0)).roles["train"]["rows"] == 3


@pytest.mark.parametrize(("files", "message"), [
    ({"train.csv": 3}, "no valid and no test rows: add a labeled file whose name starts with valid / test (e.g. "
     "valid.csv), map files with split.roles (labelgate init --split valid=GLOB), name a role column "
     "(data.role_column), or list labeled files in split.holdout_sources to split them."),
    ({"train.csv": 3, "valid.csv": 1}, "no test rows: add a labeled file whose name starts with test (e.g. "
     "test.csv), map files with split.roles (labelgate init --split test=GLOB), name a role column "
     "(data.role_column), or list labeled files in split.holdout_sources to split them."),
    ({"valid.csv": 1, "test.csv": 1}, "every file is valid or test data (or a holdout source): nothing is left "
     "to train on"),
])
def test_missing_roles_are_refused_with_the_fix(files, message) -> None:
    assert _refusal(_frame(files)) == message


def test_a_dev_file_alone_is_enough_to_train_on() -> None:
    result = split_roles(_frame({"dev.csv": 4, "valid.csv": 1, "test.csv": 1}), DATA, SplitSettings())
    assert result.roles["dev"]["rows"] == 4 and result.roles["train"] == {"rows": 0, "origin": "-"}


def test_the_dev_sample_takes_only_labeled_train_rows_and_at_most_dev_size() -> None:
    frame = _frame({"a.csv": 6, "b.csv": 5, "valid.csv": 2, "test.csv": 2}, labeled={"a.csv", "valid.csv", "test.csv"})
    for dev_size, expected in ((4, 4), (6, 6), (50, 6)):
        result = split_roles(frame, DATA, SplitSettings(dev_size=dev_size, seed=dev_size))
        out = result.frame
        assert out.dev.sum() == expected and set(out.loc[out.dev, "source"]) == {"a.csv"}
        assert out.loc[out.dev, "split"].eq("train").all() and out.loc[out.dev, "label"].notna().all()
        assert result.roles["dev"] == {"rows": expected,
                                       "origin": f"sampled: {expected} labeled train rows (split.dev_size)"}
        assert result.warnings == []
    one = split_roles(frame, DATA, SplitSettings(dev_size=3, seed=1)).frame
    other = split_roles(frame, DATA, SplitSettings(dev_size=3, seed=2)).frame
    assert one.dev.sum() == other.dev.sum() == 3 and not one.dev.equals(other.dev)  # the seed draws the sample


@pytest.mark.parametrize(("dev_size", "labeled"), [(0, True), (5, False)])
def test_without_a_dev_sample_a_warning_says_what_is_lost(dev_size, labeled) -> None:
    frame = _frame({"a.csv": 4, "valid.csv": 2, "test.csv": 2},
                   labeled=True if labeled else {"valid.csv", "test.csv"})
    result = split_roles(frame, DATA, SplitSettings(dev_size=dev_size))
    assert result.frame.dev.sum() == 0 and result.roles["dev"] == {"rows": 0, "origin": "-"}
    assert result.warnings == [
        "no labeled dev rows: LF accuracies, the label model's dev selection and its dev accuracy are skipped. "
        "Add a labeled dev file (dev.csv: id, text, label; a few hundred rows) or map one with split.roles.dev."]


# --- holdout sources ---------------------------------------------------------------------------------------

def test_a_holdout_of_exactly_the_needed_size_drops_nothing() -> None:
    frame = _frame({"a.csv": 6, "hold.csv": 8})
    result = split_roles(frame, DATA, SplitSettings(holdout_sources=("hold.csv",), valid_size=4, test_size=4))
    out = result.frame
    assert result.dropped == [] and len(out) == 14
    for role in ("valid", "test"):
        part = out[out.split == role]
        assert len(part) == 4 and set(part.source) == {"hold.csv"} and part.label.sum() == 2  # stratified
        assert result.roles[role] == {"rows": 4, "origin": f"holdout: hold.csv ({4} rows, stratified)"}
    assert result.roles["train"]["origin"] == "pooled: a.csv"


@pytest.mark.parametrize("seed", range(5))
def test_valid_and_test_keep_the_holdouts_class_balance(seed) -> None:
    frame = _frame({"a.csv": 4, "hold.csv": 40})
    frame.loc[frame.source == "hold.csv", "label"] = pd.array([1] * 10 + [0] * 30, dtype="Int64")
    out = split_roles(frame, DATA, SplitSettings(holdout_sources=("hold.csv",), valid_size=20, test_size=20,
                                                 seed=seed)).frame
    assert out.loc[out.split == "valid", "label"].sum() == 5 and out.loc[out.split == "test", "label"].sum() == 5


@pytest.mark.parametrize("seed", range(6))
def test_a_record_written_twice_in_a_holdout_file_lands_in_one_role(seed) -> None:
    """Same-id rows of a holdout file stay on one side of the valid/test split (the model learns from valid), with
    each role's size and class counts as the stratified split gave them."""
    frame = _frame({"a.csv": 4, "hold.csv": 40})
    hold = frame.source == "hold.csv"
    ids = [f"dup{i % 8}" if i < 16 else f"h{i}" for i in range(40)]  # 8 ids written twice (rows i and i + 8)
    frame.loc[hold, "id"] = ids
    frame.loc[hold, "label"] = pd.array([i % 2 for i in range(40)], dtype="Int64")  # a pair shares its label
    result = split_roles(frame, DATA, SplitSettings(holdout_sources=("hold.csv",), valid_size=20, test_size=20,
                                                    seed=seed))
    out = result.frame
    valid, test = out[out.split == "valid"], out[out.split == "test"]
    assert len(valid) == 20 and len(test) == 20
    assert valid.label.sum() == 10 and test.label.sum() == 10
    assert set(valid.id) & set(test.id) == set()
    assert not any("share" in w and "id(s)" in w for w in result.warnings)


def test_holdout_rows_beyond_the_sizes_are_dropped_and_counted() -> None:
    frame = _frame({"a.csv": 6, "hold.csv": 9, "hold2.csv": 1})
    result = split_roles(frame, DATA, SplitSettings(holdout_sources=("hold.csv", "hold2.csv"), valid_size=4,
                                                    test_size=2))
    assert result.dropped == [{"rows": 4, "files": "hold.csv, hold2.csv",
                               "reason": "holdout rows beyond split.valid_size + split.test_size = 6"}]
    out = result.frame
    assert len(out) == 12 and (out.split == "valid").sum() == 4 and (out.split == "test").sum() == 2
    again = split_roles(frame, DATA, SplitSettings(holdout_sources=("hold.csv", "hold2.csv"), valid_size=4,
                                                   test_size=2)).frame
    pd.testing.assert_frame_equal(out, again)  # the seed decides which rows are kept and where they go


def test_a_holdout_fills_only_the_missing_role() -> None:
    frame = _frame({"a.csv": 6, "hold.csv": 5, "valid.csv": 2})
    result = split_roles(frame, DATA, SplitSettings(holdout_sources=("hold.csv",), valid_size=9, test_size=3))
    out = result.frame
    assert set(out.loc[out.split == "test", "source"]) == {"hold.csv"} and (out.split == "test").sum() == 3
    assert result.dropped == [{"rows": 2, "files": "hold.csv", "reason": "holdout rows beyond split.test_size = 3"}]
    assert result.roles["test"]["origin"] == "holdout: hold.csv (3 rows, stratified)"
    assert result.roles["valid"] == {"rows": 2, "origin": "file valid.csv"}


def test_a_holdout_one_row_short_is_refused() -> None:
    frame = _frame({"a.csv": 6, "hold.csv": 7})
    assert _refusal(frame, SplitSettings(holdout_sources=("hold.csv",), valid_size=4, test_size=4)) == (
        "the holdout files (hold.csv) have 7 rows; split.valid_size + split.test_size need 8: lower them or add "
        "labeled rows")
    frame = _frame({"a.csv": 6, "hold.csv": 2, "test.csv": 2})
    assert _refusal(frame, SplitSettings(holdout_sources=("hold.csv",), valid_size=3)) == (
        "the holdout files (hold.csv) have 2 rows; split.valid_size need 3: lower them or add labeled rows")


def test_holdout_refusals() -> None:
    frame = _frame({"a.csv": 6, "hold.csv": 8}, labeled={"a.csv"})
    assert _refusal(frame, SplitSettings(holdout_sources=("hold.csv",), valid_size=4, test_size=4)) == (
        "the holdout files (hold.csv) need a gold 'label' on every row (valid/test are gold)")
    frame = _frame({"a.csv": 6, "hold.csv": 8})
    assert _refusal(frame, SplitSettings(holdout_sources=("hold.csv", "x.csv", "w.csv"))) == (
        "split.holdout_sources names file(s) not in the data: ['w.csv', 'x.csv']; found ['a.csv', 'hold.csv']")
    frame = _frame({"a.csv": 6, "hold.csv": 8, "valid.csv": 1, "test.csv": 1})
    assert _refusal(frame, SplitSettings(holdout_sources=("hold.csv",))) == (
        "split.holdout_sources ['hold.csv'] would give valid and test rows, but valid and test files are already "
        "given; remove split.holdout_sources.")


def test_a_holdout_file_with_a_role_is_not_pooled() -> None:
    """A holdout source that already has a role (here from its name) keeps it; with valid and test given
    there is then nothing to hold out, and no refusal."""
    frame = _frame({"train.csv": 4, "valid.csv": 2, "test.csv": 2})
    result = split_roles(frame, DATA, SplitSettings(holdout_sources=("test.csv",), dev_size=0))
    assert result.roles["test"] == {"rows": 2, "origin": "file test.csv"} and result.dropped == []


# --- gold rows that train also holds -----------------------------------------------------------------------


def _with_copies(test_texts: list[str], test_ids: list[str] | None = None) -> pd.DataFrame:
    frame = _frame({"train.csv": 80, "valid.csv": 40, "test.csv": len(test_texts)})
    test = frame["source"] == "test.csv"
    frame.loc[test, "text"] = test_texts
    if test_ids is not None:
        frame.loc[test, "id"] = test_ids
    return frame


def test_a_few_test_texts_also_in_train_are_noted_with_their_share_and_examples() -> None:
    texts = ["  TRAIN.CSV   text 3\ufeff", "train.csv text 4"] + [f"new {i}" for i in range(38)]  # 2 of 40: 5%
    result = split_roles(_with_copies(texts), DATA, SplitSettings())
    assert result.warnings == []
    assert result.notes == [
        "test: 2 of 40 row(s) (5.0%) have a text that train also has (e.g. 'train.csv text 3', 'train.csv text 4'); "
        "the model saw them while training, so test accuracy (the model gate's numbers) reads high by up to that "
        "share. If they are copies, remove them from test.csv."]


def test_a_test_set_copied_from_train_is_a_warning() -> None:
    texts = [f"train.csv text {i}" for i in range(10)] + [f"new {i}" for i in range(30)]  # 10 of 40: 25%
    result = split_roles(_with_copies(texts), DATA, SplitSettings())
    assert result.notes == []
    assert len(result.warnings) == 1 and result.warnings[0].startswith("test: 10 of 40 row(s) (25.0%)")
    one_less = split_roles(_with_copies(texts[1:] + ["new 99"]), DATA, SplitSettings())
    assert one_less.warnings == [] and one_less.notes[0].startswith("test: 9 of 40 row(s) (22.5%)")


def test_ids_shared_by_test_and_train_are_a_warning_naming_them() -> None:
    texts = [f"new {i}" for i in range(40)]
    ids = ["train.csv:7", "train.csv:8"] + [f"t{i}" for i in range(38)]
    result = split_roles(_with_copies(texts, ids), DATA, SplitSettings())
    assert result.notes == []
    assert result.warnings == [
        "test and train share 2 id(s) in column 'id' (e.g. 'train.csv:7', 'train.csv:8'): the same records in both "
        "roles make the test numbers read high; remove them from test.csv or from the train file(s)."]


def test_empty_texts_and_a_missing_id_column_are_not_overlaps() -> None:
    from labelgate.ingest.settings import DataSettings

    frame = _with_copies(["", " "] + [f"new {i}" for i in range(38)])
    frame.loc[frame["source"] == "train.csv", "text"] = ""
    no_ids = DataSettings(**{**DATA.model_dump(), "id_column": None})
    result = split_roles(frame.drop(columns=["id"]), no_ids, SplitSettings())
    assert result.warnings == [] and result.notes == []


def test_overlaps_are_found_in_valid_too_across_files_with_at_most_three_examples_cut_at_60_characters() -> None:
    long = "a long comment that goes on and on about the song, the video and the singer's voice"  # 84 characters
    frame = _frame({"train.csv": 80, "valid.csv": 40, "test-a.csv": 20, "test-b.csv": 20})
    frame.loc[frame["source"] == "train.csv", "text"] = [long, None, *(f"shared {i}" for i in range(5)),
                                                         *(f"train {i}" for i in range(73))]
    valid = frame["source"] == "valid.csv"
    frame.loc[valid, "text"] = [long.upper(), *(f"valid {i}" for i in range(39))]
    frame.loc[valid, "id"] = [f"train.csv:{i}" for i in range(5)] + [f"v{i}" for i in range(35)]
    frame.loc[frame["source"] == "test-a.csv", "text"] = [None, "shared 0", *(f"a {i}" for i in range(18))]
    frame.loc[frame["source"] == "test-b.csv", "text"] = [f"shared {i}" for i in range(1, 5)] + [
        f"b {i}" for i in range(16)]
    settings = SplitSettings(roles={"test": ("test-*.csv",)})
    result = split_roles(frame, DATA, settings)
    assert result.warnings == [
        "valid and train share 5 id(s) in column 'id' (e.g. 'train.csv:0', 'train.csv:1', 'train.csv:2'): the same "
        "records in both roles make the valid numbers read high; remove them from valid.csv or from the train "
        "file(s)."]
    assert result.notes == [
        f"valid: 1 of 40 row(s) (2.5%) have a text that train also has (e.g. {long[:60]!r}); the model saw them while "
        "training, so valid accuracy (the model search's choice) reads high by up to that share. If they are "
        "copies, remove them from valid.csv.",
        "test: 5 of 40 row(s) (12.5%) have a text that train also has (e.g. 'shared 0', 'shared 1', 'shared 2'); "
        "the model saw them while training, so test accuracy (the model gate's numbers) reads high by up to that "
        "share. If they are copies, remove them from test-a.csv, test-b.csv."]  # a missing text is no overlap


def test_test_rows_that_valid_holds_are_counted_too_since_the_model_learns_from_valid() -> None:
    """The refit trains the chosen model on the valid rows: a test set copied from valid is learned from."""
    frame = _frame({"train.csv": 80, "valid.csv": 40, "test.csv": 40})
    frame.loc[frame["source"] == "valid.csv", "text"] = [f"valid {i}" for i in range(40)]
    test = frame["source"] == "test.csv"
    frame.loc[test, "text"] = [f"VALID {i}" for i in range(12)] + [f"new {i}" for i in range(28)]  # 12 of 40: 30%
    frame.loc[test, "id"] = ["valid.csv:3"] + [f"t{i}" for i in range(39)]
    result = split_roles(frame, DATA, SplitSettings())
    assert result.notes == []
    assert result.warnings == [
        "test and valid share 1 id(s) in column 'id' (e.g. 'valid.csv:3'): the same records in both roles make the "
        "test numbers read high; remove them from test.csv or from the valid file(s).",
        "test: 12 of 40 row(s) (30.0%) have a text that valid also has (e.g. 'valid 0', 'valid 1', 'valid 2'); the "
        "model learns from the valid rows too (training.refit_valid_weight) and valid chose it, so test accuracy "
        "(the model gate's numbers) reads high by up to that share. If they are copies, remove them from test.csv."]
    # the same texts in valid and train only: valid's own check, nothing about test
    frame.loc[test, "text"] = [f"new {i}" for i in range(40)]
    frame.loc[test, "id"] = [f"t{i}" for i in range(40)]
    assert split_roles(frame, DATA, SplitSettings()).warnings == []


# --- column names, file kinds and small gold sets, exactly -------------------------------------------------


def test_reserved_columns_name_each_clash_and_exempt_only_a_split_role_column() -> None:
    from labelgate.ingest.dataset import reserved_columns

    assert reserved_columns(["id", "text"], None) is None
    assert reserved_columns(["split", "text"], "split") is None  # the role column: read before ingest writes split
    source = reserved_columns(["source", "text"], None)
    assert source == ("column(s) ['source'] have the name(s) of columns labelgate adds (source: the file name, split: "
                      "the row's role, dev: a gold train row); rename them in the file ('source' -> 'source_')")
    assert reserved_columns(["split"], None) == (
        "column(s) ['split'] have the name(s) of columns labelgate adds (source: the file name, split: the row's role, "
        "dev: a gold train row); rename them in the file ('split' -> 'split_'); or, if 'split' holds each row's role "
        "(train/dev/valid/test), set data.role_column: split")
    assert reserved_columns(["dev", "split"], "dev").startswith("column(s) ['split', 'dev'] ")  # only split is exempt


@pytest.mark.parametrize(("name", "expected"), [("train.csv", True), ("TRAIN.CSV.GZ", True), ("t.tsv", True),
                                                ("t.TSV.gz", True), ("t.jsonl", False), ("t.csv.parquet", False)])
def test_csv_and_tsv_files_are_told_apart_from_the_others(name: str, expected: bool) -> None:
    from labelgate.ingest.dataset import is_csv

    assert is_csv(name) is expected


def test_a_missing_id_column_suggests_null_and_a_missing_text_column_does_not(tmp_path) -> None:
    raw = RawFile(uri="u/train.csv", name="train.csv", sha256="0",
                  frame=pd.DataFrame({"id": ["1"], "Text ": ["a"]}))
    with pytest.raises(DataError) as caught:
        _typed(raw, DATA)
    assert str(caught.value) == ("u/train.csv: missing column(s) ['text']; the file has ['id', 'Text ']. Did you mean "
                                 "'Text ' for 'text'? Set data.text_column in the config to the file's column name(s).")
    no_id = RawFile(uri="u/train.csv", name="train.csv", sha256="0", frame=pd.DataFrame({"text": ["a"]}))
    with pytest.raises(DataError, match=r"Set data\.id_column in the config to the file's column name\(s\) "
                                        r"\(data\.id_column: null if the data has no id column\)\.$"):
        _typed(no_id, DATA)


def test_a_one_row_gold_set_is_noted() -> None:
    result = split_roles(_frame({"train.csv": 80, "dev.csv": 40, "valid.csv": 1, "test.csv": 40}), DATA,
                         SplitSettings())
    assert [n for n in result.notes if n.startswith("valid has only")] == [
        "valid has only 1 row(s) for the model search's choice: one row moves its accuracy by 100%; a few hundred "
        "labeled valid rows make it trustworthy."]


def test_the_holdout_split_is_the_same_every_time_for_a_seed_and_differs_for_another() -> None:
    frame = _frame({"train.csv": 50, "hold.csv": 200})

    def valid_ids(seed: int) -> list[str]:
        result = split_roles(frame, DATA, SplitSettings(holdout_sources=("hold.csv",), valid_size=40, test_size=60,
                                                        seed=seed))
        return sorted(result.frame.loc[result.frame["split"] == "valid", "id"])

    assert valid_ids(1) == valid_ids(1) and len(valid_ids(1)) == 40
    assert valid_ids(1) != valid_ids(2)
