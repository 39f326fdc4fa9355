"""Screenshots of a weekly report's top and of its email, for the README (needs Chromium).

    .venv/bin/python docs/make_screenshots.py reports/2026-11-23

writes docs/report_top.png and docs/email_top.png. The email's inline charts (cid: images) are turned
into data URIs so the browser can show the body as a mail client would.
"""
from __future__ import annotations

import base64
import email
import email.policy
import sys
import tempfile
from pathlib import Path

from workbench.report.browser import Chromium

DOCS = Path(__file__).resolve().parent


def email_html(eml: Path) -> str:
    msg = email.message_from_bytes(eml.read_bytes(), policy=email.policy.default)
    body = msg.get_body(("html",)).get_content()
    for part in msg.walk():
        cid = (part.get("Content-ID") or "").strip("<>")
        if cid and part.get_content_type() == "image/png":
            uri = "data:image/png;base64," + base64.b64encode(part.get_payload(decode=True)).decode()
            body = body.replace(f"cid:{cid}", uri)
    head = f"<div style='font:13px Arial;color:#444;border-bottom:1px solid #ccc;margin-bottom:8px'><b>Subject:</b> " \
           f"{msg['Subject']}</div>"
    return body.replace("<body>", "<body>" + head, 1)


def main(report_dir: str) -> None:
    report = Path(report_dir)
    eml = max((report / "outbox").glob("weekly-*.eml"))
    with Chromium(width=1400, height=1000) as c, tempfile.TemporaryDirectory() as tmp:
        c.open(report / "weekly_report.html")
        c.wait_for("document.querySelectorAll('table.dataTable').length > 0", 60)
        c.screenshot(DOCS / "report_top.png", 1000)
        page = Path(tmp) / "email.html"
        page.write_text(email_html(eml), encoding="utf-8")
        c.open(page)
        c.screenshot(DOCS / "email_top.png", 1300)
    from PIL import Image  # comes with matplotlib; a 64-colour palette keeps the PNGs small for the repo

    for name in ("report_top.png", "email_top.png"):
        Image.open(DOCS / name).convert("RGB").quantize(colors=64).save(DOCS / name, optimize=True)
    print(DOCS / "report_top.png", DOCS / "email_top.png")


if __name__ == "__main__":
    main(sys.argv[1])
