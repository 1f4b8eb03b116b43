"""`labelgate init DIR --data PATH...`: profile a person's data and write a project folder that
`labelgate run --project DIR` runs: config.yaml, lfs.py, expectations.json, constraints.txt."""

from __future__ import annotations

import argparse
import json
import os
import re
from pathlib import Path

from labelgate.contract import DEV, ROLES, SOURCE, SPLIT
from labelgate.errors import ConfigError, DataError

FILES = ("config.yaml", "lfs.py", "expectations.json", "constraints.txt")


def register(subparsers: argparse._SubParsersAction) -> None:
    init = subparsers.add_parser(
        "init",
        help="profile your data and write a project folder (config, LF template, suite, constraints)",
        description="Profile the data (columns, types, text lengths, class shares on labeled rows, nulls, "
        "duplicates) and write DIR/config.yaml, DIR/lfs.py, DIR/expectations.json and DIR/constraints.txt. "
        "Then: labelgate lfs --project DIR, labelgate run --project DIR. See docs/own-data.md.",
    )
    init.add_argument("dir", help="the project folder to write (created if missing)")
    init.add_argument("--data", nargs="+", required=True, metavar="PATH",
                      help="data files or one folder/glob (CSV, Parquet, JSONL, optionally .gz)")
    init.add_argument("--text-column", required=True, help="the column holding the text")
    init.add_argument("--label-column", default="label", help="the gold label column (may be absent from train "
                      "files) [default: label]")
    init.add_argument("--id-column", default=None, help="a column naming each row [default: id if every file "
                      "has one, else none: ids are optional]")
    init.add_argument("--classes", default=None, help="class names in order, comma-separated (index = position); "
                      "default: the sorted labels found")
    init.add_argument("--split", action="append", default=[], metavar="ROLE=GLOB",
                      help=f"give files matching GLOB a role ({', '.join(ROLES)}); repeatable. Without it a file "
                      "whose name starts with a role word gets that role")
    init.add_argument("--model-name", default=None, help="registered model name [default: the folder's name]")
    init.add_argument("--encoding", default=None, help="the text encoding of CSV/TSV files, e.g. cp1252 (Excel on "
                      "Windows) or latin-1; written to the config as data.encoding [default: UTF-8]")
    init.add_argument("--force", action="store_true", help="overwrite existing project files")
    init.set_defaults(handler=_init)


def _init(args: argparse.Namespace) -> int:
    from labelgate.ingest.dataset import reserved_columns
    from labelgate.ingest.profile import profile, read_all

    project = Path(args.dir)
    existing = [name for name in FILES if (project / name).exists()]
    if existing and not args.force:
        raise ConfigError(f"{project}: {existing} already exist; pass --force to overwrite them")
    split_roles = _split_flags(args.split)
    data_uri = _data_uri(args.data, project)
    encoding = _encoding(args.encoding)
    tables = read_all(args.data, encoding)
    roles = _roles_by_file([name for name, _ in tables], split_roles)
    role_column = _role_column(tables)
    for name, frame in tables:
        clash = reserved_columns([str(c) for c in frame.columns], role_column)
        if clash:
            raise DataError(f"{name}: {clash}")
    ident = args.id_column
    if ident is None:  # not named: a column called id if every file has one; none is needed
        ident = "id" if all("id" in frame.columns for _, frame in tables) else None
    found = profile(tables, text_column=args.text_column, label_column=args.label_column,
                    id_column=ident, roles=roles)
    classes = _classes(args.classes, found.class_counts, args.label_column, found.label_first_seen)
    _by_class_name(found, classes)
    holdout = None if role_column else _holdout(found)
    model_name = args.model_name or re.sub(r"[^a-z0-9-]+", "-", project.resolve().name.lower()).strip("-") or "model"
    project.mkdir(parents=True, exist_ok=True)
    columns = [c for c in found.columns]
    (project / "config.yaml").write_text(_config(
        data_uri=data_uri, model_name=model_name, text=args.text_column, label=args.label_column,
        ident=ident, classes=classes, split_roles=split_roles, found=found, role_column=role_column,
        holdout=holdout, encoding=encoding), encoding="utf-8")
    (project / "lfs.py").write_text(_lfs(args.text_column, classes, found.keywords), encoding="utf-8")
    (project / "expectations.json").write_text(json.dumps(_suite(
        columns=columns, text=args.text_column, label=args.label_column, ident=ident,
        classes=classes, found=found), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    (project / "constraints.txt").write_text(_constraints(ident, args.text_column, args.label_column, found),
                                             encoding="utf-8")
    print(_report(project, found, classes, model_name, args.text_column, ident, role_column, holdout))
    return 0


def _encoding(flag: str | None) -> str | None:
    """``--encoding`` checked as the config's ``data.encoding`` is (its canonical name), or None."""
    from pydantic import ValidationError

    from labelgate.ingest.settings import DataSettings

    if flag is None:
        return None
    try:
        return DataSettings(encoding=flag).encoding
    except ValidationError as exc:
        raise ConfigError(f"--encoding: {exc.errors()[0]['msg'].removeprefix('Value error, ')}") from None


def _role_column(tables) -> str | None:
    """``split`` when a column of that name holds only role words (a Hugging Face export's train/validation/test):
    it becomes data.role_column; else None."""
    from labelgate.ingest.dataset import ROLE_WORDS

    if not any(SPLIT in frame.columns for _, frame in tables):
        return None
    values = {str(v).strip().lower() for _, frame in tables if SPLIT in frame.columns
              for v in frame[SPLIT].dropna().tolist() if str(v).strip()}
    return SPLIT if values and values <= set(ROLE_WORDS) else None


def _holdout(found) -> dict | None:
    """With no valid or no test file but labeled files without a role (labeled.csv beside unlabeled.csv): those
    files become split.holdout_sources, sized to fit them (40% valid / 60% test when both are missing)."""
    roles = {info["role"] for info in found.files.values()}
    needed = [r for r in ("valid", "test") if r not in roles]
    files = [name for name, info in found.files.items()  # holdout rows are gold: every row labeled
             if info["role"] == "pooled" and info["labeled"] and info["labeled_rows"] == info["rows"]]
    if not needed or not files:
        return None
    rows = sum(found.files[name]["rows"] for name in files)
    sizes = {"valid": 120, "test": 250}
    if sum(sizes[r] for r in needed) > rows:
        if len(needed) == 2:
            sizes = {"valid": max(1, rows * 2 // 5), "test": max(1, rows - max(1, rows * 2 // 5))}
        else:
            sizes[needed[0]] = rows
    return {"files": files, "needed": needed, **sizes}


def _split_flags(flags: list[str]) -> dict[str, list[str]]:
    roles: dict[str, list[str]] = {}
    for flag in flags:
        role, sep, glob = flag.partition("=")
        if not sep or role not in ROLES or not glob:
            raise ConfigError(f"--split {flag!r}: write ROLE=GLOB with ROLE one of {', '.join(ROLES)}, "
                              "e.g. --split test=holdout*.csv")
        roles.setdefault(role, []).append(glob)
    return roles


def _roles_by_file(names: list[str], split_roles: dict[str, list[str]]) -> dict[str, str]:
    import fnmatch

    return {name: role for name in names for role, globs in reversed(split_roles.items())
            if any(fnmatch.fnmatch(name, g) for g in globs)}


def _data_uri(paths: list[str], project: Path) -> str:
    """One data URI for the config, relative to the project folder: the path itself, or the common folder
    of several files (which must hold no other data files)."""
    from labelgate.ingest.readers import list_data_files

    if len(paths) == 1:
        target = paths[0]
    else:
        folders = {str(Path(p).resolve().parent) for p in paths}
        if len(folders) != 1:
            raise DataError(f"--data files lie in {len(folders)} folders {sorted(folders)}; put them in one folder "
                            "and pass the folder")
        target = folders.pop()
        extra = sorted(set(map(os.path.abspath, list_data_files(target))) - set(map(os.path.abspath, paths)))
        if extra:
            raise DataError(f"{target} holds other data files {[Path(e).name for e in extra]} that a run would read "
                            "too; pass the folder, or move the files you want into a folder of their own")
    if "://" in target:
        return target
    return os.path.relpath(os.path.abspath(target), os.path.abspath(project))


def _classes(flag: str | None, counts: dict[str, int], label: str, seen: dict[str, str]) -> list[str]:
    def at(values: list[str]) -> str:
        return ", ".join(f"{v!r} ({seen.get(v, '?')})" for v in values)

    variants: dict[str, list[str]] = {}
    for name in counts:
        variants.setdefault(name.casefold(), []).append(name)
    clashes = [sorted(v) for v in variants.values() if len(v) > 1]
    if clashes:
        raise DataError(f"labels in column '{label}' differ only in upper/lower case: "
                        f"{'; '.join(at(c) for c in clashes)}; labels are matched exactly, so these would be separate "
                        "classes. Write each class one way in every file.")
    if flag:
        classes = [c.strip() for c in flag.split(",") if c.strip()]
        unknown = sorted(set(counts) - set(classes) - {str(i) for i in range(len(classes))})
        if unknown:
            raise DataError(f"labels {unknown} in column '{label}' are not in --classes {classes}; add them")
    else:
        numbers = sorted(c for c in counts if c.lstrip("-").isdigit())
        if numbers and len(numbers) < len(counts):
            raise DataError(
                f"labels in column '{label}' mix class names and numbers: {at(numbers)}. A number is read as a "
                "class index, so the classes' order must be known: write the class name there, or pass "
                f"--classes {','.join(c for c in sorted(counts) if c not in numbers)} (index = position).")
        # Numbers sort as numbers (2 before 10); names alphabetically.
        classes = sorted(counts, key=lambda c: (0, int(c), "") if c.lstrip("-").isdigit() else (1, 0, c))
        if not classes:
            raise DataError(f"no labeled rows in column '{label}' (--label-column): pass --classes a,b,... so that "
                            "labelgate knows the classes, and give labeled valid/test files")
    if len(classes) < 2:
        raise DataError(f"at least two classes are needed; found {classes}")
    return classes


def _by_class_name(found, classes: list[str]) -> None:
    """Key the profile's class counts and keywords by class name, reading each raw label as ingest will (a class
    name first, else an index): with ``--classes low,mid,high`` and files holding 0/1/2, label ``0`` is ``low``."""
    from labelgate.ingest.profile import KEYWORDS_PER_CLASS

    def name(raw: str) -> str:
        if raw in classes:
            return raw
        return classes[int(raw)] if raw.isdigit() and int(raw) < len(classes) else raw

    counts: dict[str, int] = {}
    keywords: dict[str, list[str]] = {}
    for raw, n in found.class_counts.items():
        counts[name(raw)] = counts.get(name(raw), 0) + n
    for raw, words in found.keywords.items():
        merged = keywords.setdefault(name(raw), [])
        merged += [w for w in words if w not in merged]
    found.class_counts = counts
    found.keywords = {c: words[:KEYWORDS_PER_CLASS] for c, words in keywords.items()}


def _number_class_notes(classes: list[str]) -> list[str]:
    """Notes for classes named by numbers: ``1..k`` (an LF's number is an index, so ``1`` is the second class)
    and ``0..k-1`` (reports, LF analysis and served predictions then say ``0``, ``1``, ...)."""
    if not all(c.lstrip("-").isdigit() for c in classes):
        return []
    k = len(classes)
    if classes == [str(i) for i in range(k)]:
        names = "NAME0,NAME1" if k == 2 else f"NAME0,...,NAME{k - 1}"
        return [f"note: the classes are numbers; --classes {names} (in index order) names them in "
                "reports, the LF analysis and served predictions (the files may keep the numbers)"]
    shift = next((i for i, c in enumerate(classes) if c != str(i)), 0)
    return [f"note: the labels are numbers other than 0..{k - 1}, so class '{classes[shift]}' has index {shift}: an LF "
            f"returning the number {classes[shift]} votes class "
            + (f"'{classes[int(classes[shift])]}'" if 0 <= int(classes[shift]) < k else "index out of range")
            + "; in lfs.py return the constants (C_...) or the class name as text "
            + f"(label=\"{classes[shift]}\")"]


def _positive(classes: list[str], counts: dict[str, int]) -> str | None:
    """A binary task's positive class: the rarer one on the labeled rows (fraud among ok, not ok), else the
    second class (the default); None for multi-class."""
    if len(classes) != 2:
        return None
    first, second = (counts.get(c, 0) for c in classes)
    return classes[0] if first < second else classes[1]


def _yaml_list(values: list[str]) -> str:
    return "[" + ", ".join(json.dumps(v, ensure_ascii=False) for v in values) + "]"  # YAML flow list, as typed


def _config(*, data_uri: str, model_name: str, text: str, label: str, ident: str | None, classes: list[str],
            split_roles: dict[str, list[str]], found, role_column: str | None = None,
            holdout: dict | None = None, encoding: str | None = None) -> str:
    holdout = holdout or {"files": [], "valid": 120, "test": 250}
    roles = "\n".join(f"    {role}: {_yaml_list(globs)}" for role, globs in split_roles.items())
    shares = ", ".join(f"{c} {found.class_counts.get(c, 0) / max(found.labeled_rows, 1):.0%}" for c in classes)
    rare = _positive(classes, found.class_counts)
    positive = ((f"  positive_class: {json.dumps(rare, ensure_ascii=False)}   # binary: the class precision/recall/F1 are about; init chose "
                 f"the rarer class in your labeled rows ({shares})" if rare != classes[1] else
                 f"  # positive_class: {classes[1]}   # binary only: the class precision/recall/F1 are about "
                 f"(default: the second class, {classes[1]})") if len(classes) == 2 else
                "  # positive_class: (binary only; multi-class metrics are macro averages over the classes)")
    return f"""# labelgate project, written by `labelgate init`. Paths are relative to this file.
# Run it:  labelgate run --project {{this folder}}   (flags still override; see docs/own-data.md)
pipeline:
  data_uri: {data_uri}
  lf_module: lfs.py
  suite_path: expectations.json
  constraints_path: constraints.txt
  model_name: {model_name}
  # The model gate: minimum gold test accuracy and F1, and how much worse than the champion a new model may be.
  min_test_accuracy: 0.85
  min_test_f1: 0.85
  champion_tolerance: -0.02
  # registry_uri: sqlite:///mlruns/mlflow.db   # MLflow tracking URI (relative to where you run labelgate)
  # seed: 0
data:
  id_column: {ident or "null               # the files have no id column; none is needed"}
  text_column: {text}
  label_column: {label}        # train files need not have it; valid, test and dev rows must
  classes: {_yaml_list(classes)}   # index = position; labels may be these names or their indices
  {f"role_column: {role_column}          # holds each row's role (train/dev/valid/test; empty: pooled)"
   if role_column else "# role_column: role          # a column holding train/dev/valid/test per row (empty: pooled)"}
  {f"encoding: {encoding}            # the text encoding of the CSV/TSV files (init --encoding)" if encoding else
   "# encoding: cp1252          # the CSV/TSV files' text encoding when not UTF-8 (e.g. Excel on Windows: cp1252)"}
split:
  # Roles: split.roles (file-name globs) > data.role_column > a file name starting with train/dev/valid/test.
{"  roles:" + chr(10) + roles if roles else "  roles: {}"}
  # Files without a role are train, unless listed here: then they are split into the missing valid/test.
  holdout_sources: {_yaml_list(holdout["files"])}
  valid_size: {holdout["valid"]:<18} # rows taken from holdout_sources for valid (only when no valid file is given)
  test_size: {holdout["test"]:<19} # ... and for test
  dev_size: 100                # labeled train rows kept as dev when no dev file is given
  seed: 123
# Data repair (HoloClean/AimNet-style, labelgate.repair): detects and repairs dirty cells of tabular columns
# before labeling. Without this section the run's repair step is off and passes the table on unchanged.
# repair:
#   threshold: 0.8             # a repair is applied when its probability reaches this (1.0: report only)
#   exclude_columns: [{", ".join(c for c in (ident, text) if c)}]
labeling:
  label_model: auto            # auto: moments, with dev labels choosing a clearly better candidate
  class_balance: null          # null estimates it; labeled class shares seen by init: {shares}
  # max_iter: 100
  # fault_tolerant: false      # true: an LF that raises abstains and is counted
  # select_on_dev: true
validation:
  # The data gate: drift against the champion's profile (none on the first run) and what the profile covers.
  length_columns: [{text}]
  numeric_columns: []
  categorical_columns: [{label}]
  # max_js_distance: 0.2
  # max_linf_distance: 0.2
  # max_class_balance_shift: 0.15
  # drift_severity: critical   # critical blocks the run, warning only reports
  # constraint_severity: critical
training:
  family: auto                 # searches hashed_linear, hashed_embedding and minilm, scored on valid; or name one
  # search_budget_s: 90        # CPU seconds for the search (embedding the texts once included)
  # search_trials: 8
  # search_switch_z: 2.0       # leave hashed_linear only for a model this far ahead on valid (sign test; 0: any lead)
  # epochs: 80
  # learning_rate: 0.005
  # dev_weight: 0.0            # > 0: also learn from the gold dev rows
  # refit_valid_weight: 1.0    # after valid has chosen, train the chosen model again with the valid rows (0: off)
  # min_confidence: 0.0
evaluation:
  primary_metric: accuracy     # bootstrapped against the champion (accuracy or f1)
{positive}
  # length_buckets: [40, 80, 160]
serving: {{}}
"""


def _constant(name: str, taken: set[str]) -> str:
    """A Python name for a class: letters of any script are valid in identifiers (``ДОСТАВКА``)."""
    constant = re.sub(r"\W+", "_", name.upper()).strip("_") or "CLASS"
    constant = f"C_{constant}" if not constant.isidentifier() else constant
    while constant in taken:
        constant += "_"
    taken.add(constant)
    return constant


def _lfs(text: str, classes: list[str], keywords: dict[str, list[str]]) -> str:
    taken: set[str] = set()
    names = [_constant(c, taken) for c in classes]
    constants = "\n".join(f"{n} = {i}  # {c!r}" for i, (n, c) in enumerate(zip(names, classes, strict=True)))
    keyword_lines = []
    lf_names: set[str] = set()
    for constant, cls in zip(names, classes, strict=True):
        words = keywords.get(cls) or [f"todo-{cls}-word"]
        lf = _constant(cls, lf_names).lower()
        keyword_lines.append(f"keyword_{lf} = keyword_lf(\"keyword_{lf}\", {words!r}, label={constant}, column=TEXT)")
    first = names[0]
    import keyword

    # x.body reads well; a column name that is no Python name ("review text") is read as x[TEXT].
    field = f"x.{text}" if text.isidentifier() and not keyword.iskeyword(text) else "x[TEXT]"
    return f'''"""Labeling functions for this project (written by `labelgate init`; make them your own).

An LF votes a class index (the constants below, in data.classes order), a class name from data.classes
(label="{classes[0]}") or ABSTAIN (-1). Kinds:
keyword_lf / regex_lf / predicate_lf label a whole column at once (fast); @labeling_function() gets one row
(its columns as attributes or items: {field}). Iterate with `labelgate lfs --project <folder>` (coverage, overlaps,
conflicts and dev accuracy per LF). The keywords below were picked from the labeled rows as a start.
"""

from labelgate.labeling import ABSTAIN, keyword_lf, labeling_function, predicate_lf, regex_lf

TEXT = "{text}"
{constants}

# Keyword LFs: any of the words -> the class (case-insensitive; whole_word=True for whole words only).
{chr(10).join(keyword_lines)}

# A regular expression LF.
regex_question = regex_lf("regex_question", r"\\?\\s*$", label={first}, column=TEXT)


# A vectorised predicate over a batch of rows (a pandas DataFrame): True -> the class.
def _very_long(frame):
    return frame[TEXT].fillna("").str.len() > 400


very_long = predicate_lf("very_long", _very_long, label={first})


# A per-row LF: any Python; return a class constant or ABSTAIN.
@labeling_function()
def short_text(x) -> int:
    return {first} if len(({field} or "").split()) < 3 else ABSTAIN
'''


def _suite(*, columns: list[str], text: str, label: str, ident: str | None, classes: list[str], found) -> dict:
    rows = found.rows
    expectations = [
        {"type": "expect_table_columns_to_match_set", "severity": "critical",
         "kwargs": {"column_set": sorted({*columns, label, SOURCE, SPLIT, DEV}), "exact_match": False},
         "notes": "schema: the columns init found plus ingest's source/split/dev"},
        {"type": "expect_table_row_count_to_be_between", "severity": "critical",
         "kwargs": {"min_value": max(1, rows // 2), "max_value": rows * 20},
         "notes": f"init saw {rows} rows: half of that is suspicious"},
        {"type": "expect_column_values_to_not_be_null", "severity": "critical",
         "kwargs": {"column": text, "mostly": 0.99}, "notes": "texts are present"},
        *([{"type": "expect_column_values_to_not_be_null", "severity": "critical",
            "kwargs": {"column": ident}, "notes": "every row has an id"}] if ident else []),
        {"type": "expect_column_values_to_be_in_set", "severity": "critical",
         "kwargs": {"column": label, "value_set": list(range(len(classes)))},
         "notes": f"gold labels are class indices of {classes} (NA on hidden train rows is skipped)"},
        {"type": "expect_column_value_lengths_to_be_between", "severity": "warning",
         "kwargs": {"column": text, "min_value": 1, "max_value": max(found.text_lengths.get("max", 1000) * 2, 100),
                    "mostly": 0.99},
         "notes": f"init saw text lengths {found.text_lengths}"},
        {"type": "expect_column_values_to_be_in_set", "severity": "critical",
         "kwargs": {"column": SPLIT, "value_set": ["train", "valid", "test"]}, "notes": "ingest's split column"},
    ]
    return {"name": "project_ingested", "meta": {"description": "Derived from the data by labelgate init; "
            "critical blocks the run, warning only reports. Edit freely."}, "expectations": expectations}


def _constraints(ident: str | None, text: str, label: str, found) -> str:
    id_rule = f"t1&t2&EQ(t1.{ident},t2.{ident})&IQ(t1.{text},t2.{text})"
    id_line = (id_rule if not found.conflicting_ids else
               f"# init found {found.conflicting_ids} id(s) with different texts: fix them, then uncomment\n# {id_rule}")
    if not ident:
        id_line = "# (the data has no id column: no rule)"
    return f"""# Denial constraints (HoloClean format) on the ingested table: no two rows t1, t2 may satisfy all
# predicates of a line. EQ = equal, IQ = not equal, LT/GT/LTE/GTE compare; t1.col names a column; a single
# tuple (t1&...) checks one row, e.g. t1&EQ(t1.{label},"3") with a constant.
# Each line is critical (blocks the run) unless a "# severity: warning" line sits right above it.
# One id names one text:
{id_line}
# Identical texts with gold labels must carry the same label (NA labels on hidden train rows never count):
# severity: warning
t1&t2&EQ(t1.{text},t2.{text})&IQ(t1.{label},t2.{label})
"""


def _column(name: str, info: dict, n_files: int) -> str:
    where = "" if info["files"] == n_files else f", in {info['files']} of {n_files} files"
    return f"{name} ({info['dtype']}, {info['nulls']} null{where})"


def _report(project: Path, found, classes: list[str], model_name: str, text: str, ident: str | None,
            role_column: str | None = None, holdout: dict | None = None) -> str:
    lines = [f"labelgate init: wrote {', '.join(FILES)} to {project}/", "", f"Data: {found.rows} rows"]
    for name, info in found.files.items():
        labeled = "labeled" if info["labeled"] else "unlabeled"
        lines.append(f"  {name:<30} {info['rows']:>7} rows  role {info['role']:<6} {labeled}")
    lines.append("Columns: " + ", ".join(_column(name, info, len(found.files)) for name, info in found.columns.items()))
    t = found.text_lengths
    lines.append(f"Text '{text}': length min {t['min']}, median {t['median']:.0f}, max {t['max']}; "
                 f"{found.duplicate_texts} duplicate texts, "
                 + (f"{found.duplicate_ids} duplicate ids" if ident else
                    "no id column (none is needed; pass --id-column NAME if your files have one)"))
    shares = ", ".join(f"{i}={c} {found.class_counts.get(c, 0)} ({found.class_counts.get(c, 0) / max(found.labeled_rows, 1):.0%})"
                       for i, c in enumerate(classes))
    lines.append(f"Classes (index=name, labeled rows): {shares}")
    lines += _number_class_notes(classes)
    if len(classes) == 2:
        lines.append(f"Positive class (binary precision/recall/F1; evaluation.positive_class): "
                     f"{_positive(classes, found.class_counts)}")
    roles = {info["role"] for info in found.files.values()}
    if holdout:
        lines.append(f"{' and '.join(holdout['needed'])}: split from {', '.join(holdout['files'])} "
                     f"(split.holdout_sources: " + ", ".join(f"{r} {holdout[r]} rows" for r in holdout["needed"])
                     + ", stratified)")
        roles |= set(holdout["needed"])
    if role_column:
        lines.append(f"Roles: from column '{role_column}' (data.role_column), row by row")
        roles = set(ROLES)  # which roles the column gives is checked per row by ingest
    for role in ("valid", "test"):
        if role not in roles:
            lines.append(f"note: no {role} file: name one {role}.csv, pass --split {role}=GLOB, or set "
                         "split.holdout_sources in config.yaml")
    if "dev" not in roles:
        lines.append("note: no dev file: LF accuracies and the label model's dev selection need labeled dev rows "
                     "(a dev.csv with a few hundred labeled rows)")
    lines += ["", f"Model name: {model_name}", "Next:",
              f"  edit {project}/lfs.py (your labeling functions)",
              f"  labelgate lfs --project {project}      # LF coverage, conflicts and dev accuracy, in seconds",
              f"  labelgate run --project {project}      # the whole pipeline (or: make run PROJECT={project})",
              f"  make serve MODEL_NAME={model_name}"]
    return "\n".join(lines)
