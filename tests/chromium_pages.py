"""Open a page in headless Chromium the way a person opens a run's report (``file://``) and say what it shows.

`inspect_page` loads the page inside an iframe of a small checking page (``--allow-file-access-from-files``
lets it read the frame), and ``--dump-dom`` prints what the checking page found: the title, the MIME type
Chromium gave the file, whether the visible text shows raw ``<!doctype`` (a page shown as source), each
image's natural width, the stylesheets and whether any resource was asked of a network.
"""

from __future__ import annotations

import html
import json
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from ci_needs import needs

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--no-first-run"]

_CHECK = """<!doctype html><html><head><title>check</title></head><body><pre id="out">not loaded</pre>
<iframe id="page" src="%s" style="width:1280px;height:1000px"></iframe>
<script>
document.getElementById("page").addEventListener("load", function () {
  var out;
  try {
    var doc = this.contentDocument, text = doc.body ? doc.body.innerText : "";
    var remote = performance.getEntriesByType.call(this.contentWindow.performance, "resource")
      .map(function (e) { return e.name; }).filter(function (n) { return /^https?:/.test(n); });
    out = {title: doc.title, content_type: doc.contentType, raw_doctype: /<!doctype/i.test(text),
           text: text.slice(0, 2000), stylesheets: doc.styleSheets.length, remote: remote,
           images: Array.from(doc.images).map(function (i) {
             return {src: i.src.slice(0, 80), complete: i.complete, width: i.naturalWidth}; })};
  } catch (e) { out = {error: String(e)}; }
  document.getElementById("out").textContent = JSON.stringify(out);
});
</script></body></html>"""


def chromium() -> str:
    """Chromium's path; skips (fails under CI=true, where .ci/run installs it) when it is missing."""
    found = shutil.which("chromium")
    needs(found is not None, "chromium is not installed (apt-get install -y chromium; .ci/run installs it)")
    return str(found)


def inspect_page(path: Path) -> dict:
    """What Chromium shows for ``path`` (opened as ``file://``, a symlink or hard link as named)."""
    with tempfile.TemporaryDirectory() as scratch:
        check = Path(scratch) / "check.html"
        check.write_text(_CHECK % html.escape(Path(path).absolute().as_uri()), encoding="utf-8")
        done = subprocess.run([chromium(), *FLAGS, f"--user-data-dir={scratch}/profile",
                               "--allow-file-access-from-files", "--virtual-time-budget=10000", "--dump-dom",
                               check.as_uri()], capture_output=True, text=True, timeout=120)
    found = re.search(r'<pre id="out">(.*?)</pre>', done.stdout, re.DOTALL)
    assert found, f"chromium printed no result for {path}: {done.stderr[-2000:]}"
    return json.loads(html.unescape(found[1]))


def screenshot(path: Path, png: Path, *, height: int = 1600) -> Path:
    """A PNG of ``path`` as Chromium draws it (for a person to look at)."""
    with tempfile.TemporaryDirectory() as scratch:
        subprocess.run([chromium(), *FLAGS, f"--user-data-dir={scratch}/profile", f"--screenshot={png}",
                        f"--window-size=1280,{height}", "--virtual-time-budget=5000",
                        Path(path).absolute().as_uri()], capture_output=True, timeout=120, check=True)
    return png


def assert_renders(path: Path, *, styled: bool = False) -> dict:
    """The page opens as HTML with a title, no source text, every image loaded, nothing from a network."""
    page = inspect_page(path)
    assert "error" not in page, (path, page)
    assert page["content_type"] == "text/html", (path, page["content_type"], page["text"][:200])
    assert page["title"].strip(), (path, "no title")
    assert not page["raw_doctype"], (path, "shows its source as text", page["text"][:200])
    assert all(image["complete"] and image["width"] > 0 for image in page["images"]), (path, page["images"])
    assert not page["remote"], (path, "asked a network for", page["remote"])
    if styled:
        assert page["stylesheets"] > 0, (path, "no stylesheet")
    return page
