"""A run's final status in its report: the banner at the top and the provenance footer.

The banner and footer sit between HTML comment markers so :func:`update_status` can set the
final status after the job (which writes the report while the run is still ``running``).
"""

from __future__ import annotations

import html
import os
import re
from pathlib import Path
from typing import Any

__all__ = ["COMPLETE", "status_banner", "status_footer", "update_status"]

COMPLETE = "complete"
_BANNER = ("<!--status-banner-->", "<!--/status-banner-->")
_FOOTER = ("<!--status-footer-->", "<!--/status-footer-->")


def _banner_html(manifest: dict[str, Any]) -> str:
    status = str(manifest.get("status") or "unknown")
    if status == COMPLETE:
        return ""
    error = manifest.get("error")
    what = {
        "failed": "This run <b>failed</b>",
        "running": "This run is <b>incomplete</b> (status 'running': killed or still running)",
    }.get(status, f"This run's status is <b>{html.escape(status)}</b>")
    return (
        f"<div class='banner' role='alert'>{what}: results below may be partial or missing"
        + (f". Error: <code>{html.escape(str(error))}</code>" if error else "")
        + ". See log.txt in the run folder.</div>"
    )


def status_banner(manifest: dict[str, Any]) -> str:
    """The top-of-report banner (empty for a complete unblinded run), wrapped in its markers."""
    from biomarkers.report._plan import blinded_banner

    return _BANNER[0] + blinded_banner(manifest) + _banner_html(manifest) + _BANNER[1]


def status_footer(manifest: dict[str, Any]) -> str:
    """The provenance footer's status words, wrapped in their markers."""
    status = html.escape(str(manifest.get("status") or "unknown"))
    finished = manifest.get("finished")
    text = f"<b>{status}</b>" + (f" (finished {html.escape(str(finished))})" if finished else "")
    return _FOOTER[0] + text + _FOOTER[1]


def update_status(report: str | os.PathLike, manifest: dict[str, Any]) -> None:
    """Set the banner and footer of a written ``report.html`` to the manifest's status."""
    from biomarkers._atomic import write_text

    path = Path(report)
    text = path.read_text(encoding="utf-8")
    for (start, end), new in ((_BANNER, status_banner), (_FOOTER, status_footer)):
        pattern = re.escape(start) + ".*?" + re.escape(end)
        text = re.sub(pattern, lambda _m, new=new: new(manifest), text, count=1, flags=re.S)
    write_text(path, text)
