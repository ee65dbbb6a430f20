from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from biomarkers.exceptions import SchemaError
from biomarkers.features import PlateMedianNormalizer, bridge_normalize


@pytest.fixture
def tidy():
    rng = np.random.default_rng(0)
    rows = []
    shift = {"P1": 1.0, "P2": 2.0, "P3": 0.5}  # multiplicative plate effects
    for plate, f in shift.items():
        for b in ("BR1", "BR2", "BR3"):
            for a, base in (("IL6", 10.0), ("IL10", 4.0)):
                rows.append((b, a, base * f * rng.uniform(0.9, 1.1), plate, "ok", 1.0))
        for i in range(5):
            for a, base in (("IL6", 10.0), ("IL10", 4.0)):
                rows.append(
                    (f"{plate}_S{i}", a, base * f * rng.lognormal(0, 0.3), plate, "ok", 1.0)
                )
    rows.append(("P2_S0", "IL6", np.nan, "P2", "below", 1.0))
    return pd.DataFrame(rows, columns=["sample_id", "analyte", "value", "plate", "censor", "lod"])


def test_bridge_offsets_are_median_paired_log_differences(tidy):
    out = bridge_normalize(tidy, bridge_samples=["BR1", "BR2", "BR3"], reference_plate="P1")
    off = out.attrs["bridge_offsets"]
    b = tidy[tidy.sample_id.str.startswith("BR")].pivot_table(
        index=["sample_id", "analyte"], columns="plate", values="value"
    )
    lb = np.log2(b)
    expected = (lb["P2"] - lb["P1"]).groupby(level="analyte").median()
    assert off.loc["P2", "IL6"] == pytest.approx(expected["IL6"])
    assert off.loc["P1"].eq(0).all()
    sel = (tidy.plate == "P2") & (tidy.analyte == "IL6")
    np.testing.assert_allclose(out.loc[sel, "value"], tidy.loc[sel, "value"] / 2 ** expected["IL6"])
    np.testing.assert_allclose(out.loc[sel, "lod"], 1.0 / 2 ** expected["IL6"])  # limits move too
    # plate effect of ×2 is removed up to bridge noise
    assert abs(off.loc["P2", "IL6"] - 1.0) < 0.2
    with pytest.raises(SchemaError, match="reference_plate 'P9' not in the table"):
        bridge_normalize(tidy, bridge_samples=["BR1"], reference_plate="P9")
    with pytest.raises(SchemaError, match="bridge samples 'BRX' not in the table"):
        bridge_normalize(tidy, bridge_samples=["BRX"], reference_plate="P1")


def test_plate_median_normalizer_learns_on_fit_rows(tidy):
    train = tidy[~tidy.sample_id.str.endswith("S4")]
    norm = PlateMedianNormalizer().fit(train)
    ok = train[train.censor == "ok"]
    med = np.log2(ok.value).groupby([ok.plate, ok.analyte]).median().unstack()
    ref = np.log2(ok.value).groupby(ok.analyte).median()
    pd.testing.assert_frame_equal(norm.offsets_, med.sub(ref, axis=1), check_names=False)
    out = norm.transform(tidy)
    after = out[out.censor == "ok"].groupby(["plate", "analyte"])["value"].median().unstack()
    assert np.log2(after).std().max() < 0.3  # plates aligned
    with pytest.raises(SchemaError, match="reference_plate 'PX' not in the fitted rows"):
        PlateMedianNormalizer(reference_plate="PX").fit(tidy)
