"""The panel card is HTML in the report (headings, lists, tables, bold), escaped, never <pre>."""

from __future__ import annotations

from biomarkers.report import markdown_html, write_report

CARD = """# Biomarker panel: demo

- outcome: **tfs90** (binary)
- population: arm all

## Markers

| feature | unit |
|---|---|
| cytokine:IL6@D0 | pg/mL |
| <script>alert(1)</script> | `x` |
"""


def test_card_markdown_becomes_html():
    html = markdown_html(CARD)
    assert "<h3>Biomarker panel: demo</h3>" in html
    assert "<ul><li>outcome: <b>tfs90</b> (binary)</li><li>population: arm all</li></ul>" in html
    assert "<th>feature</th><th>unit</th>" in html
    assert "<td>cytokine:IL6@D0</td><td>pg/mL</td>" in html
    for markup in ("---", "|", "**"):
        assert markup not in html


def test_card_cannot_inject_html():
    html = markdown_html(CARD)
    assert "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<code>x</code>" in html


def test_report_embeds_the_card_as_html_not_raw_markdown(fake_run):
    (fake_run / "panel").mkdir()
    (fake_run / "panel" / "panel_card.md").write_text(CARD)
    html = write_report(fake_run).read_text()
    panel = html.split('<section id="panel">')[1].split("</section>")[0]
    assert "<pre" not in panel
    assert "<div class='card'><h3>Biomarker panel: demo</h3>" in panel
    assert "| feature |" not in panel
