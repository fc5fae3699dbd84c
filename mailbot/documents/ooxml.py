"""Office Open XML: which kind a zip package is (docx/docm, odt, or a bundle), and the .docx
XML walk — streamed with lxml ``iterparse``, entity-free, in document order (body, text
boxes, nested tables, content controls, headers/footers, notes), tracked deletions dropped."""
from __future__ import annotations

import dataclasses
import logging
import io
import posixpath
import re
import zipfile
from dataclasses import dataclass, field
from typing import Callable, Iterator

from lxml import etree

from mailbot.documents import plaintext, scan, sniff, zipsafe
from mailbot.documents.doctext import (MiB, REASON_CORRUPT, REASON_DTD, REASON_EMPTY, REASON_SCAN, REASON_XML,
                                       WARN_ALTCHUNK, WARN_DEEP, WARN_DELETIONS, WARN_FEW_WORDS_IMAGES, WARN_HIDDEN,
                                       WARN_MACRO, WARN_TRUNCATED, WARN_XML_BROKEN, WARN_XML_CAPPED, Ctx, DocText,
                                       Limits, Refused, Stop, clean_text, doc_text, visible_chars)

log = logging.getLogger(__name__)

# content types of the main part
_CT_WORD = {
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml": "docx",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.template.main+xml": "docx",
    "application/vnd.ms-word.document.macroenabled.main+xml": "docm",
    "application/vnd.ms-word.template.macroenabledtemplate.main+xml": "docm",
}
_REL_OFFICE_DOC = ("/officeDocument",)
_ODF_TEXT = ("application/vnd.oasis.opendocument.text", "application/vnd.oasis.opendocument.text-template")


def package_kind(zf: zipfile.ZipFile, ctx: Ctx | None) -> tuple[str, dict]:
    """(kind, info) of an opened zip: docx/docm, odt, zip (a bundle), or
    ('unknown', {'reason': ...}) for other office formats."""
    names = {i.filename.lower().lstrip("/"): i for i in zf.infolist()}
    if "[content_types].xml" in names:
        ct = _content_types(zf, names, ctx)
        main = None
        rels = _rels(zf, names, "_rels/.rels", ctx)
        for _rid, (rtype, target, external) in rels.items():
            if rtype.endswith(_REL_OFFICE_DOC) and not external:
                main = _resolve("", target)
                break
        if main is None or main.lower() not in names:
            main = "word/document.xml" if "word/document.xml" in names else main
        main_ct = ct(main) if main else ""
        kind = _CT_WORD.get(main_ct)
        if kind is None:
            if "spreadsheetml" in main_ct or "ms-excel" in main_ct:
                return "unknown", {"reason": "不支持的文件类型（Excel 表格），需人工审核"}
            if "presentationml" in main_ct or "ms-powerpoint" in main_ct:
                return "unknown", {"reason": "不支持的文件类型（PowerPoint 演示文稿），需人工审核"}
            if main and main.lower() in names and main.lower().startswith("word/"):
                kind = "docx"
            else:
                return "unknown", {"reason": REASON_CORRUPT}
        return kind, {"main": main, "names": names, "ct": ct}
    if "mimetype" in names:
        info = names["mimetype"]
        if info.file_size < 200 and info.compress_type in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED) \
                and not info.flag_bits & 1:
            mt = zf.read(info).decode("ascii", "ignore").strip()
            if mt in _ODF_TEXT:
                return "odt", {}
            if mt.startswith("application/vnd.oasis.opendocument"):
                return "unknown", {"reason": "不支持的文件类型（ODF 表格或演示文稿），需人工审核"}
    if "word/document.xml" in names:
        return "docx", {"main": "word/document.xml", "names": names}
    return "zip", {}



W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
W_STRICT_NS = "http://purl.oclc.org/ooxml/wordprocessingml/main"
MC_NS = "http://schemas.openxmlformats.org/markup-compatibility/2006"
M_NS = "http://schemas.openxmlformats.org/officeDocument/2006/math"
M_STRICT_NS = "http://purl.oclc.org/ooxml/officeDocument/math"
R_NAMESPACES = ("http://schemas.openxmlformats.org/officeDocument/2006/relationships",
                "http://purl.oclc.org/ooxml/officeDocument/relationships")
PKG_REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
CT_NS = "http://schemas.openxmlformats.org/package/2006/content-types"

MC_ALT = f"{{{MC_NS}}}AlternateContent"
MC_CHOICE = f"{{{MC_NS}}}Choice"
MC_FALLBACK = f"{{{MC_NS}}}Fallback"

_SAFE = dict(resolve_entities=False, no_network=True, huge_tree=False, load_dtd=False,
             remove_comments=True, remove_pis=True)


def _safe_parser() -> etree.XMLParser:
    return etree.XMLParser(**_SAFE)


def _parse_small(data: bytes) -> etree._Element:
    root = etree.fromstring(data, _safe_parser())
    if root.getroottree().docinfo.internalDTD is not None:
        raise Refused(REASON_DTD)
    return root


def _read_part(zf: zipfile.ZipFile, names: dict, part: str, ctx: Ctx | None, cap: int = 8 * MiB) -> bytes | None:
    info = names.get(part.lower().lstrip("/"))
    if info is None:
        return None
    if ctx is None:
        ctx = Ctx(Limits(), None, budget=cap * 2)
    return zipsafe.read_member(zf, info, cap, ctx)


def _content_types(zf, names, ctx) -> Callable[[str], str]:
    data = _read_part(zf, names, "[Content_Types].xml", ctx, cap=4 * MiB)
    defaults: dict[str, str] = {}
    overrides: dict[str, str] = {}
    if data:
        root = _parse_small(data)
        for el in root:
            tag = etree.QName(el).localname if isinstance(el.tag, str) else ""
            if tag == "Default":
                defaults[(el.get("Extension") or "").lower()] = (el.get("ContentType") or "").lower()
            elif tag == "Override":
                overrides[(el.get("PartName") or "").lower().lstrip("/")] = (el.get("ContentType") or "").lower()

    def lookup(part: str) -> str:
        p = part.lower().lstrip("/")
        if p in overrides:
            return overrides[p]
        return defaults.get(p.rsplit(".", 1)[-1] if "." in p else "", "")

    return lookup


def _rels(zf, names, part: str, ctx) -> dict[str, tuple[str, str, bool]]:
    """rId -> (type, target, external)."""
    data = _read_part(zf, names, part, ctx, cap=4 * MiB)
    out: dict[str, tuple[str, str, bool]] = {}
    if not data:
        return out
    root = _parse_small(data)
    for el in root:
        if not isinstance(el.tag, str) or etree.QName(el).localname != "Relationship":
            continue
        rid = el.get("Id")
        if rid:
            out[rid] = (el.get("Type") or "", el.get("Target") or "",
                        (el.get("TargetMode") or "").lower() == "external")
    return out


def _resolve(source_part: str, target: str) -> str:
    target = target.replace("\\", "/")
    if target.startswith("/"):
        return posixpath.normpath(target).lstrip("/")
    base = posixpath.dirname(source_part)
    return posixpath.normpath(posixpath.join(base, target)).lstrip("/")


def _rels_part(part: str) -> str:
    d, b = posixpath.split(part)
    return posixpath.join(d, "_rels", b + ".rels")


class _Tags:
    """Qualified tag names for one WordprocessingML namespace."""

    NAMES = (
        "p", "r", "t", "tab", "ptab", "br", "cr", "sym", "noBreakHyphen", "softHyphen",
        "delText", "drawing", "pict", "object", "ruby", "rubyBase", "hyperlink", "ins",
        "del", "moveFrom", "moveTo", "smartTag", "customXml", "fldSimple", "dir", "bdo",
        "sdt", "sdtContent", "sdtPr", "showingPlcHdr", "tbl", "tr", "tc", "trPr", "tcPr",
        "vMerge", "hMerge", "pPr", "rPr", "vanish", "sectPr", "headerReference",
        "footerReference", "txbxContent", "altChunk", "body", "hdr", "ftr", "footnote",
        "endnote",
    )

    def __init__(self, ns: str, m_ns: str) -> None:
        self.ns = ns
        for n in self.NAMES:
            setattr(self, n, f"{{{ns}}}{n}")
        self.a_val = f"{{{ns}}}val"
        self.a_type = f"{{{ns}}}type"
        self.a_char = f"{{{ns}}}char"
        self.a_font = f"{{{ns}}}font"
        self.m_t = f"{{{m_ns}}}t"
        self.m_math = (f"{{{m_ns}}}oMath", f"{{{m_ns}}}oMathPara")
        self.inline_pass = frozenset((self.hyperlink, self.ins, self.moveTo, self.smartTag,
                                      self.customXml, self.fldSimple, self.dir, self.bdo))
        self.deleted = frozenset((self.del_, self.moveFrom))
        self.containers = frozenset((self.body, self.hdr, self.ftr, self.footnote, self.endnote))
        self.top = (self.p, self.tbl, self.sdt, self.customXml, self.altChunk, self.sectPr,
                    self.del_, self.moveFrom)

    @property
    def del_(self) -> str:
        return f"{{{self.ns}}}del"


_TAGS = {W_NS: _Tags(W_NS, M_NS), W_STRICT_NS: _Tags(W_STRICT_NS, M_STRICT_NS)}
_TOP_TAGS = tuple(t for tags in _TAGS.values() for t in tags.top)

# Wingdings / Wingdings 2 characters that Chinese forms use as check boxes.
_SYM = {
    ("wingdings", 0xFE): "☑", ("wingdings", 0xFD): "☒", ("wingdings", 0xA8): "□",
    ("wingdings", 0x6F): "□", ("wingdings", 0xFC): "✓", ("wingdings", 0xFB): "✗",
    ("wingdings 2", 0x52): "☑", ("wingdings 2", 0x54): "☒", ("wingdings 2", 0xA3): "□",
    ("wingdings 2", 0x50): "✓", ("wingdings 2", 0x4F): "✗",
}


def _first_choice(alt: etree._Element) -> etree._Element | None:
    for c in alt:
        if c.tag == MC_CHOICE:
            return c
    return None


def _r_id(el: etree._Element) -> str | None:
    for ns in R_NAMESPACES:
        v = el.get(f"{{{ns}}}id")
        if v:
            return v
    return None


class _Walker:
    """Turns WordprocessingML block elements into lines of text."""

    def __init__(self, tags: _Tags, limits: Limits) -> None:
        self.T = tags
        self.max_depth = limits.max_nesting_depth
        self.deleted = False
        self.hidden = False
        self.too_deep = False
        self.drawings = 0
        self.refs: list[tuple[str, str]] = []  # ("header"|"footer", rId), in order
        self.altchunk: Callable[[str], list[str]] | None = None

    # blocks ---------------------------------------------------------------
    def block(self, el: etree._Element, depth: int, out: list[str]) -> None:
        T = self.T
        tag = el.tag
        if tag == T.p:
            self.para(el, depth, out)
        elif tag == T.tbl:
            self.table(el, depth + 1, out)
        elif tag == T.sdt:
            content = self._sdt_content(el)
            if content is not None:
                for c in content:
                    self.block(c, depth, out)
        elif tag == T.customXml or tag == T.ins or tag == T.moveTo:
            for c in el:
                self.block(c, depth, out)
        elif tag in T.deleted:
            self.deleted = True
        elif tag == T.sectPr:
            self._sect(el)
        elif tag == T.altChunk:
            rid = _r_id(el)
            if rid and self.altchunk is not None:
                out.extend(self.altchunk(rid))
        elif tag == MC_ALT:
            ch = _first_choice(el)
            if ch is not None:
                for c in ch:
                    self.block(c, depth, out)
        elif tag == T.r:  # stray run at block level
            buf: list[str] = []
            boxes: list[etree._Element] = []
            self.run(el, buf, boxes)
            out.append("".join(buf))

    def _sdt_content(self, sdt: etree._Element) -> etree._Element | None:
        T = self.T
        content = None
        for c in sdt:
            if c.tag == T.sdtPr:
                if c.find(T.showingPlcHdr) is not None:
                    return None  # placeholder prompt ("单击此处输入文字"), not content
            elif c.tag == T.sdtContent:
                content = c
        return content

    def _sect(self, sect: etree._Element) -> None:
        T = self.T
        for c in sect:
            if c.tag == T.headerReference or c.tag == T.footerReference:
                rid = _r_id(c)
                if rid:
                    self.refs.append(("header" if c.tag == T.headerReference else "footer", rid))

    def para(self, p: etree._Element, depth: int, out: list[str]) -> None:
        T = self.T
        buf: list[str] = []
        boxes: list[etree._Element] = []
        self.inline(p, buf, boxes)
        text = "".join(buf).strip("\n")
        keep = True
        if len(p) and p[0].tag == T.pPr:
            ppr = p[0]
            sect = ppr.find(T.sectPr)
            if sect is not None:
                self._sect(sect)
            rpr = ppr.find(T.rPr)
            if rpr is not None and not text and rpr.find(T.del_) is not None:
                keep = False  # the paragraph mark itself was deleted
                self.deleted = True
        if keep:
            out.append(text)
        for box in boxes:
            if depth + 1 > self.max_depth:
                self.too_deep = True
                flat = self.flat(box)
                if flat:
                    out.append(flat)
                continue
            for c in box:
                self.block(c, depth + 1, out)

    def inline(self, parent: etree._Element, buf: list[str], boxes: list[etree._Element]) -> None:
        T = self.T
        for c in parent:
            tag = c.tag
            if tag == T.r:
                self.run(c, buf, boxes)
            elif tag in T.inline_pass:
                self.inline(c, buf, boxes)
            elif tag == T.sdt:
                content = self._sdt_content(c)
                if content is not None:
                    self.inline(content, buf, boxes)
            elif tag in T.deleted:
                self.deleted = True
            elif tag == MC_ALT:
                ch = _first_choice(c)
                if ch is not None:
                    self.inline(ch, buf, boxes)
            elif tag in T.m_math:
                buf.append("".join(t.text or "" for t in c.iter(T.m_t)))

    def run(self, r: etree._Element, buf: list[str], boxes: list[etree._Element]) -> None:
        T = self.T
        for c in r:
            tag = c.tag
            if tag == T.t:
                if c.text:
                    buf.append(c.text)
            elif tag == T.rPr:
                v = c.find(T.vanish)
                if v is not None and v.get(T.a_val) not in ("0", "false", "off"):
                    self.hidden = True
                    return
            elif tag == T.tab or tag == T.ptab:
                buf.append("\t")
            elif tag == T.br or tag == T.cr:
                buf.append("\n")
            elif tag == T.noBreakHyphen:
                buf.append("-")
            elif tag == T.sym:
                buf.append(self._sym(c))
            elif tag == T.drawing or tag == T.pict or tag == T.object:
                self.drawings += 1
                self._find_boxes(c, boxes)
            elif tag == MC_ALT:
                ch = _first_choice(c)
                if ch is not None:
                    self.run(ch, buf, boxes)
            elif tag == T.ruby:
                base = c.find(T.rubyBase)
                if base is not None:
                    self.inline(base, buf, boxes)
            elif tag == T.delText:
                self.deleted = True

    def _sym(self, el: etree._Element) -> str:
        T = self.T
        try:
            code = int(el.get(T.a_char) or "", 16)
        except ValueError:
            return ""
        font = (el.get(T.a_font) or "").strip().lower()
        low = code - 0xF000 if 0xF000 <= code <= 0xF0FF else code
        mapped = _SYM.get((font, low))
        if mapped:
            return mapped
        if 0xE000 <= code <= 0xF8FF or code < 0x20:
            return ""
        try:
            return chr(code)
        except ValueError:
            return ""

    def _find_boxes(self, el: etree._Element, boxes: list[etree._Element]) -> None:
        T = self.T
        for c in el:
            tag = c.tag
            if tag == T.txbxContent:
                boxes.append(c)
            elif tag == MC_FALLBACK:
                continue  # the same text box again, as VML: never read twice
            elif tag == MC_ALT:
                ch = _first_choice(c)
                if ch is not None:
                    self._find_boxes(ch, boxes)
            elif len(c):
                self._find_boxes(c, boxes)

    # tables -----------------------------------------------------------------
    def table(self, tbl: etree._Element, depth: int, out: list[str]) -> None:
        if depth > self.max_depth:
            self.too_deep = True
            flat = self.flat(tbl)
            if flat:
                out.append(flat)
            return
        T = self.T
        for tr in self._children(tbl, T.tr):
            trpr = tr.find(T.trPr)
            if trpr is not None and trpr.find(T.del_) is not None:
                self.deleted = True
                continue
            cells: list[str] = []
            for tc in self._children(tr, T.tc):
                tcpr = tc[0] if len(tc) and tc[0].tag == T.tcPr else None
                if tcpr is not None:
                    vm = tcpr.find(T.vMerge)
                    hm = tcpr.find(T.hMerge)
                    if (vm is not None and vm.get(T.a_val) != "restart") or \
                            (hm is not None and hm.get(T.a_val) != "restart"):
                        cells.append("")  # continuation of a merged cell: its text is above/left
                        continue
                lines: list[str] = []
                for c in tc:
                    self.block(c, depth, lines)
                cells.append("\n".join(lines).strip("\n"))
            out.append("\t".join(cells))

    def _children(self, parent: etree._Element, want: str) -> Iterator[etree._Element]:
        """Rows of a table / cells of a row, also when wrapped in sdt or customXml."""
        T = self.T
        for c in parent:
            tag = c.tag
            if tag == want:
                yield c
            elif tag == T.sdt:
                content = self._sdt_content(c)
                if content is not None:
                    yield from self._children(content, want)
            elif tag == T.customXml or tag == T.ins or tag == T.moveTo:
                yield from self._children(c, want)
            elif tag in T.deleted:
                self.deleted = True

    def flat(self, el: etree._Element) -> str:
        """All w:t text below ``el`` on one line, without recursion."""
        return " ".join(t.text for t in el.iter(self.T.t) if t.text)


class _Budget:
    def __init__(self, max_chars: int) -> None:
        self.left = max_chars
        self.truncated = False

    def take(self, lines: list[str], out: list[str]) -> None:
        for line in lines:
            n = len(line) + 1
            if n > self.left:
                if self.left > 1:
                    out.append(line[: self.left - 1])
                self.left = 0
                self.truncated = True
                raise Stop
            self.left -= n
            out.append(line)


@dataclass
class _PartResult:
    lines: list[str] = field(default_factory=list)
    capped: bool = False
    broken: bool = False


WHOLE_PART = 2 * MiB     # a part declared this small is parsed in one go (half the cost of iterparse)
_TOP_SET = frozenset(_TOP_TAGS)


def _walk_part(stream: zipsafe.CappedStream, limits: Limits, budget: _Budget,
               make_walker: Callable[[_Tags], _Walker], size: int | None = None) -> tuple[_PartResult, _Walker | None]:
    """One WordprocessingML part's blocks, in order. A part of at most WHOLE_PART bytes (SIZE,
    as the zip declares it) is read whole and parsed at once; a bigger one — or one that does
    not parse, for the streaming path to salvage what it can — is streamed block by block."""
    if size is None or size > WHOLE_PART:
        return _stream_part(stream, limits, budget, make_walker)
    chunks = []
    while chunk := stream.read():
        chunks.append(chunk)
    data = b"".join(chunks)
    try:
        root = etree.fromstring(data, _safe_parser())
    except etree.XMLSyntaxError:
        again = zipsafe.CappedStream(io.BytesIO(data), limits.max_xml_bytes)
        again.capped = stream.capped
        return _stream_part(again, limits, budget, make_walker)
    if root.getroottree().docinfo.internalDTD is not None:
        raise Refused(REASON_DTD)
    res = _PartResult(capped=stream.capped)
    tags = _TAGS.get(etree.QName(root).namespace)
    if tags is None:
        return res, None
    walker = make_walker(tags)
    skip_notes = ("separator", "continuationSeparator", "continuationNotice")
    try:
        for cont in root.iter(*tags.containers):
            if cont.get(tags.a_type) in skip_notes:
                continue
            for el in cont:
                if el.tag in _TOP_SET:
                    lines: list[str] = []
                    walker.block(el, 0, lines)
                    budget.take(lines, res.lines)
    except Stop:
        pass
    return res, walker


def _stream_part(stream: zipsafe.CappedStream, limits: Limits, budget: _Budget,
                 make_walker: Callable[[_Tags], _Walker]) -> tuple[_PartResult, _Walker | None]:
    """Stream one WordprocessingML part, emitting each top-level block as it ends."""
    res = _PartResult()
    walker: _Walker | None = None
    containers: frozenset[str] = frozenset()
    skip_notes = ("separator", "continuationSeparator", "continuationNotice")
    root: etree._Element | None = None
    done: etree._Element | None = None  # last block emitted (cleared, still in the tree)
    try:
        for _ev, el in etree.iterparse(stream, events=("end",), tag=_TOP_TAGS, **_SAFE):
            parent = el.getparent()
            if parent is None:
                continue
            if walker is None:
                if el.getroottree().docinfo.internalDTD is not None:
                    raise Refused(REASON_DTD)
                ns = etree.QName(el).namespace
                walker = make_walker(_TAGS[ns])
                containers = walker.T.containers
                root = el.getroottree().getroot()
            if parent.tag not in containers:
                continue
            if parent.get(walker.T.a_type) not in skip_notes:
                lines: list[str] = []
                walker.block(el, 0, lines)
                budget.take(lines, res.lines)
            el.clear()
            done = el
            while el.getprevious() is not None:
                del parent[0]
    except Stop:
        pass
    except etree.XMLSyntaxError as e:
        msg = str(e)
        if "amplification" in msg or "entity reference loop" in msg.lower():
            raise Refused(REASON_DTD) from None
        if stream.capped:
            res.capped = True
        elif "Excessive depth" in msg:
            raise Refused("文档结构嵌套过深，疑似恶意构造，已拒绝读取，需人工审核") from None
        else:
            res.broken = True
        if walker is not None and root is not None:
            _salvage(root, done, walker, budget, res, skip_notes)
    if stream.capped:
        res.capped = True
    return res, walker


def _salvage(root: etree._Element, done: etree._Element | None, walker: _Walker, budget: _Budget,
             res: _PartResult, skip_notes: tuple[str, ...]) -> None:
    """After a parse error (or the size cap), read the blocks parsed so far
    that never reached their end tag (e.g. the one table holding everything)."""
    T = walker.T
    try:
        for cont in root.iter(*T.containers):
            if cont.get(T.a_type) in skip_notes:
                continue
            for child in list(cont):
                if child is done or child.tag not in _TOP_TAGS:
                    continue
                lines: list[str] = []
                walker.block(child, 0, lines)
                budget.take(lines, res.lines)
    except Stop:
        pass


def read_ooxml(zf: zipfile.ZipFile, name: str, kind: str, info: dict, ctx: Ctx, depth: int,
                *, kind_override: str | None = None) -> DocText:
    limits = ctx.limits
    names: dict[str, zipfile.ZipInfo] = info["names"]
    main: str = info["main"]
    warnings: list[str] = []
    out_kind = kind_override or kind
    macro = kind == "docm" or any(n.endswith("vbaproject.bin") for n in names)
    if macro and kind_override is None:
        out_kind = "docm"
        warnings.append(WARN_MACRO.format(ext=".docm"))
    main_info = names.get(main.lower())
    if main_info is None:
        raise Refused(REASON_CORRUPT)
    zipsafe.check_member(main_info)
    doc_rels = _rels(zf, names, _rels_part(main), ctx)
    ct = info.get("ct") or _content_types(zf, names, ctx)
    max_chars = ctx.char_cap()
    budget = _Budget(max_chars)
    flags = {"deleted": False, "hidden": False, "too_deep": False, "drawings": 0}

    def altchunk(rid: str) -> list[str]:
        rel = doc_rels.get(rid)
        if rel is None or rel[2]:
            return []
        part = _resolve(main, rel[1])
        try:
            data = _read_part(zf, names, part, ctx, cap=limits.max_xml_bytes)
        except Refused:
            data = None
        if not data:
            warnings.append(WARN_ALTCHUNK)
            return []
        ctype = ct(part)
        text = None
        if "html" in ctype:
            text = plaintext.html_bytes_to_text(data)
        elif ctype in ("message/rfc822", "multipart/related") or part.lower().endswith((".mht", ".mhtml")):
            text = plaintext.mht_to_text(data)
        elif ctype.startswith("text/plain"):
            text = plaintext.decode_text(data)[0]
        elif "wordprocessingml" in ctype or sniff.sniff(data) == "zip":
            if depth < limits.max_archive_depth and ctx.read_any is not None:
                sub = ctx.read_any(data, name, ctx, depth + 1)
                if sub and sub[0].readable:
                    text = sub[0].text
        if text is None:
            warnings.append(WARN_ALTCHUNK)
            return []
        return text.split("\n")

    def make_walker(tags: _Tags) -> _Walker:
        w = _Walker(tags, limits)
        w.altchunk = altchunk
        return w

    def stream(part_info: zipfile.ZipInfo) -> zipsafe.CappedStream:
        zipsafe.check_member(part_info)
        return zipsafe.CappedStream(zf.open(part_info), limits.max_xml_bytes, ctx)

    def collect(w: _Walker | None) -> None:
        if w is not None:
            flags["deleted"] |= w.deleted
            flags["hidden"] |= w.hidden
            flags["too_deep"] |= w.too_deep
            flags["drawings"] += w.drawings

    body_res, body_walker = _walk_part(stream(main_info), limits, budget, make_walker, main_info.file_size)
    collect(body_walker)
    if body_res.capped:
        warnings.append(WARN_XML_CAPPED)
    if body_res.broken:
        if not body_res.lines:
            raise Refused(REASON_XML)
        warnings.append(WARN_XML_BROKEN)

    # headers/footers referenced by any section (default/first/even), then notes
    def read_aux(part: str) -> list[str]:
        inf = names.get(part.lower())
        if inf is None or budget.left <= 0:
            return []
        try:
            res, w = _walk_part(stream(inf), limits, budget, make_walker, inf.file_size)
        except Refused as e:
            if e.reason == REASON_DTD:
                raise
            return []
        collect(w)
        return res.lines

    header_lines: list[str] = []
    footer_lines: list[str] = []
    seen_parts: set[str] = set()
    seen_text: set[str] = set()
    refs = body_walker.refs if body_walker is not None else []
    for which, rid in refs:
        rel = doc_rels.get(rid)
        if rel is None or rel[2]:
            continue
        part = _resolve(main, rel[1])
        if part.lower() in seen_parts:
            continue
        seen_parts.add(part.lower())
        lines = [ln for ln in read_aux(part)]
        text = "\n".join(lines).strip()
        if not text or text in seen_text:
            continue
        seen_text.add(text)
        (header_lines if which == "header" else footer_lines).extend(ln for ln in lines if ln.strip())
    note_lines: list[str] = []
    for rtype, target, external in doc_rels.values():
        if external or not rtype.endswith(("/footnotes", "/endnotes")):
            continue
        note_lines.extend(ln for ln in read_aux(_resolve(main, target)) if ln.strip())

    all_lines = header_lines + body_res.lines + note_lines + footer_lines
    text = clean_text("\n".join(all_lines))
    if flags["deleted"]:
        warnings.append(WARN_DELETIONS)
    if flags["hidden"]:
        warnings.append(WARN_HIDDEN)
    if flags["too_deep"]:
        warnings.append(WARN_DEEP.format(n=limits.max_nesting_depth))
    if budget.truncated:
        warnings.append(WARN_TRUNCATED.format(n=max_chars))
    visible = visible_chars(text)
    has_media = flags["drawings"] > 0 or any(n.startswith("word/media/") for n in names)
    if visible < 300 and has_media and scan.unavailable(limits) is None:
        scanned = _read_pasted_scans(zf, names, name, out_kind, text, warnings, ctx)
        if scanned is not None:
            return scanned
    if visible < 20 and has_media:
        return doc_text(name, out_kind, text, False, REASON_SCAN, warnings)
    if visible == 0:
        return doc_text(name, out_kind, text, False, REASON_EMPTY, warnings)
    if visible < 300 and has_media:
        warnings.append(WARN_FEW_WORDS_IMAGES)
    attention = [w for w in warnings if w.startswith(("含宏", "文档过长", "文档内容过大", "文档部分内容损坏",
                                                      "文档文字很少"))]
    return doc_text(name, out_kind, text, True, attention[0] if attention else None, warnings)


_PICTURES = (".png", ".jpg", ".jpeg", ".jpe", ".tif", ".tiff", ".bmp", ".gif", ".webp")


def _read_pasted_scans(zf: zipfile.ZipFile, names: dict[str, zipfile.ZipInfo], name: str, kind: str,
                       text: str, warnings: list[str], ctx: Ctx) -> DocText | None:
    """A document of pictures and next to no words is a scan pasted into Word: OCR its pictures
    (word/media, in their numbered order) like the pages of a scanned PDF. None when no picture
    gave text (the caller answers as before)."""
    limits = ctx.limits
    media = [info for n, info in names.items() if n.startswith("word/media/") and n.endswith(_PICTURES)]
    media.sort(key=lambda i: [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", i.filename.lower())])
    pictures = []
    for info in media[: 2 * limits.max_ocr_pages]:
        try:
            pictures.append(zipsafe.read_member(zf, info, limits.max_bytes, ctx))
        except Refused as e:
            if ctx.exhausted:
                raise
            log.info("picture %s of %r not read: %s", info.filename, name, e.reason)
    pages = scan.Pages(ctx)
    count = scan.read_pictures(pictures, pages)
    recognised = "\n".join(t for t in pages.texts.values() if t.strip())
    if visible_chars(recognised) < 20 and not pages.stopped:
        return None
    d = scan.finish(name, kind, pages, count, warnings_=warnings)
    whole = clean_text("\n".join(t for t in (text, d.text) if t.strip()))[: ctx.char_cap()]
    return dataclasses.replace(d, text=whole)
