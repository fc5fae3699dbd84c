"""The fill-in form (填报表) `mailbot announce` attaches: every item the campaign's checks require
of a kind of submission, one table row each — the item's Chinese name, and an empty cell to fill.

    items(campaign, "plan")            # ("报名方式", "参加人数", …, "座谈问答或问卷调查", …)
    form_docx(campaign, "plan", unit)  # the .docx bytes (python-docx)
    answers_only(text, campaign)       # a form's text without the rows left empty

The items come from the compiled `[[checks]]`: each `require_all` item, and each `require_any`
check as one row (any of its items satisfies it). A form is recognised by its header row
(`填报事项 | 填写内容`). A row whose label is an item and whose cell is still empty asks a question,
it does not answer it: `check.check_text` drops such rows before reading facts and words, so a
filled form passes the item checks and an empty one names every item as missing — even though the
labels are the very words the checks look for.

Nothing here knows a campaign: the title, labels and instructions come from the campaign file.
"""
from __future__ import annotations

import io
import unicodedata
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mailbot.campaign import Campaign

#: the form's header row; a document with this row (as docread writes a table row) is a form
HEADER = ("填报事项", "填写内容")
_HEADER_LINE = "\t".join(HEADER)

_cache: dict[int, tuple["Campaign", dict[str, tuple[str, ...]]]] = {}


def _norm(s: str) -> str:
    return unicodedata.normalize("NFKC", s or "").strip()


def _all_items(campaign: "Campaign") -> dict[str, tuple[str, ...]]:
    """kind → its form's item labels, in the order of the checks (compiled once per campaign)."""
    hit = _cache.get(id(campaign))
    if hit is not None and hit[0] is campaign:
        return hit[1]
    from mailbot.documents.check import RequireAll, RequireAny, compile_checks
    out: dict[str, list[str]] = {k: [] for k in campaign.kinds}
    for rule in compile_checks(campaign):
        if isinstance(rule, RequireAll):
            names = [it.name for it in rule.items]
        elif isinstance(rule, RequireAny):
            names = [rule.item]
        else:
            continue
        for kind in rule.kinds:
            for name in names:
                if name and name not in out[kind]:
                    out[kind].append(name)
    result = {k: tuple(v) for k, v in out.items()}
    if len(_cache) > 16:
        _cache.clear()
    _cache[id(campaign)] = (campaign, result)
    return result


def items(campaign: "Campaign", kind: str) -> tuple[str, ...]:
    """The items the campaign's checks require of KIND, as the findings name them."""
    return _all_items(campaign).get(kind, ())


def form_kinds(campaign: "Campaign") -> tuple[str, ...]:
    """The kinds that have a form (their checks require items), in the campaign file's order."""
    return tuple(k for k in campaign.kinds if items(campaign, k))


def form_name(campaign: "Campaign", kind: str, unit: str) -> str:
    """The attachment's file name: unit and kind in it, so a returned form is identified by its name."""
    from mailbot.store.names import sanitise
    return sanitise(f"{unit}{campaign.kind(kind).label}填报表.docx")


def answers_only(text: str, campaign: "Campaign") -> str:
    """TEXT without the form rows still empty (label = an item of the campaign, nothing filled in).
    Text that is not a form (no header row) comes back unchanged."""
    if _HEADER_LINE not in (text or ""):
        return text
    labels = {_norm(n) for names in _all_items(campaign).values() for n in names}
    out: list[str] = []
    in_form = False
    for line in text.split("\n"):
        if not in_form:
            in_form = line.strip() == _HEADER_LINE
        else:
            label, tab, rest = line.partition("\t")
            if tab and _norm(label) in labels and not _norm(rest.replace("\t", "")):
                continue
        out.append(line)
    return "\n".join(out)


# --- the .docx ------------------------------------------------------------------------------

_SONG, _HEITI, _FANGSONG = "宋体", "黑体", "仿宋_GB2312"


def form_docx(campaign: "Campaign", kind: str, unit: str, *, mailbox: str = "") -> bytes:
    """The form for UNIT and KIND as .docx bytes: a title, one line of instructions, the table.
    The instructions say what to do without naming an item (they must not answer one)."""
    from docx import Document
    from docx.enum.table import WD_ALIGN_VERTICAL, WD_ROW_HEIGHT_RULE, WD_TABLE_ALIGNMENT
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml.ns import qn
    from docx.shared import Cm, Pt

    labels = items(campaign, kind)
    if not labels:
        raise ValueError(f"kind {kind!r} has no required items")
    label = campaign.kind(kind).label
    doc = Document()
    normal = doc.styles["Normal"]
    normal.font.name = "Times New Roman"
    normal.font.size = Pt(14)
    normal.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), _FANGSONG)
    sec = doc.sections[0]
    sec.page_width, sec.page_height = Cm(21.0), Cm(29.7)
    sec.top_margin, sec.bottom_margin = Cm(2.5), Cm(2.5)
    sec.left_margin, sec.right_margin = Cm(2.6), Cm(2.6)
    cp = doc.core_properties
    cp.title = f"{unit}{label}填报表"
    cp.author = campaign.office or ""
    cp.comments = ""

    def run(p, text: str, font: str, size: float, bold: bool = False) -> None:
        r = p.add_run(text)
        r.font.size = Pt(size)
        r.font.bold = bold
        r._element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), font)

    title = doc.add_paragraph()
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run(title, f"{unit}{label}填报表", _HEITI, 18, bold=True)
    send = f"作为附件发送至 {mailbox}，" if mailbox else "作为附件发送，"
    note = doc.add_paragraph()
    note.paragraph_format.first_line_indent = Pt(28)
    run(note, f"请在下表“{HEADER[1]}”一栏逐项如实填写，一格写不下可在格内另起段落；填好后保存为 Word 文档，"
              f"{send}邮件标题写明单位名称和“{label}”。", _FANGSONG, 14)

    table = doc.add_table(rows=len(labels) + 1, cols=2)
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    widths = (Cm(5.2), Cm(10.6))
    for column, width in zip(table.columns, widths):
        column.width = width              # the grid (LibreOffice/WPS) as well as each cell (Word)
    for i, (tr, values) in enumerate(zip(table.rows, [HEADER, *((n, "") for n in labels)])):
        tr.height_rule = WD_ROW_HEIGHT_RULE.AT_LEAST
        tr.height = Cm(1.3) if i else Cm(0.9)       # room to write in
        for cell, width, value in zip(tr.cells, widths, values):
            cell.width = width
            cell.vertical_alignment = WD_ALIGN_VERTICAL.CENTER
            p = cell.paragraphs[0]
            if value:
                p.alignment = WD_ALIGN_PARAGRAPH.CENTER
                run(p, value, _HEITI if i == 0 else _SONG, 14 if i == 0 else 13)
    # Word always keeps a paragraph after a table; without one, LibreOffice (and so WPS users'
    # "save as .doc" read back through it) loses the table and runs the rows together
    doc.add_paragraph()
    buf = io.BytesIO()
    doc.save(buf)
    return _slim(buf.getvalue())


# python-docx's own template carries a thumbnail of an empty page (Explorer would preview the form
# as blank) and Word 2010's stylesWithEffects part (430 KB unpacked, a third of the file); Word and
# WPS open the form the same without them.
_DROPPED = ("docProps/thumbnail.jpeg", "word/stylesWithEffects.xml")


def _slim(data: bytes) -> bytes:
    import re
    import zipfile
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for info in src.infolist():
            if info.filename in _DROPPED:
                continue
            blob = src.read(info.filename)
            if info.filename.endswith(".rels"):
                blob = re.sub(rb"<Relationship [^>]*Target=\"[^\"]*(?:thumbnail\.jpeg|stylesWithEffects\.xml)\"/>",
                              b"", blob)
            elif info.filename == "[Content_Types].xml":
                blob = re.sub(rb"<Override PartName=\"/(?:word/stylesWithEffects\.xml|docProps/thumbnail\.jpeg)\"[^>]*/>",
                              b"", blob)
            z.writestr(info, blob)
    return out.getvalue()


__all__ = ["HEADER", "items", "form_kinds", "form_name", "answers_only", "form_docx"]
