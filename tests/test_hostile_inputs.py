"""The attacks of issue 18 as one table: hostile and careless files, run through every command.

Each row of ``DATA_ATTACKS`` damages the tiny dataset the way a careless user or a hostile file would,
and says which ``file:row:column`` line the workbench must print. Every command that reads a dataset
(``DATASET_COMMANDS``) is run against every attack: it must exit 2, name the file, leave the input
untouched and write nothing outside its output. Adding a table or a command? Add it here and the
attacks run against it too.
"""
from __future__ import annotations

import gzip
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd
import pytest
from conftest import digest

from workbench.cli import main
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
    assert not written & {"r.csv", "p.csv", "a.csv", "risk.csv", "weekly_report.html"}


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
