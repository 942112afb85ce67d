"""report.html: report.md as one self-contained page (figures embedded as data URIs, no network),
tables sortable by a click on a column head and filtered by a text box, readable when mailed."""
import base64
import html
import re
from pathlib import Path

from ..utils.io import atomic_write_text

STYLE = """body{font:14px/1.45 system-ui,sans-serif;margin:2em auto;max-width:1200px;padding:0 1em;color:#222}
table{border-collapse:collapse;margin:.5em 0 1.5em;font-size:13px}td,th{border:1px solid #ccc;padding:3px 6px;
vertical-align:top}th{background:#f2f2f2;cursor:pointer}tr.hide{display:none}
input.filter{margin:.3em 0;width:22em}
.v-lower,.v-higher{background:#fde2e1}.v-consistent,.v-equal{background:#e3f5e1}.v-inconclusive{background:#fff6d9}
img{max-width:100%}code{background:#f4f4f4}"""
SCRIPT = """document.querySelectorAll('table.data').forEach(function(t){
var f=document.createElement('input');f.className='filter';f.placeholder='filter rows';t.before(f);
f.oninput=function(){var q=f.value.toLowerCase();t.querySelectorAll('tbody tr').forEach(function(r){
r.classList.toggle('hide',r.textContent.toLowerCase().indexOf(q)<0)})};
t.querySelectorAll('th').forEach(function(h,i){h.onclick=function(){var b=t.tBodies[0],
rs=Array.from(b.rows),d=h.dataset.d=h.dataset.d=='1'?'-1':'1',n=function(s){var x=parseFloat(s);
return isNaN(x)?s:x};rs.sort(function(a,c){var x=n(a.cells[i].textContent),y=n(c.cells[i].textContent);
return (x>y?1:x<y?-1:0)*d});rs.forEach(function(r){b.appendChild(r)})}})});"""
MIME = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".svg": "image/svg+xml"}


def _inline(text: str) -> str:
    text = html.escape(text, quote=False)
    text = re.sub(r"\*\*(.+?)\*\*", r"<b>\1</b>", text)
    return re.sub(r"`([^`]+)`", r"<code>\1</code>", text)


def _cells(line: str) -> list:
    return [c.strip() for c in line.strip().strip("|").split("|")]


def _table(rows: list) -> str:
    head, body = _cells(rows[0]), [_cells(r) for r in rows[2:]]
    out = ["<table class=data><thead><tr>" + "".join(f"<th>{_inline(h)}</th>" for h in head)
           + "</tr></thead><tbody>"]
    vcol = head.index("verdict") if "verdict" in head else None
    for cells in body:
        verdict = cells[vcol] if vcol is not None and vcol < len(cells) else ""
        cls = f' class="v-{verdict.split()[0]}"' if verdict else ""
        out.append(f"<tr{cls}>" + "".join(f"<td>{_inline(c)}</td>" for c in cells) + "</tr>")
    return "\n".join(out + ["</tbody></table>"])


def _image(run_dir: Path, alt: str, src: str) -> str:
    path = run_dir / src
    mime = MIME.get(path.suffix.lower())
    if mime is None or not path.is_file():
        return f"<p>(figure {html.escape(src)} not found)</p>"
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    return f'<figure><img alt="{html.escape(alt)}" src="data:{mime};base64,{data}"><figcaption>' \
           f"{html.escape(src)}</figcaption></figure>"


def markdown_to_html(text: str, run_dir) -> str:
    """The Markdown subset report.md is written in: headings, tables, lists, images, paragraphs."""
    run_dir, out, lines, i = Path(run_dir), [], text.split("\n"), 0
    title = lines[0].lstrip("# ").strip() if lines else "report"
    while i < len(lines):
        line = lines[i]
        if line.startswith("|"):
            j = i
            while j < len(lines) and lines[j].startswith("|"):
                j += 1
            out.append(_table(lines[i:j]))
            i = j
            continue
        m = re.match(r"^(#{1,6}) (.*)$", line)
        img = re.match(r"^!\[(.*?)\]\((.*?)\)$", line.strip())
        if m:
            out.append(f"<h{len(m.group(1))}>{_inline(m.group(2))}</h{len(m.group(1))}>")
        elif img:
            out.append(_image(run_dir, img.group(1), img.group(2)))
        elif line.startswith("- "):
            out.append(f"<ul><li>{_inline(line[2:])}</li></ul>")
        elif line.strip():
            out.append(f"<p>{_inline(line)}</p>")
        i += 1
    return ("<!DOCTYPE html>\n<html lang=en><head><meta charset=utf-8><title>" + html.escape(title) +
            f"</title><style>{STYLE}</style></head><body>\n" + "\n".join(out) +
            f"\n<script>{SCRIPT}</script></body></html>\n")


def write_html(run_dir, markdown_text: str, figures=()) -> Path:
    """report.html beside report.md; every figure of ``figures/`` is embedded, listed or not."""
    run_dir = Path(run_dir)
    listed = set(figures)
    missing = sorted(str(p.relative_to(run_dir)) for p in (run_dir / "figures").glob("*")
                     if p.suffix.lower() in MIME and str(p.relative_to(run_dir)) not in listed)
    if missing:
        markdown_text += "\n## Other figures\n\n" + "\n".join(f"![{Path(f).stem}]({f})"
                                                              for f in missing) + "\n"
    path = run_dir / "report.html"
    atomic_write_text(path, markdown_to_html(markdown_text, run_dir))
    return path
