"""Malformed files of every importer format through the public import function: each row becomes a record
or a quarantined entry with a one-line reason, or the whole file fails as one line naming it."""

from __future__ import annotations

import json

import pytest
import yaml
from fuzz_files import FILE_TYPES, data_file, parquet_bytes, yaml_bytes
from fuzz_helpers import FUZZ, check_rejected, no_traceback
from hypothesis import example, given, settings
from hypothesis import strategies as st

from medadapt.records.importers import import_file
from medadapt.records.mapping import MAPPINGS_DIR, shipped_mappings


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return tmp_path_factory.mktemp("fuzz-import")


def check_import(folder, case, read_as: str, suffix: str, data: bytes) -> None:
    path = folder / f"bench{suffix}"
    path.write_bytes(data)
    with no_traceback(case, (read_as, suffix, data), str(path), read_as):
        result = import_file(path, read_as)
        check_rejected(result.rejected, str(path))
        for record in result.records:  # what the stages will write
            json.dumps(record.model_dump(mode="json"), ensure_ascii=False).encode("utf-8")


# generated files per type: writing an XLSX takes longest; CSV covers .csv and .tsv
EXAMPLES = {"csv": 250, "xlsx": 120, "json": 200, "jsonl": 200, "parquet": 200}
# the inputs that once gave a traceback (or a reason on two lines), run first every time
FOUND = {
    "csv": [("alpaca", ".tsv", b'\t"\n"\r\n\t[]\r\n'),  # a column name with a newline in the reason
            ("qa", ".csv", b'""\r\n\xed\xa0\x80\r\n')],  # bad bytes under a column with no name
    "json": [("qa", ".json", b'[{"": ["\\ud800"]}]'),  # a lone surrogate: not writable as UTF-8
             ("qa", ".json", b"[" * 100_000)],  # nested past the parser's recursion limit
    "jsonl": [("qa", ".jsonl", b'{"id": "1", "x": "\\udfff"}\n' + b'{"a": ' * 50_000 + b"\n")],
    "parquet": [("qa", ".parquet", parquet_bytes([{"id": "1", "question": "q"}], binary_column=True)),
                ("qa", ".parquet", b"\xef\xbb\xbf" + parquet_bytes([{"url": None}], False))],  # multi-line error
    "xlsx": [],
}


@pytest.mark.parametrize("kind", FILE_TYPES)
def test_every_format_imports_or_fails_in_one_line(folder, kind):
    @settings(FUZZ, max_examples=EXAMPLES[kind])
    @given(case=data_file(kind))
    def run(case):
        check_import(folder, f"import {kind}", *case)

    for case in FOUND[kind]:
        run = example(case=case)(run)
    run()


MAPPINGS = [yaml.safe_load((MAPPINGS_DIR / f"{name}.yaml").read_text(encoding="utf-8")) for name in shipped_mappings()]
PATTERNS = st.sampled_from(["(", "[a-", "x", "mmlu", "(?P<s>.+)", "^mmlu-(.+?)_translation$", "(a)|b", "(?<=x)"])


def with_pattern(pattern: str) -> bytes:
    """The Gaokerena MMLU mapping with its own subject pattern: a regex a user wrote."""
    mapping = yaml.safe_load((MAPPINGS_DIR / "gaokerena-mmlu-fa.yaml").read_text(encoding="utf-8"))
    mapping["fields"]["subject"]["pattern"] = pattern
    return yaml.safe_dump(mapping, allow_unicode=True).encode()


@settings(FUZZ, max_examples=150)
@example(mapping=with_pattern("("), case=("", ".csv", b"Source,question\nmmlu-x_translation,q\n"))  # re.error
@example(mapping=with_pattern("mmlu"), case=("", ".csv", b"Source,question\nmmlu-x_translation,q\n"))  # no group
@example(mapping=b"\xff\xfe[\x00", case=("", ".csv", b""))  # not UTF-8
@example(mapping=b"[" * 3000, case=("", ".csv", b""))  # nested too deeply
@given(mapping=st.sampled_from(MAPPINGS).flatmap(yaml_bytes) | (PATTERNS | st.text(max_size=8)).map(with_pattern),
       case=data_file("csv", formats=["gaokerena-mmlu-fa"]) | data_file("csv"))
def test_a_broken_mapping_file_is_one_line(folder, mapping, case):
    """A user's own mapping (a shipped one edited, or junk) reading a file: one line naming the mapping."""
    _, suffix, data = case
    mapping_path = folder / "mine.yaml"
    mapping_path.write_bytes(mapping)
    path = folder / f"bench{suffix}"
    path.write_bytes(data)
    with no_traceback("import with a broken mapping", (mapping, data), str(path), str(mapping_path)):
        check_rejected(import_file(path, str(mapping_path)).rejected, str(path))
