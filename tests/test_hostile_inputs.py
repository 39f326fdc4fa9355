"""The attacks of issue 18 as one table: hostile and careless files, run through every command.

Each row of ``DATA_ATTACKS`` damages the tiny dataset the way a careless user or a hostile file would,
and says which ``file:row:column`` line the workbench must print. Every command that reads a dataset
(``DATASET_COMMANDS``) is run against every attack: it must exit 2, name the file, leave the input
untouched and write nothing outside its output. Adding a table or a command? Add it here and the
attacks run against it too.
"""
from __future__ import annotations

import gzip
import io
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd
import pytest
from conftest import digest

from workbench.cli import main
from workbench.config import PROJECT_ROOT
from workbench.data import load_dataset


@dataclass(frozen=True)
class Attack:
    name: str
    damage: Callable[[Path], None]  # changes the dataset folder
    says: tuple[str, ...]  # fragments of the error lines, "{d}" = the dataset folder
    never: tuple[str, ...] = ()  # fragments that must not appear (false problems)
    fatal: bool = True  # the whole file is unusable (every command exits 2); else bad rows are rejected


def _rewrite(d: Path, name: str, f: Callable[[str], str]) -> None:
    p = d / name
    p.write_text(f(p.read_text()))


def _latin1(d: Path) -> None:
    text = (d / "products.csv").read_text().replace("Steel bottle", "Crème bottle")
    (d / "products.csv").write_bytes(text.encode("latin-1"))


def _offset_of_e_grave(d: Path) -> int:
    return (d / "products.csv").read_bytes().index(b"\xe8")


def _empty(d: Path) -> None:
    (d / "products.csv").write_bytes(b"")


def _binary(d: Path) -> None:
    (d / "products.csv").write_bytes(gzip.compress((d / "products.csv").read_bytes()))


def _symlink(d: Path) -> None:
    target = d.parent / "photo.png"
    target.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02")
    (d / "products.csv").unlink()
    (d / "products.csv").symlink_to(target)


def _units(value: str, lines: tuple[int, ...] = (3,)) -> Callable[[Path], None]:
    def damage(d: Path) -> None:
        rows = (d / "sales.csv").read_text().splitlines(keepends=True)
        for i in lines:
            head, _, rest = rows[i - 1].partition(",amazon_us,")
            rows[i - 1] = head + ",amazon_us," + value + rest[rest.index(","):]
        (d / "sales.csv").write_text("".join(rows))
    return damage


def _parquet_inf(d: Path) -> None:
    df = pd.read_csv(d / "sales.csv", dtype=str, keep_default_na=False)
    df["units"] = [4.0, np.inf, 7.0, 5.0]
    (d / "sales.csv").unlink()
    df.to_parquet(d / "sales.parquet", index=False)


def _duplicate_header(d: Path) -> None:
    _rewrite(d, "sales.csv", lambda t: t.replace("in_stock\n", "units\n", 1))


def _bad_date_twice(d: Path) -> None:
    # two rows of one SKU whose dates do not parse: a date problem each, not a false duplicate key
    _rewrite(d, "sales.csv", lambda t: t.replace("2026-01-01,SKU-2", "01/01/2026,SKU-2")
             .replace("2026-01-02,SKU-2", "02/01/2026,SKU-2"))


def _quoted_newline(d: Path) -> None:
    # a title spanning two lines moves every later record one line down
    _rewrite(d, "products.csv", lambda t: t.replace('SKU-1,Bamboo board <Large> & ""Chef""',
                                                    'SKU-1,"Bamboo board\nLarge"', 1)
             .replace('SKU-1,Bamboo board <Large> & "Chef"', 'SKU-1,"Bamboo board\nLarge"', 1)
             .replace(",3.10,18.00,", ",3.10,-18.00,"))


def _semicolons(d: Path) -> None:
    _rewrite(d, "sales.csv", lambda t: t.replace(",", ";"))


DATA_ATTACKS = [
    Attack("latin1", _latin1, ("{d}/products.csv:-:-: cannot read: not UTF-8 text", "byte 0xe8 at offset")),
    Attack("empty-file", _empty, ("{d}/products.csv:-:-: cannot read: the file is empty",)),
    Attack("gzip-bytes", _binary, ("{d}/products.csv:-:-: cannot read:",)),
    Attack("symlink-to-png", _symlink, ("{d}/products.csv:-:-: cannot read:",)),
    Attack("units-1e308", _units("1e308"), ("{d}/sales.csv:3:units: expected a number <= 1e+12, got 1e+308",), fatal=False),
    Attack("units-2^63-twice", _units("9223372036854775808", (3, 4)),
           ("{d}/sales.csv:3:units: expected a number <= 1e+12", "{d}/sales.csv:4:units: expected a number <= 1e+12"),
           fatal=False),
    Attack("parquet-inf", _parquet_inf, ("{d}/sales.parquet:2:units: expected a finite number, got inf",), fatal=False),
    Attack("duplicate-header", _duplicate_header, ("{d}/sales.csv:1:units: duplicate column name (columns 4 and 6)",)),
    Attack("bad-dates", _bad_date_twice, ('{d}/sales.csv:4:date: expected an ISO date YYYY-MM-DD, got "01/01/2026"',
                                          '{d}/sales.csv:5:date: expected an ISO date'),
           never=("duplicate key",), fatal=False),
    Attack("quoted-newline", _quoted_newline, ("{d}/products.csv:4:price: expected a number >= 0, got -18",), fatal=False),
    Attack("semicolons", _semicolons, ("{d}/sales.csv:1:-: the header has no commas but 5 semicolons",)),
]

DATASET_COMMANDS = {
    "validate": lambda d, out: ["validate", str(d)],
    "restock": lambda d, out: ["restock", "--data", str(d), "--as-of", "2026-01-03", "--output", str(out / "r.csv")],
    "pricing": lambda d, out: ["pricing", "--data", str(d), "--as-of", "2026-01-03", "--output", str(out / "p.csv")],
    "ads": lambda d, out: ["ads", "--data", str(d), "--as-of", "2026-01-03", "--output", str(out / "a.csv")],
    "risk": lambda d, out: ["risk", "--data", str(d), "--as-of", "2026-01-03", "--output", str(out / "risk.csv")],
    "weekly": lambda d, out: ["weekly", "--data", str(d), "--as-of", "2026-01-03", "--reports", str(out / "reports")],
    "what-if": lambda d, out: ["what-if", "--data", str(d), "--as-of", "2026-01-03", "--scenarios",
                               str(PROJECT_ROOT / "scenarios" / "peak-2026"), "--output", str(out / "what-if")],
}


def _run(argv, capsys) -> tuple[int, str]:
    code = main(argv)
    cap = capsys.readouterr()
    return code, cap.out + cap.err


@pytest.mark.parametrize("attack", DATA_ATTACKS, ids=lambda a: a.name)
def test_validate_names_the_file_row_and_column_of_every_attack(attack, tiny_dataset, capsys):
    attack.damage(tiny_dataset)
    before = digest(tiny_dataset)
    code, text = _run(["validate", str(tiny_dataset)], capsys)
    says = [s.replace("{d}", str(tiny_dataset)) for s in attack.says]
    if attack.name == "latin1":
        says.append(f"offset {_offset_of_e_grave(tiny_dataset)}")
    assert code == 2, text
    for s in says:
        assert s in text, text
    for s in attack.never:
        assert s not in text, text
    assert digest(tiny_dataset) == before


@pytest.mark.parametrize("command", [c for c in DATASET_COMMANDS if c != "validate"])
@pytest.mark.parametrize("attack", [a for a in DATA_ATTACKS if a.fatal], ids=lambda a: a.name)
def test_every_command_refuses_every_attack_with_exit_2_and_no_traceback(attack, command, tiny_dataset,
                                                                        tmp_path, capsys, monkeypatch):
    for k in ("WORKBENCH_SMTP_HOST", "WORKBENCH_MAIL_TO"):
        monkeypatch.delenv(k, raising=False)
    attack.damage(tiny_dataset)
    before = digest(tiny_dataset)
    out = tmp_path / "out"
    out.mkdir()
    code, text = _run(DATASET_COMMANDS[command](tiny_dataset, out), capsys)
    assert code == 2, text
    assert "Traceback" not in text
    assert str(tiny_dataset) in text
    assert digest(tiny_dataset) == before
    written = {p.name for p in out.rglob("*") if p.is_file()}
    assert not written & {"r.csv", "p.csv", "a.csv", "risk.csv", "weekly_report.html", "comparison.csv"}


@pytest.mark.parametrize("attack", [a for a in DATA_ATTACKS if not a.fatal], ids=lambda a: a.name)
def test_a_bad_row_is_rejected_at_the_boundary_every_command_loads_through(attack, tiny_dataset):
    """Row-level attacks do not stop a command: the row is left out, counted, and kept with its reason."""
    attack.damage(tiny_dataset)
    ds = load_dataset(tiny_dataset)
    lines = [f"{tiny_dataset}/{Path(f).name}:{r}:{c}: {why}"
             for f, r, c, why in ds.rejects[["file", "row", "column", "reason"]].itertuples(index=False)]
    text = "\n".join(lines)
    for s in attack.says:
        assert s.replace("{d}", str(tiny_dataset)) in text, text
    for s in attack.never:
        assert s not in text, text
    for name, frame in ds.tables.items():  # what is kept is in range: nothing overflows downstream
        for c in frame.select_dtypes("number").columns:
            assert np.isfinite(frame[c].astype("float64").dropna()).all() and (frame[c].abs() <= 1e12).all(), (name, c)


def _numeric_and_na_skus_with_bom(d: Path) -> None:
    for name in ("products.csv", "sales.csv", "inventory.csv", "shipments.csv"):
        text = (d / name).read_text().replace("SKU-1", "00001").replace("SKU-2", "NA")
        (d / name).write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))


def test_a_byte_order_mark_does_not_glue_to_the_first_header_and_ids_stay_text(tiny_dataset, capsys):
    """Excel's "CSV UTF-8" writes a BOM; SKUs 00001 and NA must stay exactly that."""
    _numeric_and_na_skus_with_bom(tiny_dataset)
    code, text = _run(["validate", str(tiny_dataset)], capsys)
    assert code == 0, text
    ds = load_dataset(tiny_dataset)
    assert ds["products"]["sku"].tolist() == ["00001", "NA"]
    assert sorted(ds["sales"]["sku"].unique()) == ["00001", "NA"]
    assert ds.n_rejected == 0


# ---- CSV formula injection (OWASP): every CSV the workbench writes goes through workbench.io.write_frame
FORMULA_CELLS = ['=1+1', '=HYPERLINK("http://x","y")', "+1-1", '-2+3+cmd|" /C calc"!A0', "@SUM(A1)", "\t=1", "\r=1",
                 "'=1+1", "''@x"]
SAFE_CELLS = ["plain", "SKU-1", "00001", "NA", "null", "N/A", "-5", "+7", "-3.5", "1e5", "12%", "'quoted"]


def test_text_cells_that_a_spreadsheet_would_run_are_defused_and_round_trip(tmp_path):
    from workbench.io import read_frame, write_frame

    cells = FORMULA_CELLS + SAFE_CELLS
    df = pd.DataFrame({"sku": cells, "title": cells[::-1], "units": np.arange(len(cells)) - 5,
                       "price": np.linspace(-2.5, 3.0, len(cells))})
    path = write_frame(df, tmp_path / "restock.csv")
    raw = pd.read_csv(path, dtype=str, keep_default_na=False)
    for col in ("sku", "title"):
        for original, written in zip(df[col], raw[col]):
            if original in FORMULA_CELLS:
                assert written == "'" + original, (original, written)
            else:
                assert written == original, (original, written)
    assert raw["units"].iloc[0] == "-5" and raw["price"].iloc[0] == "-2.5", "negative numbers stay numbers"
    back = read_frame(path)
    pd.testing.assert_frame_equal(back, df, check_dtype=False)
    assert back["sku"].map(type).eq(str).all()


def test_parquet_output_keeps_values_as_they_are(tmp_path):
    from workbench.io import read_frame, write_frame

    df = pd.DataFrame({"sku": FORMULA_CELLS})
    assert read_frame(write_frame(df, tmp_path / "x.parquet"))["sku"].tolist() == FORMULA_CELLS


# ---- end to end: ids that look like numbers or missing values, and formulas, through `workbench weekly`
def _hostile_world(out: Path) -> dict[str, str]:
    """A small generated dataset whose SKUs are 00001, NA, 00003, ... and with formulas in text cells."""
    from workbench.data.generate import GeneratorConfig, write_sample_dataset

    write_sample_dataset(out, GeneratorConfig(n_skus=6, years=1.2, seed=3), include_truth=False)
    skus = pd.read_csv(out / "products.csv", dtype=str, keep_default_na=False)["sku"].tolist()
    rename = {s: f"{i:05d}" for i, s in enumerate(skus, start=1)} | {skus[1]: "NA"}
    for p in out.glob("*.csv"):
        df = pd.read_csv(p, dtype=str, keep_default_na=False)
        if "sku" in df.columns:
            df["sku"] = df["sku"].replace(rename)
        if p.name == "products.csv":
            df.loc[0, "title"] = '=HYPERLINK("http://x","y")'
            df.loc[1, "supplier"] = "@SUM(1+1)"
        df.to_csv(p, index=False)
    return rename


def test_numeric_and_na_skus_and_formulas_go_through_the_weekly_run(tmp_path, capsys, monkeypatch):
    import email
    import email.policy

    from workbench.io import read_frame

    for k in [k for k in __import__("os").environ if k.startswith("WORKBENCH_")]:
        monkeypatch.delenv(k)
    data = tmp_path / "data"
    rename = _hostile_world(data)
    code, text = _run(["weekly", "--data", str(data), "--as-of", "2026-11-23", "--reports", str(tmp_path / "r")], capsys)
    assert code == 0, text[-3000:]
    report = tmp_path / "r" / "2026-11-23"
    restock = read_frame(report / "restock.csv")
    assert set(restock["sku"]) == set(rename.values())  # "00001" and "NA" exactly, as text
    assert restock.loc[restock["sku"] == "00001", "title"].item() == '=HYPERLINK("http://x","y")'
    (eml,) = (report / "outbox").glob("weekly-*.eml")
    msg = email.message_from_bytes(eml.read_bytes(), policy=email.policy.default)
    html = msg.get_body(("html",)).get_content()
    assert ">NaN<" not in html and ">NaN<" not in (report / "weekly_report.html").read_text()
    attached = {}
    for part in msg.iter_attachments():  # one by one, or in reports.zip when large
        if part.get_filename().endswith(".zip"):
            with zipfile.ZipFile(io.BytesIO(part.get_content())) as zf:
                attached |= {n: zf.read(n).decode() for n in zf.namelist() if n.endswith(".csv")}
        elif part.get_filename().endswith(".csv"):
            attached[part.get_filename()] = part.get_content()
    assert {"restock.csv", "pricing.csv", "risk.csv"} <= set(attached)
    for name, content in attached.items():
        cells = [cell for line in content.splitlines() for cell in line.split(",")]
        assert not any(cell.lstrip('"').startswith(("=", "@", "+")) for cell in cells), name
    assert '"\'=HYPERLINK(""http://x"",""y"")"' in attached["restock.csv"]
    assert "'@SUM(1+1)" in attached["restock.csv"]


# ---- config files: scenario sets and the analyst overrides file. Each is (file name, bytes, expected line).
SCENARIO_ATTACKS = [
    ("escape.yaml", b"name: ../../escaped\n", "escape.yaml:name: expected a name of letters, digits"),
    ("absolute.yaml", b"name: /tmp/escaped-absolute\n", "absolute.yaml:name: expected a name of letters"),
    ("my scenario.yaml", b"demand: {multiplier: 1.2}\n", "my scenario.yaml:name: expected a name of letters"),
    ("nan.yaml", b"demand: {multiplier: .nan}\n", "nan.yaml:demand.multiplier: expected a number > 0 and <= 100, got nan"),
    ("inf.yaml", b"demand: {multiplier: .inf}\n", "inf.yaml:demand.multiplier: expected a number > 0 and <= 100, got inf"),
    ("huge.yaml", b"price: {change_pct: 1.0e+12}\n", "huge.yaml:price.change_pct: expected a number > -100 and <= 1000"),
    ("late.yaml", b"lead_time: {extra_days: .inf}\n", "late.yaml:lead_time.extra_days: expected a number >= -365"),
    ("latin1.yaml", "title: Fête des mères\n".encode("latin-1"), "latin1.yaml:-: not UTF-8 text: byte 0xea at offset 8"),
]


@pytest.mark.parametrize("name, content, says", SCENARIO_ATTACKS, ids=[a[0] for a in SCENARIO_ATTACKS])
def test_a_hostile_scenario_file_is_a_file_key_error_and_nothing_is_written(name, content, says, tiny_dataset,
                                                                           tmp_path, capsys):
    folder = tmp_path / "deep" / "set"
    folder.mkdir(parents=True)
    (folder / "baseline.yaml").write_text("title: Baseline\n")
    (folder / name).write_bytes(content)
    out = tmp_path / "deep" / "set" / "out"
    before = digest(tmp_path)
    code, text = _run(["what-if", "--data", str(tiny_dataset), "--as-of", "2026-01-03", "--scenarios", str(folder),
                       "--output", str(out)], capsys)
    assert code == 2, text
    assert f"{folder}/{says}" in text, text
    assert "Traceback" not in text
    assert digest(tmp_path) == before, "nothing written anywhere, inside or outside --output"
    assert not Path("/tmp/escaped-absolute").exists()


@pytest.mark.parametrize("paths", ["100000000", "0", "-3", "many"])
def test_what_if_paths_are_bounded(paths, tiny_dataset, tmp_path, capsys):
    with pytest.raises(SystemExit) as e:
        main(["what-if", "--data", str(tiny_dataset), "--as-of", "2026-01-03", "--scenarios", "scenarios",
              "--output", str(tmp_path / "o"), "--paths", paths])
    assert e.value.code == 2
    assert "--paths: expected a whole number from 1 to 10,000" in capsys.readouterr().err


OVERRIDES_ATTACKS = [
    ("a-list", b"- SKU-1\n- AutoETS\n", "overrides.yaml:-: expected a mapping with keys version, overrides, history, got a list"),
    ("bare-choice", b"SKU-1: AutoETS\n", "overrides.yaml:SKU-1: unknown key; expected one of version, overrides, history"),
    ("entry-a-string", b"overrides:\n  SKU-1: AutoETS\n", "overrides.yaml:overrides.SKU-1: expected a mapping with model"),
    ("negative-season", b"overrides:\n  SKU-1: {model: AutoETS, params: {season_length: -7}}\n",
     "overrides.yaml:overrides.SKU-1.params.season_length: expected a whole number >= 1 and <= 1000, got -7"),
    ("unknown-param", b"overrides:\n  SKU-1: {model: TSB, params: {alpha_d: .nan}}\n",
     "overrides.yaml:overrides.SKU-1.params.alpha_d: expected a number > 0 and <= 1, got nan"),
    ("binary", gzip.compress(b"overrides: {}\n" * 20), "overrides.yaml:-: not UTF-8 text: byte 0x8b at offset 1"),
    ("not-yaml", b"overrides: {SKU-1: [\n", "overrides.yaml:line 2: not valid YAML"),
]


@pytest.mark.parametrize("content, says", [a[1:] for a in OVERRIDES_ATTACKS], ids=[a[0] for a in OVERRIDES_ATTACKS])
def test_a_malformed_overrides_file_is_a_file_key_error(content, says, tmp_path, capsys):
    days = pd.date_range("2026-01-01", periods=60, freq="D")
    pd.DataFrame({"unique_id": "SKU-1", "ds": days.strftime("%Y-%m-%d"), "y": np.arange(60) % 7}).to_csv(
        tmp_path / "long.csv", index=False)
    (tmp_path / "overrides.yaml").write_bytes(content)
    code, text = _run(["forecast", "--input", str(tmp_path / "long.csv"), "--horizon", "7", "--freq", "D",
                       "--output", str(tmp_path / "fc.csv"), "--overrides", str(tmp_path / "overrides.yaml")], capsys)
    assert code == 2, text
    assert f"{tmp_path}/{says}" in text, text
    assert "Traceback" not in text and not (tmp_path / "fc.csv").exists()


# ---- output guards: where a command may write, and which decision dates make sense
OUTPUT_COMMANDS = {
    "restock": lambda d, out: ["restock", "--data", str(d), "--as-of", "2026-01-03", "--output", out],
    "pricing": lambda d, out: ["pricing", "--data", str(d), "--as-of", "2026-01-03", "--output", out],
    "ads": lambda d, out: ["ads", "--data", str(d), "--as-of", "2026-01-03", "--output", out],
    "risk": lambda d, out: ["risk", "--data", str(d), "--as-of", "2026-01-03", "--output", out],
}
OUTPUT_ATTACKS = [
    ("inside-the-data", lambda d, t: str(d / "sales.csv"), "is inside the data directory"),
    ("inside-a-data-subfolder", lambda d, t: str(d / "out" / "x.csv"), "is inside the data directory"),
    ("excel-name", lambda d, t: str(t / "restock.xlsx"), "expected a .csv or .parquet file name"),
    ("under-a-file", lambda d, t: str(d / "products.csv" / "x.csv"), "is inside the data directory"),
    ("unwritable", lambda d, t: str(t / "a-file" / "x.csv"), "cannot write there"),
]


@pytest.mark.parametrize("command", OUTPUT_COMMANDS)
@pytest.mark.parametrize("name, where, says", OUTPUT_ATTACKS, ids=[a[0] for a in OUTPUT_ATTACKS])
def test_an_output_the_workbench_must_not_write_is_refused_before_any_work(name, where, says, command, tiny_dataset,
                                                                           tmp_path, capsys):
    (tmp_path / "a-file").write_text("not a folder")
    before = digest(tiny_dataset)
    code, text = _run(OUTPUT_COMMANDS[command](tiny_dataset, where(tiny_dataset, tmp_path)), capsys)
    assert code == 2 and says in text and "Traceback" not in text, text
    assert digest(tiny_dataset) == before


def test_what_if_and_weekly_refuse_an_output_inside_the_data(tiny_dataset, capsys):
    before = digest(tiny_dataset)
    code, text = _run(["what-if", "--data", str(tiny_dataset), "--as-of", "2026-01-03", "--scenarios", "scenarios",
                       "--output", str(tiny_dataset / "what-if")], capsys)
    assert code == 2 and "is inside the data directory" in text
    code, text = _run(["weekly", "--data", str(tiny_dataset), "--as-of", "2026-01-03", "--reports",
                       str(tiny_dataset / "reports")], capsys)
    assert code == 2 and "--reports" in text and "is inside the data directory" in text
    assert digest(tiny_dataset) == before


@pytest.mark.parametrize("command", [c for c in OUTPUT_COMMANDS if c != "risk"])  # risk loads the data itself
def test_an_as_of_before_the_data_is_an_input_error(command, tiny_dataset, tmp_path, capsys):
    argv = OUTPUT_COMMANDS[command](tiny_dataset, str(tmp_path / "o.csv"))
    argv[argv.index("--as-of") + 1] = "2025-06-01"
    code, text = _run(argv, capsys)
    assert code == 2 and "--as-of 2025-06-01 is before the first sales date 2026-01-01" in text, text
    assert not (tmp_path / "o.csv").exists()


def test_an_as_of_long_after_the_data_warns_that_the_data_are_stale(tiny_dataset):
    ds = load_dataset(tiny_dataset)
    assert ds.check_as_of("2026-01-10") is None
    warning = ds.check_as_of("2027-01-04")
    assert "stale data: the last sales date in" in warning and "2026-01-02, 367 days before --as-of 2027-01-04" in warning
