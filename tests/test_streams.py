"""Every committed real stream: read, re-saved byte for byte, traced like QEMU,
analysed like analyze-migration.py."""

from __future__ import annotations

import json

import pytest
from streams import CASES, expected, has_expected_error, real_log, stream_bytes

import vmstate_edu as v
from vmstate_edu.analyze import analyze_desc, analyze_state
from vmstate_edu.twin import comparable, twin_diff

assert len(CASES) >= 30, CASES


@pytest.fixture(scope="module", params=CASES)
def loaded(request):
    case = request.param
    return case, v.load_stream(stream_bytes(case))


def test_full_read(loaded):
    case, s = loaded
    data = stream_bytes(case)
    # every byte belongs to a section, the configuration, a command, EOF or the JSON
    assert s.sections, case
    assert s.sections[-1].end <= s.vmdesc_offset - 1 < len(data)
    assert s.vmdesc["devices"]
    json_names = {(d["name"], d["instance_id"]) for d in s.vmdesc["devices"]}
    full = {(sec.idstr, sec.instance_id) for sec in s.sections if sec.type == "FULL"}
    assert full == json_names, case
    assert s.qemu_version == case.split("/")[0].split("-")[1]


def test_resave_is_byte_identical(loaded):
    case, s = loaded
    assert s.to_bytes() == stream_bytes(case)


def _ids(s):
    return {sec.idstr for sec in s.sections} | {"configuration"}


def test_save_trace_twin(loaded):
    case, s = loaded
    t = s.trace_save(leaves=False)  # same QEMU events (test_edge_streams checks), faster
    diffs = twin_diff(t.qemu_log(s.qemu_version), real_log(case, "save"), _ids(s), "save")
    assert diffs == [], diffs[:5]
    # and the comparison is not vacuous
    assert len(comparable(t.qemu_log(s.qemu_version).splitlines(), _ids(s))) > 100


def test_load_trace_twin(loaded):
    case, s = loaded
    t = s.trace_load(leaves=False)
    diffs = twin_diff(t.qemu_log(s.qemu_version), real_log(case, "load"), _ids(s), "load")
    assert diffs == [], diffs[:5]


def test_analyze_matches_qemu_script(loaded):
    case, s = loaded
    desc = expected(case, "analyze-desc.json")
    assert json.loads(json.dumps(analyze_desc(s))) == desc
    state = expected(case, "analyze-state.json")
    ours = json.loads(json.dumps(analyze_state(s)))
    if state is None:
        # the 7.2 script crashes here; ours has the same structure: a key per
        # section id, and each device's fields in the JSON's order
        assert has_expected_error(case)
        for dev in s.vmdesc["devices"]:
            sid = next(x.section_id for x in s.sections
                       if (x.idstr, x.instance_id) == (dev["name"], dev["instance_id"]))
            entry = ours[f"{dev['name']} ({sid})"]
            names = list(dict.fromkeys(f["name"] for f in dev["fields"]))
            assert list(entry)[:len(names)] == names
    else:
        assert ours == state


def test_dataframe_rows_cover_fields(loaded):
    case, s = loaded
    df = s.to_dataframe()
    assert set(df.columns) >= {"section", "instance", "vmsd", "path", "index", "type", "offset",
                               "size", "value", "raw"}
    assert (df["size"] == df["raw"].map(len)).all()
    data = stream_bytes(case)
    for row in df.sample(min(50, len(df)), random_state=1).itertuples():
        assert data[row.offset:row.offset + row.size] == row.raw
