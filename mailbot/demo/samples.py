"""Realistic department mail and documents, for `mailbot demo` and the integration tests.

Everything here is deterministic: the same arguments give the same bytes (documents are
re-zipped with fixed timestamps, boundaries and Message-IDs are derived from the content).
Only the standard library and python-docx are used, because this module ships in the package.

No region, year or unit is spelled inside the logic: they come from the arguments, i.e. from
the campaign (rules/*.toml) and the roster (rules/units.csv).

    plan_docx(unit, activity=..., theme=...)       a department's 实施方案 (.docx bytes)
    adjustment_docx(unit, old_date=..., ...)        a 调整 report
    summary_docx(unit, held=..., ...)               a 开展情况 report
    MailBuilder(...).attach(...).build()            raw RFC 5322 bytes, as real clients write them
    out_of_office / bounce / mailing_list / malformed
    demo_mails(campaign, roster, office_address)    the demo campaign's mail, with expectations
    demo_mailbox(...)                               the same as [(arrival, raw bytes)]
    write_maildir(path, messages)                   a stdlib Maildir, file mtime = arrival time
"""
from __future__ import annotations

import base64
import hashlib
import html
import io
import mailbox
import os
import quopri
import re
import urllib.parse
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from email import policy
from email.parser import BytesParser
from email.utils import format_datetime, parseaddr
from pathlib import Path
from typing import Any, Iterable, Sequence

from mailbot.cndate import cn_date, md, weekday

__all__ = [
    "ANNOUNCEMENT_ITEMS", "FILENAME_STYLES", "SUBJECT_ENCODINGS", "CLIENTS", "MALFORMED_VARIANTS",
    "plan_docx", "adjustment_docx", "summary_docx", "MailBuilder", "out_of_office", "bounce",
    "mailing_list", "malformed", "DemoMail", "demo_mails", "demo_mailbox", "write_maildir",
    "decoded_subject", "encode_header_text", "default_leader",
]

# The announcement items of the notice, in the notice's order (campaign clause 二(五)).
ANNOUNCEMENT_ITEMS = ("报名方式", "参加人数", "开放主题", "参加领导", "承办单位", "时间地点",
                      "活动内容", "活动形式", "联系人员", "联系电话", "温馨提示")

FILENAME_STYLES = ("rfc2231", "rfc2231-gbk", "rfc2047-gbk", "rfc2047-utf8", "rfc2047-gb18030",
                   "raw-gbk")
SUBJECT_ENCODINGS = ("utf8-b", "utf8-q", "gbk-b", "gb2312-b", "gb18030-b", "raw-gbk", "ascii")

CHINA_TZ = timezone(timedelta(hours=8))
CRLF = b"\r\n"
DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"

_CONTENT_TYPES = {
    ".docx": DOCX_TYPE,
    ".doc": "application/msword",
    ".wps": "application/kswps",
    ".pdf": "application/pdf",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".xls": "application/vnd.ms-excel",
    ".zip": "application/zip",
    ".rar": "application/x-rar-compressed",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".png": "image/png",
    ".txt": "text/plain",
    ".eml": "message/rfc822",
}


# --------------------------------------------------------------------------------------------
# small helpers


def _digest(*parts: Any) -> bytes:
    h = hashlib.sha256()
    for p in parts:
        h.update(repr(p).encode("utf-8"))
        h.update(b"\x00")
    return h.digest()


def _pick(seq: Sequence[Any], *key: Any) -> Any:
    return seq[int.from_bytes(_digest(*key)[:4], "big") % len(seq)]



def _region_of(unit: str) -> str:
    """西吉县民政局 → 西吉县 (first 县/区/市/旗); empty when the name carries no region."""
    m = re.match(r"^(.{2,6}?[县区市旗])(?=.{2,})", unit)
    return m.group(1) if m else ""


def _short(unit: str, region: str = "") -> str:
    """西吉县民政局 → 民政局 (how people write it in subjects)."""
    region = region or _region_of(unit)
    s = unit[len(region):] if region and unit.startswith(region) else unit
    return s or unit


def _aware(dt: datetime) -> datetime:
    return dt if dt.tzinfo is not None else dt.replace(tzinfo=CHINA_TZ)


def _workday(d: date) -> date:
    while d.weekday() >= 5:
        d += timedelta(days=1)
    return d


# Department profiles: matched by a fragment of the unit's name; the first hit wins.
# (fragment, theme, on-site place, what is shown there, meeting opened to the public, office)
# "{r}" is the region without its suffix (西吉县 → 西吉).
_PROFILES: tuple[tuple[str, str, str, str, str, str], ...] = (
    ("农业农村", "走进农业农村 共建美丽乡村", "马铃薯脱毒种薯繁育基地", "马铃薯种薯繁育和高标准农田建设",
     "农业产业发展项目评审会", "办公室"),
    ("乡村振兴", "巩固脱贫成果 助力乡村振兴", "易地扶贫搬迁安置区", "易地搬迁后续扶持和防返贫动态监测",
     "衔接资金项目论证会", "综合股"),
    ("民政", "阳光民政 温暖相伴", "县社会救助服务中心低保评审现场", "最低生活保障申请、审核、评审全过程",
     "低保评审会", "办公室"),
    ("医疗保障", "医保为民 服务到家", "县政务服务中心医保服务窗口", "医保参保登记、异地就医备案和门诊慢特病认定",
     "医保基金监管工作会", "办公室"),
    ("教育", "办好人民满意的教育", "县城第一小学", "“双减”政策落实、校园食品安全和课后服务",
     "教育项目论证会", "办公室"),
    ("卫生健康", "健康{r} 你我同行", "县疾病预防控制中心疫苗保管接种现场", "疫苗冷链储存和预防接种流程",
     "卫生健康重点项目论证会", "办公室"),
    ("人力资源", "就业惠民生 社保暖人心", "县人力资源市场", "就业招聘服务、社保待遇认证和农民工工资支付保障",
     "根治欠薪工作联席会议", "办公室"),
    ("住房", "安居宜居 共建美好家园", "城区老旧小区改造项目施工现场", "老旧小区改造工程质量安全管理",
     "保障性住房分配评审会", "办公室"),
    ("发展", "优化营商环境 助力高质量发展", "县重点项目建设现场", "重点项目审批、建设进度和投资管理",
     "重点项目评估论证会", "办公室"),
    ("财政", "阳光财政 惠民利民", "县财政国库集中支付中心", "惠民惠农财政补贴资金“一卡通”发放",
     "预算编制评审会", "办公室"),
    ("自然资源", "节约集约用地 守护耕地红线", "县不动产登记中心", "不动产登记“一窗受理”和耕地保护",
     "国土空间规划论证会", "办公室"),
    ("交通", "建好四好农村路 畅通群众幸福路", "农村公路建设项目现场", "农村公路建设质量和养护管理",
     "交通建设项目评审会", "办公室"),
    ("水务", "节水护水 共建幸福河湖", "县城区供水厂", "城乡供水水质检测和节水型社会建设",
     "水利项目论证会", "办公室"),
    ("文化旅游", "文旅惠民 共享精彩", "县图书馆、文化馆", "公共文化服务和文化市场执法",
     "文旅项目论证会", "办公室"),
    ("市场监督", "守护舌尖上的安全", "城区农贸市场食品安全执法现场", "食品快检和市场主体登记",
     "食品安全工作会议", "办公室"),
    ("应急", "人人讲安全 个个会应急", "安全生产执法现场", "安全生产监管执法和应急物资储备",
     "安全生产专题会议", "办公室"),
    ("统计", "统计为民 数说发展", "县统计局数据处理中心", "统计数据采集、审核和发布流程",
     "统计工作会议", "办公室"),
    ("审计", "阳光审计 守护民生资金", "民生资金审计现场", "民生资金审计流程", "审计业务会", "办公室"),
)
_GENERIC_PROFILE = ("", "走进{s} 了解{s}", "{s}政务服务窗口", "政务服务事项办理流程", "局务会", "办公室")

_LEADER_NAMES = ("马志明", "王建国", "李文斌", "田耀宗", "杨彦军", "苏振华", "海宏伟", "张永平",
                 "罗国强", "何学军", "虎占林", "单晓东")
_SUGGESTIONS = (
    ("建议进一步简化办事材料，推行“一次性告知”。", "已采纳，已在服务窗口公示一次性告知清单。"),
    ("建议在乡镇便民服务中心增设自助服务终端。", "已纳入明年工作计划，分批实施。"),
    ("建议加大政策宣传力度，多用群众听得懂的语言解读政策。", "已采纳，已制作政策解读短视频。"),
    ("建议延长窗口午间服务时间，方便上班族办事。", "已采纳，自下月起实行午间不打烊。"),
    ("建议定期公开项目建设进度和资金使用情况。", "已采纳，按季度在门户网站公开。"),
    ("建议畅通线上咨询渠道，及时回复群众留言。", "已采纳，已明确专人负责留言回复。"),
    ("建议常态化开展“政府开放日”活动，邀请更多群众参与。", "已采纳，将每季度开展一次。"),
)


def _profile(unit: str, region: str) -> dict[str, str]:
    prof = next((p for p in _PROFILES if p[0] in unit), _GENERIC_PROFILE)
    r = region.rstrip("县区市旗") if region else ""
    s = _short(unit, region)
    fill = (lambda t: t.format(r=r or "家园", s=s))
    return {"theme": fill(prof[1]), "site": fill(prof[2]), "shown": fill(prof[3]),
            "meeting": fill(prof[4]), "office": prof[5]}


def default_leader(unit: str) -> str:
    """A plausible 参加领导 line for a unit (deterministic)."""
    return f"局党组书记、局长{_pick(_LEADER_NAMES, 'leader', unit)}"


# --------------------------------------------------------------------------------------------
# .docx documents

_FANGSONG, _HEITI, _KAITI, _XBS, _SONG = "仿宋_GB2312", "黑体", "楷体_GB2312", "方正小标宋简体", "宋体"


class _Doc:
    """A small writer for documents laid out like GB/T 9704 official papers."""

    def __init__(self, header: str, *, author: str, title: str, when: date):
        from docx import Document
        from docx.enum.text import WD_ALIGN_PARAGRAPH
        from docx.oxml import OxmlElement
        from docx.oxml.ns import qn
        from docx.shared import Cm, Pt

        self._Pt, self._qn, self._Ox, self._A = Pt, qn, OxmlElement, WD_ALIGN_PARAGRAPH
        self.doc = Document()
        self.when = when
        normal = self.doc.styles["Normal"]
        normal.font.name = "Times New Roman"
        normal.font.size = Pt(16)
        normal.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), _FANGSONG)
        sec = self.doc.sections[0]
        sec.page_width, sec.page_height = Cm(21.0), Cm(29.7)
        sec.top_margin, sec.bottom_margin = Cm(3.7), Cm(3.5)
        sec.left_margin, sec.right_margin = Cm(2.8), Cm(2.6)
        sec.header_distance, sec.footer_distance = Cm(1.5), Cm(2.8)
        hp = sec.header.paragraphs[0]
        hp.alignment = WD_ALIGN_PARAGRAPH.RIGHT
        self._font(hp.add_run(header), _SONG, 9)
        fp = sec.footer.paragraphs[0]
        fp.alignment = WD_ALIGN_PARAGRAPH.CENTER
        self._font(fp.add_run("— "), _SONG, 14)
        fld = OxmlElement("w:fldSimple")
        fld.set(qn("w:instr"), " PAGE  \\* MERGEFORMAT ")
        r = OxmlElement("w:r")
        t = OxmlElement("w:t")
        t.text = "1"
        r.append(t)
        fld.append(r)
        fp._p.append(fld)
        self._font(fp.add_run(" —"), _SONG, 14)
        cp = self.doc.core_properties
        cp.author = author
        cp.last_modified_by = author
        cp.title = title
        cp.comments = ""
        cp.revision = 3
        stamp = datetime.combine(when, time(9, 0))
        cp.created = stamp - timedelta(days=2)
        cp.modified = stamp
        cp.last_printed = stamp

    def _font(self, run, name: str, size: float, bold: bool = False) -> None:
        run.font.name = "Times New Roman"
        run.font.size = self._Pt(size)
        run.font.bold = bold
        run._element.get_or_add_rPr().get_or_add_rFonts().set(self._qn("w:eastAsia"), name)

    def _para(self, *, align=None, indent=True, spacing=28.0):
        p = self.doc.add_paragraph()
        pf = p.paragraph_format
        pf.line_spacing = self._Pt(spacing)
        pf.space_before = pf.space_after = self._Pt(0)
        if indent:
            pf.first_line_indent = self._Pt(32)
        if align is not None:
            p.alignment = align
        return p

    def title(self, text: str) -> None:
        for line in text.split("\n"):
            p = self._para(align=self._A.CENTER, indent=False, spacing=35)
            self._font(p.add_run(line), _XBS, 22)
        self._para(indent=False)

    def text(self, text: str) -> None:
        self._font(self._para().add_run(text), _FANGSONG, 16)

    def plain(self, text: str) -> None:
        """A paragraph without first-line indent (addressee line)."""
        self._font(self._para(indent=False).add_run(text), _FANGSONG, 16)

    def h1(self, text: str) -> None:
        self._font(self._para().add_run(text), _HEITI, 16)

    def h2(self, lead: str, rest: str = "") -> None:
        """（一）加强组织领导。rest… — the lead in 楷体, the rest in 仿宋 (one paragraph)."""
        p = self._para()
        self._font(p.add_run(lead), _KAITI, 16, bold=True)
        if rest:
            self._font(p.add_run(rest), _FANGSONG, 16)

    def blank(self) -> None:
        self._para(indent=False)

    def signature(self, *lines: str) -> None:
        self.blank()
        for line in lines:
            p = self._para(align=self._A.RIGHT, indent=False)
            p.paragraph_format.right_indent = self._Pt(32)
            self._font(p.add_run(line), _FANGSONG, 16)

    def page_break(self) -> None:
        from docx.enum.text import WD_BREAK
        self._para(indent=False).add_run().add_break(WD_BREAK.PAGE)

    def table(self, rows: Sequence[Sequence[str]], widths_cm: Sequence[float], *,
              header: bool = True, size: float = 14) -> None:
        from docx.shared import Cm
        t = self.doc.add_table(rows=len(rows), cols=len(widths_cm))
        t.style = "Table Grid"
        from docx.enum.table import WD_TABLE_ALIGNMENT
        t.alignment = WD_TABLE_ALIGNMENT.CENTER
        for i, (row, tr) in enumerate(zip(rows, t.rows)):
            for j, (value, cell) in enumerate(zip(row, tr.cells)):  # t.cell(i, j) is O(cells)
                cell.width = Cm(widths_cm[j])
                p = cell.paragraphs[0]
                p.paragraph_format.line_spacing = self._Pt(22)
                if (header and i == 0) or (j == 0 and len(widths_cm) == 2):
                    p.alignment = self._A.CENTER
                bold = header and i == 0
                self._font(p.add_run(value), _HEITI if bold else _FANGSONG, size, bold=False)

    def bytes(self) -> bytes:
        buf = io.BytesIO()
        self.doc.save(buf)
        return _normalize_docx(buf.getvalue(), self.when, self.doc.core_properties.author or "")


_APP_XML = ("<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n"
            "<Properties xmlns=\"http://schemas.openxmlformats.org/officeDocument/2006/extended-properties\" "
            "xmlns:vt=\"http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes\">"
            "<Template>Normal.dotm</Template><TotalTime>42</TotalTime><Pages>{pages}</Pages>"
            "<Application>Microsoft Office Word</Application><DocSecurity>0</DocSecurity>"
            "<ScaleCrop>false</ScaleCrop><Company>{company}</Company><LinksUpToDate>false</LinksUpToDate>"
            "<SharedDoc>false</SharedDoc><HyperlinksChanged>false</HyperlinksChanged>"
            "<AppVersion>16.0000</AppVersion></Properties>")


# python-docx's template carries a thumbnail of an empty page and Word 2010's 430 KB
# stylesWithEffects part; real documents from WPS/Word 2016 have neither.
_DROPPED_PARTS = frozenset({"docProps/thumbnail.jpeg", "word/stylesWithEffects.xml"})


def _normalize_docx(data: bytes, when: date, company: str) -> bytes:
    """Re-zip with fixed timestamps (deterministic bytes), drop python-docx's tell-tales."""
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    stamp = (when.year, when.month, when.day, 9, 0, 0)
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for info in src.infolist():
            name = info.filename
            if name in _DROPPED_PARTS:
                continue
            blob = src.read(name)
            if name.endswith(".rels"):
                blob = re.sub(rb"<Relationship [^>]*Target=\"[^\"]*(?:thumbnail\.jpeg|stylesWithEffects\.xml)\"/>",
                              b"", blob)
            elif name == "[Content_Types].xml":
                blob = re.sub(rb"<Override PartName=\"/word/stylesWithEffects\.xml\"[^>]*/>", b"", blob)
            elif name == "docProps/app.xml":
                blob = _APP_XML.format(pages=2, company=html.escape(company)).encode("utf-8")
            elif name == "docProps/core.xml":
                blob = blob.replace(b"generated by python-docx", b"")
            zi = zipfile.ZipInfo(name, date_time=stamp)
            zi.compress_type = zipfile.ZIP_DEFLATED
            zi.external_attr = 0o644 << 16
            z.writestr(zi, blob)
    return out.getvalue()


def plan_docx(unit: str, *, activity: date, theme: str | None = None, participants: int = 30,
              place: str | None = None, leader: str | None = None, contact: str = "",
              phone: str = "", email: str = "", forms: Iterable[str] = ("进机关", "进现场"),
              qa: bool = True, survey: bool = True, omit: Iterable[str] = (),
              layout: str = "table", kind_title: str = "实施方案",
              extra_paragraphs: Iterable[str] = (), region: str | None = None,
              event_name: str = "政府开放日", notice: str | None = None,
              signed: date | None = None, participants_text: str | None = None,
              labels: dict[str, str] | None = None, deputies: bool = False,
              office: str = "县政务公开办公室") -> bytes:
    """A department's “政府开放日” 实施方案 as .docx bytes (about 30 KB, deterministic).

    Layout: title, intro, 一、活动主题 二、时间安排 三、邀请对象 四、开放安排 (进机关/进现场/进会议 per
    `forms`, 座谈问答 if `qa`, 问卷调查 if `survey`) 五、活动公告 (the 11 announcement items as a
    two-column table, or as numbered paragraphs when layout="prose") 六、工作要求, signature,
    an appendix page with a blank 报名表 (dropped with 报名方式); page header and page-number footer.

    `omit` drops announcement items (names from ANNOUNCEMENT_ITEMS). The rest of the document
    never spells an item's label, nor 注意事项/活动要求 (synonyms of 温馨提示), nor 座谈/问卷
    when qa/survey are off, and states the headcount only when 参加人数 is present: an omitted
    item is really absent. `labels` renames item labels (e.g. {"温馨提示": "注意事项"}).
    `event_name` replaces 政府开放日 (e.g. "校园开放日", which the notice forbids);
    `participants_text` overrides "30人" (e.g. "30余人"); `deputies` invites 人大代表、政协委员
    (which the notice forbids). `region` defaults to the prefix of `unit` (…县).
    """
    if layout not in ("table", "prose"):
        raise ValueError(f"layout must be 'table' or 'prose', not {layout!r}")
    omit = set(omit)
    unknown = omit - set(ANNOUNCEMENT_ITEMS)
    if unknown:
        raise ValueError(f"unknown announcement items in omit: {sorted(unknown)}")
    forms = tuple(forms)
    labels = dict(labels or {})
    region = _region_of(unit) if region is None else region
    short = _short(unit, region)
    prof = _profile(unit, region)
    theme = theme or prof["theme"]
    leader = leader or default_leader(unit)
    place = place or f"{unit}机关三楼会议室、{prof['site']}"
    signed = signed or (activity - timedelta(days=21))
    year = activity.year
    notice = notice or f"《{region}{year}年度“政府开放日”活动实施方案》"
    event = f"{unit}“{event_name}”"
    head_count = participants_text or f"{participants}人"
    counted = "参加人数" not in omit

    d = _Doc(f"{unit}{year}年“{event_name}”活动{kind_title}", author=contact or short,
             title=f"{unit}{year}年“{event_name}”活动{kind_title}", when=signed)
    d.title(f"{unit}{year}年“{event_name}”\n活动{kind_title}")
    d.text(f"为深入贯彻落实{notice}精神，进一步推进政务公开，搭建政府与群众沟通互动的平台，"
           f"切实保障人民群众的知情权、参与权、表达权和监督权，经局党组研究，决定于{cn_date(activity)}"
           f"开展{event}活动。结合我局工作实际，特制定本方案。")

    d.h1("一、活动主题")
    d.text(f"“{theme}”。")

    d.h1("二、时间安排")
    d.text(f"{cn_date(activity)}（{weekday(activity)}）上午9:00—11:30，集合地点为{unit}机关一楼大厅。")

    d.h1("三、邀请对象")
    who = (f"群众代表{head_count}" if counted else "群众代表")
    invitees = (f"面向社会公开邀请在{region or '本地'}生活、工作、学习且年满18周岁、具有完全民事行为能力的"
                f"{who}，主要包括专家学者、新闻媒体记者、企业职工、个体工商户、社区工作者、"
                f"政务公开义务监督员及服务对象代表等")
    if deputies:
        invitees += "，同时邀请县人大代表、政协委员各2名参加。"
    else:
        invitees += "（不含“两代表一委员”）。"
    d.text(invitees)

    d.h1("四、开放安排")
    steps: list[tuple[str, str]] = []
    if "进机关" in forms:
        steps.append(("进机关。", f"组织群众代表走进{unit}机关，参观办公场所、政务公开专栏和档案室，"
                                 f"查看办文流转、办会场所和办事流程，听取{short}职能职责及年度重点工作情况介绍。"))
    if "进现场" in forms:
        steps.append(("进现场。", f"组织群众代表实地参观{prof['site']}，由业务股室负责人现场讲解"
                                 f"{prof['shown']}，亲身感受工作流程。"))
    if "进会议" in forms:
        steps.append(("进会议。", f"邀请群众代表列席{prof['meeting']}，旁听议题研究讨论过程，"
                                 f"了解行政决策的程序和依据。"))
    if qa:
        steps.append(("座谈问答。", "召开座谈会，由局主要负责同志介绍工作开展情况，现场解答群众代表提出的问题，"
                                   "面对面听取意见建议。"))
    if survey:
        steps.append(("问卷调查。", f"向参加活动的群众代表发放《{event}活动满意度调查问卷》，"
                                   "现场填写、现场回收，征集对我局工作的意见建议。"))
    if not steps:
        steps.append(("参观交流。", f"组织群众代表参观{unit}机关，听取工作情况介绍。"))
    for i, (lead, rest) in enumerate(steps):
        d.h2(f"（{_CN_NUM[i]}）{lead}", rest)
    schedule = [("时间", "环节", "负责股室"), ("9:00—9:20", "签到集合，发放宣传资料", prof["office"])]
    start, span = 9 * 60 + 20, (130 // len(steps))
    for i, (lead, _) in enumerate(steps):
        a, b = start + i * span, (start + (i + 1) * span if i + 1 < len(steps) else 11 * 60 + 30)
        schedule.append((f"{a // 60}:{a % 60:02d}—{b // 60}:{b % 60:02d}", lead.rstrip("。"),
                         prof["office"] if lead in ("座谈问答。", "问卷调查。") else "相关业务股室"))
    d.table(schedule, (3.6, 7.2, 4.6))

    d.h1("五、活动公告")
    d.text(f"本方案经{office}审核备案后，于{cn_date(activity - timedelta(days=16))}前在县人民政府门户网站、"
           f"“{(region.rstrip('县区市旗') + short.removesuffix('局'))}”微信公众号等平台发布活动公告，公告内容如下：")
    forms_text = "、".join([*forms, *(["座谈问答"] if qa else []), *(["问卷调查"] if survey else [])])
    content = f"参观{unit}机关办公场所"
    if "进现场" in forms:
        content += f"和{prof['site']}"
    content += f"，了解{prof['shown']}"
    if qa:
        content += "，与局领导座谈交流、现场答疑"
    items = {
        "报名方式": ("采取线上报名和线下推荐相结合的方式。有意参加的群众可于"
                   f"{md(activity - timedelta(days=5))}前拨打下方电话"
                   + (f"或发送电子邮件至{email}" if email else "")
                   + "报名，报名时请提供姓名、身份证号码、工作单位及手机号码，按报名先后顺序确定人选，额满为止。"),
        "参加人数": head_count,
        "开放主题": theme,
        "参加领导": leader,
        "承办单位": f"{unit}{prof['office']}",
        "时间地点": f"{cn_date(activity)}（{weekday(activity)}）上午9:00，{place}",
        "活动内容": content + "。",
        "活动形式": forms_text or "参观交流",
        "联系人员": contact or "局办公室工作人员",
        "联系电话": phone or "—",
        "温馨提示": ("1.请参加活动的群众代表携带本人身份证，于活动当天8:50前到达集合地点签到；"
                   "2.活动期间请遵守现场秩序，听从工作人员安排，注意人身安全；"
                   "3.请做好个人防护，全程佩戴口罩，配合做好体温检测、扫码登记等疫情防控工作。"),
    }
    shown = [(labels.get(k, k), items[k]) for k in ANNOUNCEMENT_ITEMS if k not in omit]
    if layout == "table":
        d.table([("事项", "内容"), *shown], (3.2, 12.2))
    else:
        for i, (k, v) in enumerate(shown):
            d.h2(f"（{_CN_NUM[i]}）{k}：", v)

    d.h1("六、工作要求")
    d.h2("（一）加强组织领导。", f"成立由局党组书记、局长任组长，分管副局长任副组长，各股室负责人为成员的"
                            f"“{event_name}”活动工作领导小组，领导小组办公室设在局{prof['office']}，"
                            "负责活动的统筹协调和具体实施。")
    d.h2("（二）精心组织实施。", "各股室要按照职责分工，认真做好接待引导、现场讲解、宣传资料准备等工作，"
                            "确保以良好的环境、优质的服务、规范的形象迎接群众代表。")
    d.h2("（三）做好宣传报道。", "充分利用门户网站、政务新媒体等平台加强宣传，在活动当天做好记录拍摄工作，"
                            "扩大活动影响力。")
    d.h2("（四）及时回应关切。", "活动结束后，对线上线下征集到的意见建议进行梳理汇总、分类整理，"
                            "专题研究解决，并在15天内公开反馈采纳情况。")
    for extra in extra_paragraphs:
        d.text(extra)

    d.signature(unit, cn_date(signed))
    if "报名方式" not in omit:
        d.page_break()
        d.plain("附件")
        d.title(f"{event}活动报名表")
        rows = [("序号", "姓名", "性别", "年龄", "工作单位", "职业身份", "手机号码")]
        rows += [(str(i), "", "", "", "", "", "") for i in range(1, 11)]
        d.table(rows, (1.3, 2.0, 1.3, 1.3, 4.0, 2.5, 3.0), size=12)
    return d.bytes()


_CN_NUM = ("一", "二", "三", "四", "五", "六", "七", "八", "九", "十", "十一", "十二", "十三",
           "十四", "十五", "十六")


def adjustment_docx(unit: str, *, old_date: date, new_date: date, reason: str,
                    signed: date | None = None, contact: str = "", phone: str = "",
                    office: str = "县人民政府政务公开办公室", region: str | None = None,
                    event_name: str = "政府开放日", notice: str | None = None) -> bytes:
    """A 调整 report: the activity moves from old_date to new_date because of `reason`."""
    region = _region_of(unit) if region is None else region
    signed = signed or (old_date - timedelta(days=5))
    notice = notice or f"《{region}{old_date.year}年度“政府开放日”活动实施方案》"
    d = _Doc(f"{unit}", author=contact or _short(unit, region),
             title=f"关于调整{unit}“{event_name}”活动时间的报告", when=signed)
    d.title(f"关于调整{unit}“{event_name}”\n活动时间的报告")
    d.plain(f"{office}：")
    d.text(f"按照{notice}要求，我局原定于{cn_date(old_date)}（{weekday(old_date)}）开展“{event_name}”活动，"
           f"活动实施方案已报送备案。因{reason.rstrip('。')}，经局党组研究，决定将活动时间调整为"
           f"{cn_date(new_date)}（{weekday(new_date)}），活动主题、地点、内容及形式均不变。")
    d.text("我局将在门户网站和政务新媒体同步更新活动公告，并逐一电话告知已报名的群众代表。")
    d.text("特此报告。")
    if contact or phone:
        d.text(f"联系人：{contact}    联系电话：{phone}")
    d.signature(unit, cn_date(signed))
    return d.bytes()


def summary_docx(unit: str, *, held: date, participants: int, suggestions: int, feedback: str,
                 theme: str | None = None, adopted: int | None = None, signed: date | None = None,
                 contact: str = "", phone: str = "", region: str | None = None,
                 event_name: str = "政府开放日", notice: str | None = None,
                 forms: Iterable[str] = ("进机关", "进现场")) -> bytes:
    """A 开展情况 report: held on `held`, `participants` people, `suggestions` collected."""
    region = _region_of(unit) if region is None else region
    prof = _profile(unit, region)
    theme = theme or prof["theme"]
    adopted = min(suggestions, adopted if adopted is not None else (suggestions * 2 + 2) // 3)
    signed = signed or (held + timedelta(days=7))
    notice = notice or f"《{region}{held.year}年度“政府开放日”活动实施方案》"
    forms = tuple(forms)
    title = f"{unit}{held.year}年“{event_name}”活动开展情况"
    d = _Doc(title, author=contact or _short(unit, region), title=title, when=signed)
    d.title(f"{unit}{held.year}年“{event_name}”\n活动开展情况")
    d.text(f"按照{notice}要求，我局于{cn_date(held)}成功开展了以“{theme}”为主题的“{event_name}”活动。"
           "现将有关情况报告如下：")
    d.h1("一、活动开展情况")
    d.text(f"本次活动共邀请群众代表{participants}人参加，包括企业职工、社区工作者、个体工商户、"
           f"政务公开义务监督员及服务对象代表等。活动采取{'、'.join(forms) or '参观交流'}、座谈问答和问卷调查相结合的形式，"
           f"群众代表参观了{unit}机关和{prof['site']}，现场了解了{prof['shown']}。")
    d.h1("二、主要做法")
    d.h2("（一）精心筹备。", "活动前15天在门户网站和政务新媒体发布活动公告，公开报名方式和活动安排，"
                         "通过线上报名和线下推荐确定参加人员。")
    d.h2("（二）突出互动。", "座谈会上局主要负责同志介绍了年度重点工作，逐一回答群众代表提出的问题，"
                         "现场发放并回收满意度调查问卷。")
    d.h2("（三）注重实效。", "活动全程有专人讲解、专人记录，做到群众有问必答、意见件件有回音。")
    d.h1("三、意见建议征集及反馈情况")
    d.text(f"活动共收集意见建议{suggestions}条，已采纳{adopted}条，其余已纳入下一步工作计划研究解决。"
           f"{feedback}")
    rows = [("序号", "意见建议", "办理情况")]
    for i in range(min(suggestions, len(_SUGGESTIONS))):
        s, r = _SUGGESTIONS[(i + int.from_bytes(_digest(unit)[:1], "big")) % len(_SUGGESTIONS)]
        rows.append((str(i + 1), s, r))
    if len(rows) > 1:
        d.table(rows, (1.4, 7.4, 6.6), size=12)
    d.h1("四、存在的问题及下一步打算")
    d.text("本次活动虽取得了预期效果，但也存在群众参与面不够广、互动环节时间偏短等问题。下一步，"
           "我局将认真总结经验，丰富活动形式，推动“政府开放日”活动常态化、制度化开展，"
           "持续提升政务公开工作水平。")
    if contact or phone:
        d.text(f"联系人：{contact}    联系电话：{phone}")
    d.signature(unit, cn_date(signed))
    return d.bytes()


# --------------------------------------------------------------------------------------------
# raw mail


CLIENTS: dict[str, dict[str, Any]] = {
    # subject/from encoding, body charset and transfer encoding, html alternative, filename style,
    # and the headers that give a client away.
    "foxmail": dict(subject="gbk-b", charset="gbk", cte="base64", html=True, filename="rfc2047-gbk",
                    quote_name=True, signature="\r\n\r\n{from_addr}\r\n",
                    headers=[("X-Priority", "3"), ("X-GUID", "{guid}"), ("X-Has-Attach", "{has_attach}"),
                             ("X-Mailer", "Foxmail 7.2.23.116[cn]")],
                    boundary="----=_001_NextPart{n12}_=----", msgid="<{stamp}{n8}@{domain}>"),
    "outlook": dict(subject="gb2312-b", charset="gb2312", cte="base64", html=True, filename="rfc2231",
                    quote_name=False, signature="",
                    headers=[("X-Mailer", "Microsoft Outlook 16.0"), ("Thread-Index", "{thread_index}"),
                             ("Content-Language", "zh-cn")],
                    boundary="----=_NextPart_000_{h4}_01D8{h4b}.{h8}",
                    msgid="<000001d8{h4}${h8}${h8b}$@{domain}>"),
    "iphone": dict(subject="utf8-b", charset="utf-8", cte="base64", html=False, filename="rfc2231",
                   quote_name=False, signature="\r\n\r\n发自我的iPhone\r\n",
                   headers=[("X-Mailer", "iPhone Mail (19G82)")],
                   boundary="Apple-Mail-{uuid}", msgid="<{uuid}@{domain}>", mime_version="1.0 (1.0)"),
    "163web": dict(subject="utf8-b", charset="utf-8", cte="base64", html=True, filename="rfc2047-utf8",
                   quote_name=False, signature="",
                   headers=[("X-Priority", "3"),
                            ("X-Mailer", "Coremail Webmail Server Version XT5.0.13 build 20220113(9671e152) "
                                         "Copyright (c) 2002-2022 www.mailtech.cn 163com"),
                            ("X-NTES-SC", "AL_QuyTA/2SvEIo5imZbOkXn0sShO45Xsa0s/4n3YVSN5E0qCHp+i8Cd1kkQ1T1")],
                   boundary="----=_Part_{d6}_{d9}.{d13}", msgid="<{h8}.{h4}.{h11}.Coremail.{local}@{domain}>"),
    "qqmail": dict(subject="gb18030-b", charset="gb18030", cte="base64", html=True,
                   filename="rfc2047-gb18030", quote_name=True, signature="",
                   headers=[("X-QQ-MIME", "TCMime 1.0 by Tencent"), ("X-Mailer", "QQMail 2.x"),
                            ("X-QQ-Mailer", "QQMail 2.x")],
                   boundary="----=_NextPart_{h8}_{h8b}_{h8c}", msgid="<tencent_{H24}@{domain}>"),
    "legacy": dict(subject="raw-gbk", charset="gbk", cte="8bit", html=False, filename="raw-gbk",
                   quote_name=True, signature="",
                   headers=[("X-Mailer", "Microsoft Outlook Express 6.00.2900.5512"),
                            ("X-MimeOLE", "Produced By Microsoft MimeOLE V6.00.2900.5512")],
                   boundary="----=_NextPart_000_{h4}_01D8{h4b}.{h8}", msgid="<{h12}$1@{local}>"),
    "generic": dict(subject="utf8-b", charset="utf-8", cte="base64", html=False, filename="rfc2231",
                    quote_name=False, signature="", headers=[],
                    boundary="===============_{d13}==", msgid="<{h16}@{domain}>"),
}

_WORD_CHARSETS = {  # subject/filename style → (label in the header, codec)
    "utf8-b": ("UTF-8", "utf-8", "B"), "utf8-q": ("UTF-8", "utf-8", "Q"),
    "gbk-b": ("GBK", "gbk", "B"), "gb2312-b": ("gb2312", "gbk", "B"),
    "gb18030-b": ("gb18030", "gb18030", "B"),
}


def _q_encode(raw: bytes) -> str:
    out = []
    for b in raw:
        c = chr(b)
        if c == " ":
            out.append("_")
        elif c.isalnum() and b < 128:
            out.append(c)
        else:
            out.append(f"={b:02X}")
    return "".join(out)


def _encoded_words(text: str, style: str, limit: int = 75) -> list[str]:
    """text → encoded words of at most `limit` characters, split on character boundaries."""
    label, codec, mode = _WORD_CHARSETS[style]
    words, chunk = [], ""

    def enc(s: str) -> str:
        raw = s.encode(codec)
        body = base64.b64encode(raw).decode("ascii") if mode == "B" else _q_encode(raw)
        return f"=?{label}?{mode}?{body}?="

    for ch in text:
        if chunk and len(enc(chunk + ch)) > limit:
            words.append(enc(chunk))
            chunk = ""
        chunk += ch
    if chunk or not words:
        words.append(enc(chunk))
    return words


def encode_header_text(text: str, style: str) -> bytes:
    """An unstructured header value (Subject) in the given SUBJECT_ENCODINGS style, folded."""
    if style not in SUBJECT_ENCODINGS:
        raise ValueError(f"unknown subject encoding {style!r}")
    if style == "ascii" or text.isascii():
        return text.encode("ascii")
    if style == "raw-gbk":
        return text.encode("gbk")
    # 66 keeps "Subject: " + the first word within 76 characters.
    return "\r\n ".join(_encoded_words(text, style, limit=66)).encode("ascii")


def _encode_display_name(name: str, style: str, quote: bool) -> bytes:
    if not name:
        return b""
    if name.isascii():
        if re.search(r"[()<>\[\]:;@\\,.\"]", name):
            return b'"' + name.replace("\\", "\\\\").replace('"', '\\"').encode("ascii") + b'"'
        return name.encode("ascii")
    if style == "raw-gbk":
        return b'"' + name.encode("gbk") + b'"'
    word = "".join(_encoded_words(name, style if style != "ascii" else "utf8-b", limit=998))
    return (f'"{word}"' if quote else word).encode("ascii")


def _address(name: str, addr: str, style: str, quote: bool) -> bytes:
    dn = _encode_display_name(name, style, quote)
    return (dn + b" <" + addr.encode("ascii") + b">") if dn else addr.encode("ascii")


def _fallback_name(filename: str) -> str:
    """iPhone's ASCII stand-in for a non-ASCII name: every non-ASCII character becomes "_"."""
    return "".join(c if c.isascii() and c not in '"\\' else "_" for c in filename)


_ATTR_SAFE = "!#$&+-.^_`|~"


def _rfc2231_segments(text: str, codec: str, limit: int = 60) -> list[str]:
    segs, chunk = [], ""
    enc = (lambda s: urllib.parse.quote(s.encode(codec), safe=_ATTR_SAFE))
    for ch in text:
        if chunk and len(enc(chunk + ch)) > limit:
            segs.append(enc(chunk))
            chunk = ""
        chunk += ch
    segs.append(enc(chunk))
    return segs


def _quoted(value: bytes) -> bytes:
    return b'"' + value.replace(b"\\", b"\\\\").replace(b'"', b'\\"') + b'"'


def _filename_params(param: str, filename: str, style: str) -> list[bytes]:
    """The `param` (name / filename) of a Content-Type / Content-Disposition in `style`."""
    if style not in FILENAME_STYLES:
        raise ValueError(f"unknown filename style {style!r}")
    p = param.encode("ascii")
    if filename.isascii():
        return [p + b"=" + _quoted(filename.encode("ascii"))]
    if style in ("rfc2231", "rfc2231-gbk"):
        label, codec = ("UTF-8", "utf-8") if style == "rfc2231" else ("gbk", "gbk")
        segs = _rfc2231_segments(filename, codec)
        if len(segs) == 1:
            return [p + f"*={label}''{segs[0]}".encode("ascii")]
        out = [p + f"*0*={label}''{segs[0]}".encode("ascii")]
        out += [p + f"*{i}*={s}".encode("ascii") for i, s in enumerate(segs[1:], start=1)]
        return out
    if style == "raw-gbk":
        return [p + b"=" + _quoted(filename.encode("gbk"))]
    word_style = {"rfc2047-gbk": "gbk-b", "rfc2047-utf8": "utf8-b", "rfc2047-gb18030": "gb18030-b"}[style]
    # Clients put one long encoded word in the quoted string (not RFC 2047-conformant, but real).
    word = "".join(_encoded_words(filename, word_style, limit=10_000))
    return [p + b'="' + word.encode("ascii") + b'"']


def _header(name: str, first: bytes, params: Sequence[bytes] = (), sep: bytes = b"\t") -> bytes:
    line = name.encode("ascii") + b": " + first
    for prm in params:
        line += b";" + CRLF + sep + prm
    return line


def _b64_lines(data: bytes, width: int = 76) -> bytes:
    enc = base64.b64encode(data)
    return CRLF.join(enc[i:i + width] for i in range(0, len(enc), width)) + CRLF


def _crlf(data: bytes) -> bytes:
    return data.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


def decoded_subject(msg) -> str:
    """A parsed message's subject; raw 8-bit headers retried as UTF-8, then GB18030."""
    for k, v in msg.raw_items():
        if k.lower() == "subject":
            raw = str(v).encode("ascii", "surrogateescape")
            if any(b >= 0x80 for b in raw):
                for codec in ("utf-8", "gb18030"):
                    try:
                        return re.sub(r"\r?\n[ \t]", " ", raw.decode(codec)).strip()
                    except UnicodeDecodeError:
                        continue
            break
    return str(msg.get("subject", "") or "").strip()


@dataclass
class _Attachment:
    filename: str
    data: bytes
    content_type: str
    filename_style: str
    disposition: str = "attachment"
    rfc822: bool = False


@dataclass
class MailBuilder:
    """Raw RFC 5322 bytes the way a given mail client writes them (CRLF line ends).

    `client` (a key of CLIENTS: foxmail, outlook, iphone, 163web, qqmail, legacy, generic)
    sets the defaults for subject_encoding, body charset/transfer encoding, the HTML
    alternative, the filename style of attachments and the tell-tale headers; every one of
    them can be overridden. Message-ID and MIME boundaries are derived from the content,
    so the same builder gives the same bytes.

        raw = (MailBuilder(from_addr="xjmzj@163.com", from_name="李红霞", to="office@163.com",
                           subject="关于报送…实施方案的函", date=datetime(...), client="foxmail")
               .attach("…实施方案.docx", data).build())
    """
    from_addr: str
    to: str | Sequence[str]
    subject: str
    date: datetime
    from_name: str = ""
    to_name: str = ""
    cc: Sequence[str] = ()
    text: str = ""
    client: str = "generic"
    message_id: str | None = None
    subject_encoding: str | None = None
    body_charset: str | None = None
    body_transfer: str | None = None
    html: bool | None = None
    filename_style: str | None = None
    in_reply_to: str | None = None
    references: Sequence[str] = ()
    received_at: datetime | None = None     # adds Return-Path and a receiving MX's Received line
    return_path: str | None = None           # "" gives Return-Path: <>
    headers: list[tuple[str, str | bytes]] = field(default_factory=list)
    dkim: bool = True                        # sign as the provider would (demo key; see demo_dkim_sign)
    _attachments: list[_Attachment] = field(default_factory=list, repr=False)

    def __post_init__(self) -> None:
        if self.client not in CLIENTS:
            raise ValueError(f"unknown client {self.client!r}; one of {sorted(CLIENTS)}")
        self.date = _aware(self.date)
        if self.received_at is not None:
            self.received_at = _aware(self.received_at)
        self.headers = list(self.headers)

    # -- building up

    def add_header(self, name: str, value: str | bytes) -> "MailBuilder":
        """An extra header, written as given (str must be ASCII; bytes are written raw)."""
        self.headers.append((name, value))
        return self

    def attach(self, filename: str, data: bytes, *, content_type: str | None = None,
               filename_style: str | None = None, disposition: str = "attachment") -> "MailBuilder":
        ext = os.path.splitext(filename)[1].lower()
        ctype = content_type or _CONTENT_TYPES.get(ext, "application/octet-stream")
        style = filename_style or self.filename_style or CLIENTS[self.client]["filename"]
        if style not in FILENAME_STYLES:
            raise ValueError(f"unknown filename style {style!r}")
        self._attachments.append(_Attachment(filename, bytes(data), ctype, style, disposition))
        return self

    def attach_message(self, original: bytes, *, filename: str | None = None,
                       filename_style: str | None = None) -> "MailBuilder":
        """Attach a whole mail as message/rfc822 (how Outlook/Foxmail forward "as attachment")."""
        if filename is None:
            subj = decoded_subject(BytesParser(policy=policy.default).parsebytes(original))
            filename = (re.sub(r'[\\/:*?"<>|\r\n\t]', "_", subj)[:60] or "邮件") + ".eml"
        style = filename_style or self.filename_style or CLIENTS[self.client]["filename"]
        self._attachments.append(_Attachment(filename, _crlf(original), "message/rfc822", style,
                                             rfc822=True))
        return self

    @classmethod
    def forwarded(cls, original: bytes, *, from_addr: str, to: str | Sequence[str], date: datetime,
                  from_name: str = "", text: str = "", prefix: str = "转发：",
                  **kwargs: Any) -> "MailBuilder":
        """A new mail "转发：<original subject>" carrying `original` as a message/rfc822 part."""
        msg = BytesParser(policy=policy.default).parsebytes(original)
        subj = decoded_subject(msg)
        head = ("\r\n\r\n-------- 转发邮件信息 --------\r\n"
                f"发件人：{msg.get('from', '')}\r\n"
                f"发送日期：{msg.get('date', '')}\r\n"
                f"收件人：{msg.get('to', '')}\r\n"
                f"主题：{subj}\r\n")
        b = cls(from_addr=from_addr, from_name=from_name, to=to, date=date,
                subject=f"{prefix}{subj}", text=(text or "") + head, **kwargs)
        if msg.get("message-id"):
            b.references = (*b.references, str(msg["message-id"]).strip())
        return b.attach_message(original)

    # -- output

    def _tokens(self) -> dict[str, str]:
        seed = _digest("mail", self.from_addr, self.to, self.subject, self.date.isoformat(),
                       self.message_id, [(a.filename, hashlib.sha256(a.data).hexdigest())
                                         for a in self._attachments])
        hexs = hashlib.sha256(seed).hexdigest() + hashlib.sha256(seed + b"2").hexdigest()
        digits = str(int(hexs[:30], 16)).zfill(36)
        local, _, domain = self.from_addr.partition("@")
        u = hexs[:32].upper()
        return {
            "h4": hexs[0:4].upper(), "h4b": hexs[4:8].upper(), "h8": hexs[8:16].upper(),
            "h8b": hexs[16:24].upper(), "h8c": hexs[24:32].upper(), "h11": hexs[32:43],
            "h12": hexs[43:55].upper(), "h16": hexs[40:56], "H24": hexs[56:80].upper(),
            "n8": digits[:8], "n12": digits[8:20], "d6": digits[20:26], "d9": digits[26:35],
            "d13": str(int(self.date.timestamp() * 1000) + int(hexs[80:83], 16)),
            "uuid": f"{u[:8]}-{u[8:12]}-{u[12:16]}-{u[16:20]}-{u[20:32]}",
            "stamp": self.date.strftime("%Y%m%d%H%M%S"),
            "guid": f"{u[:8]}-{u[8:12]}-{u[12:16]}-{u[16:20]}-{u[20:32]}",
            "thread_index": base64.b64encode(bytes.fromhex(hexs[:44])).decode("ascii"),
            "local": local, "domain": domain or "localhost",
            "has_attach": "yes" if self._attachments else "no",
            "from_addr": self.from_addr,
        }

    def _message_id(self, tok: dict[str, str]) -> str:
        if self.message_id:
            mid = self.message_id.strip()
            return mid if mid.startswith("<") else f"<{mid}>"
        return CLIENTS[self.client]["msgid"].format(**tok)

    def _body_part(self, tok: dict[str, str], nested: int) -> list[bytes]:
        c = CLIENTS[self.client]
        charset = self.body_charset or c["charset"]
        cte = self.body_transfer or c["cte"]
        want_html = c["html"] if self.html is None else self.html
        text = self.text + c["signature"].format(**tok)
        text = _crlf(text.encode("utf-8")).decode("utf-8")
        codec = {"gb2312": "gbk", "x-gbk": "gbk"}.get(charset.lower(), charset)

        def leaf(ctype: str, body: str) -> list[bytes]:
            raw = body.encode(codec)
            if cte == "base64":
                payload = _b64_lines(raw)
            elif cte == "quoted-printable":
                payload = _crlf(quopri.encodestring(raw.replace(b"\r\n", b"\n")))
                if not payload.endswith(CRLF):
                    payload += CRLF
            else:
                payload = raw if raw.endswith(CRLF) else raw + CRLF
            return [f"Content-Type: {ctype}; charset=\"{charset}\"".encode("ascii"),
                    f"Content-Transfer-Encoding: {cte}".encode("ascii"), b"", payload]

        if not want_html:
            return leaf("text/plain", text)
        body_html = ("<html><head><meta http-equiv=\"content-type\" content=\"text/html; charset="
                     f"{charset}\"></head><body><div style=\"font-family:微软雅黑; font-size:14px\">"
                     + "".join(f"<div>{html.escape(line) or '<br>'}</div>" for line in text.split("\r\n"))
                     + "</div></body></html>")
        boundary = self._boundary(tok, nested)
        out = [f"Content-Type: multipart/alternative;\r\n\tboundary=\"{boundary}\"".encode("ascii"), b"",
               b""]
        out.append(f"--{boundary}".encode("ascii"))
        out += leaf("text/plain", text)
        out.append(f"--{boundary}".encode("ascii"))
        out += leaf("text/html", body_html)
        out.append(f"--{boundary}--".encode("ascii"))
        out.append(b"")
        return out

    def _boundary(self, tok: dict[str, str], nested: int) -> str:
        b = CLIENTS[self.client]["boundary"].format(**tok)
        return b if nested == 0 else f"{b}_{nested}"

    def _attachment_part(self, a: _Attachment) -> list[bytes]:
        name_params = _filename_params("name", a.filename, a.filename_style)
        if a.filename_style == "rfc2231" and not a.filename.isascii():
            # iPhone: the real name only in filename*, an underscored stand-in in name=.
            name_params = [b"name=" + _quoted(_fallback_name(a.filename).encode("ascii"))]
        disp = _filename_params("filename", a.filename, a.filename_style)
        if a.rfc822:
            cte = "8bit" if any(b >= 0x80 for b in a.data) else "7bit"
            payload = a.data if a.data.endswith(CRLF) else a.data + CRLF
        else:
            cte, payload = "base64", _b64_lines(a.data)
        return [_header("Content-Type", a.content_type.encode("ascii"), name_params),
                f"Content-Transfer-Encoding: {cte}".encode("ascii"),
                _header("Content-Disposition", a.disposition.encode("ascii"), disp),
                b"", payload]

    def build(self) -> bytes:
        raw = self._build()
        domain = self.from_addr.rpartition("@")[2].lower()
        if self.dkim and domain in demo_signed_domains():
            raw = demo_dkim_sign(raw, domain, self.date)
        return raw

    def _build(self) -> bytes:
        c = CLIENTS[self.client]
        tok = self._tokens()
        style = self.subject_encoding or c["subject"]
        if style not in SUBJECT_ENCODINGS:
            raise ValueError(f"unknown subject encoding {style!r}")
        quote = c["quote_name"]
        tos = [self.to] if isinstance(self.to, str) else list(self.to)
        lines: list[bytes] = []
        if self.received_at is not None or self.return_path is not None:
            rp = self.from_addr if self.return_path is None else self.return_path
            lines.append(f"Return-Path: <{rp}>".encode("ascii"))
        if self.received_at is not None:
            to_domain = parseaddr(tos[0])[1].partition("@")[2] or "localhost"
            from_domain = self.from_addr.partition("@")[2] or "localhost"
            octets = _digest("ip", self.from_addr)
            ip = f"{36 + octets[0] % 180}.{octets[1]}.{octets[2]}.{1 + octets[3] % 250}"
            helo = f"m{12 + octets[5] % 4}-{octets[6] % 200}.{from_domain}"
            lines.append((f"Received: from {helo} (unknown [{ip}])\r\n\tby mx{1 + octets[4] % 3}."
                          f"{to_domain} (Coremail) with SMTP id {tok['h8']}{tok['h8b']};\r\n\t"
                          f"{format_datetime(self.received_at)}").encode("ascii"))
        lines.append(f"Date: {format_datetime(self.date)}".encode("ascii"))
        lines.append(b"From: " + _address(self.from_name, self.from_addr, style, quote))
        to_bytes = [_address(self.to_name if i == 0 else "", parseaddr(t)[1] or t, style, quote)
                    for i, t in enumerate(tos)]
        lines.append(b"To: " + b",\r\n\t".join(to_bytes))
        if self.cc:
            lines.append(b"Cc: " + b",\r\n\t".join(a.encode("ascii") for a in self.cc))
        lines.append(b"Subject: " + encode_header_text(self.subject, style))
        lines.append(f"Message-ID: {self._message_id(tok)}".encode("ascii"))
        if self.in_reply_to:
            lines.append(f"In-Reply-To: {self.in_reply_to}".encode("ascii"))
        refs = list(self.references) or ([self.in_reply_to] if self.in_reply_to else [])
        if refs:
            lines.append(b"References: " + "\r\n\t".join(refs).encode("ascii"))
        for name, value in c["headers"]:
            lines.append(f"{name}: {value.format(**tok)}".encode("ascii"))
        for name, value in self.headers:
            v = value if isinstance(value, bytes) else value.encode("ascii")
            lines.append(name.encode("ascii") + b": " + v)
        lines.append(f"MIME-Version: {c.get('mime_version', '1.0')}".encode("ascii"))
        if not self._attachments:
            lines += self._body_part(tok, 1)
            return CRLF.join(lines)
        boundary = self._boundary(tok, 0)
        lines.append(f"Content-Type: multipart/mixed;\r\n\tboundary=\"{boundary}\"".encode("ascii"))
        lines += [b"", b"This is a multi-part message in MIME format.", b""]
        lines.append(f"--{boundary}".encode("ascii"))
        lines += self._body_part(tok, 1)
        for a in self._attachments:
            lines.append(f"--{boundary}".encode("ascii"))
            lines += self._attachment_part(a)
        lines.append(f"--{boundary}--".encode("ascii"))
        lines.append(b"")
        return CRLF.join(lines)


# --------------------------------------------------------------------------------------------
# DKIM, as 163.com / QQ sign their users' mail: with a demo key whose public half is in
# demo_dkim_keys.txt (config `[security] dkim_keys` points there for the demo and the tests)

DEMO_DKIM_KEY = Path(__file__).with_name("demo_dkim.pem")
DEMO_DKIM_KEYS = Path(__file__).with_name("demo_dkim_keys.txt")
DEMO_SELECTOR = "mailbot-demo"
_SIGNED_HEADERS = [b"from", b"to", b"cc", b"subject", b"date", b"message-id", b"in-reply-to", b"references",
                   b"mime-version", b"content-type"]


def demo_signed_domains() -> frozenset[str]:
    names = (line.split()[0] for line in DEMO_DKIM_KEYS.read_text(encoding="utf-8").splitlines()
             if line.strip() and not line.startswith("#"))
    return frozenset(n.partition("._domainkey.")[2] for n in names)


def demo_dkim_sign(raw: bytes, domain: str, when: datetime) -> bytes:
    """RAW with a DKIM-Signature of DOMAIN (demo key) after any Return-Path/Received lines.
    t= is WHEN, not the clock, so the same mail always gets the same bytes."""
    import dkim

    class _Clock:   # dkimpy reads time.time() for t=; only its own module global is swapped
        @staticmethod
        def time() -> float:
            return when.timestamp()

    saved = dkim.time
    dkim.time = _Clock
    try:
        sig = dkim.sign(raw, DEMO_SELECTOR.encode(), domain.encode(), DEMO_DKIM_KEY.read_bytes(),
                        include_headers=_SIGNED_HEADERS, linesep=b"\r\n")
    finally:
        dkim.time = saved
    at = 0
    while raw.startswith((b"Return-Path:", b"Received:"), at):
        at = raw.index(b"\r\n", at) + 2
        while raw[at:at + 1] in (b" ", b"\t"):
            at = raw.index(b"\r\n", at) + 2
    return raw[:at] + sig + raw[at:]


# --------------------------------------------------------------------------------------------
# machine-sent mail


def out_of_office(to_addr: str, from_addr: str, *, date: datetime, original_subject: str = "",
                  in_reply_to: str | None = None, from_name: str = "",
                  text: str | None = None, until: date | None = None) -> bytes:
    """An Outlook 自动回复 (Auto-Submitted: auto-replied, X-Auto-Response-Suppress: All)."""
    date = _aware(date)
    until = until or (date.date() + timedelta(days=6))
    body = text or (f"您好！本人{md(date.date())}至{md(until)}外出学习，期间不能及时查看邮件，"
                    "您的来信将在返回后尽快处理。如有急事，请联系单位办公室。\r\n\r\n此邮件为自动回复。")
    b = MailBuilder(from_addr=from_addr, from_name=from_name, to=to_addr, date=date,
                    subject=f"自动回复: {original_subject}".rstrip(": ").rstrip(),
                    text=body, client="outlook", in_reply_to=in_reply_to)
    b.add_header("Thread-Topic", "auto-reply")
    b.add_header("Auto-Submitted", "auto-replied")
    b.add_header("X-Auto-Response-Suppress", "All")
    b.add_header("X-MS-Exchange-Inbox-Rules-Loop", from_addr)
    return b.build()


def bounce(to_addr: str, original: bytes, *, date: datetime, recipient: str | None = None,
           diagnostic: str = "550 User not found: {rcpt}", reporting_mta: str = "m15-163.163.com",
           postmaster_domain: str = "163.com") -> bytes:
    """A 163.com-style 系统退信: multipart/report; report-type=delivery-status from MAILER-DAEMON,
    Return-Path: <>, with the original mail as message/rfc822."""
    date = _aware(date)
    orig = BytesParser(policy=policy.default).parsebytes(original)
    rcpt = recipient or parseaddr(str(orig.get("to", "")))[1] or "unknown@invalid"
    subj = decoded_subject(orig)
    diag = diagnostic.format(rcpt=rcpt)
    seed = hashlib.sha256(original + date.isoformat().encode()).hexdigest()
    boundary = f"----=_Part_DSN_{seed[:12]}"
    human = ("您好！\r\n\r\n很抱歉，您发送的邮件被退回，以下是该邮件的相关信息：\r\n\r\n"
             f"    被退回的邮件主题：{subj}\r\n"
             f"    发送时间：{orig.get('date', '')}\r\n"
             f"    无法送达的收件人：{rcpt}\r\n\r\n"
             f"退信原因：收件人邮箱地址不存在（{diag}）。\r\n"
             "建议解决方案：请核实收件人邮箱地址是否正确后重新发送。\r\n\r\n"
             "此为系统邮件，请勿直接回复。\r\n").encode("utf-8")
    status = (f"Reporting-MTA: dns; {reporting_mta}\r\n"
              f"X-Postfix-Queue-ID: {seed[12:22].upper()}\r\n"
              f"Arrival-Date: {orig.get('date', format_datetime(date))}\r\n\r\n"
              f"Final-Recipient: rfc822; {rcpt}\r\n"
              f"Original-Recipient: rfc822; {rcpt}\r\n"
              "Action: failed\r\nStatus: 5.1.1\r\n"
              f"Remote-MTA: dns; mx.{rcpt.partition('@')[2] or 'invalid'}\r\n"
              f"Diagnostic-Code: smtp; {diag}\r\n").encode("ascii")
    o = _crlf(original)
    parts = [
        b"Return-Path: <>",
        f"Received: from {reporting_mta} by {reporting_mta} (Postfix) id {seed[12:22].upper()};".encode()
        + b"\r\n\t" + format_datetime(date).encode("ascii"),
        f"Date: {format_datetime(date)}".encode("ascii"),
        f"From: MAILER-DAEMON@{postmaster_domain} (Mail Delivery System)".encode("ascii"),
        f"To: {to_addr}".encode("ascii"),
        b"Subject: " + encode_header_text("系统退信", "utf8-b"),
        f"Message-ID: <{seed[22:38]}.DSN@{reporting_mta}>".encode("ascii"),
        b"Auto-Submitted: auto-replied",
        b"MIME-Version: 1.0",
        f"Content-Type: multipart/report; report-type=delivery-status;\r\n\tboundary=\"{boundary}\"".encode(),
        b"",
        b"This is a MIME-encapsulated message.",
        b"",
        f"--{boundary}".encode(),
        b"Content-Description: Notification",
        b"Content-Type: text/plain; charset=utf-8",
        b"Content-Transfer-Encoding: base64",
        b"",
        _b64_lines(human),
        f"--{boundary}".encode(),
        b"Content-Description: Delivery report",
        b"Content-Type: message/delivery-status",
        b"",
        status,
        f"--{boundary}".encode(),
        b"Content-Description: Undelivered Message",
        b"Content-Type: message/rfc822",
        b"Content-Transfer-Encoding: " + (b"8bit" if any(x >= 0x80 for x in o) else b"7bit"),
        b"",
        o if o.endswith(CRLF) else o + CRLF,
        f"--{boundary}--".encode(),
        b"",
    ]
    return CRLF.join(parts)


def mailing_list(to_addr: str, *, date: datetime, list_id: str = "zwgk-weekly.list.zwxx-news.cn",
                 from_addr: str = "weekly@list.zwxx-news.cn", from_name: str = "政务信息周刊",
                 subject: str | None = None, issue: int = 35) -> bytes:
    """A newsletter: List-Id, List-Unsubscribe and Precedence: list, HTML + text."""
    date = _aware(date)
    subject = subject or f"政务信息周刊（第{issue}期）：政务公开新规解读与基层实践"
    text = (f"政务信息周刊 第{issue}期\r\n\r\n"
            "【本期导读】\r\n"
            "1. 政务公开工作要点解读：如何做好政策解读与回应关切\r\n"
            "2. 基层实践：各地“政府开放日”活动经验做法汇编\r\n"
            "3. 政务新媒体运营规范答问\r\n\r\n"
            "您收到此邮件是因为您订阅了政务信息周刊。如需退订，请点击邮件底部的退订链接。\r\n")
    b = MailBuilder(from_addr=from_addr, from_name=from_name, to=to_addr, date=date, subject=subject,
                    text=text, client="generic", html=True)
    b.add_header("List-Id", encode_header_text(from_name, "utf8-b") + f" <{list_id}>".encode("ascii"))
    b.add_header("List-Unsubscribe", f"<mailto:unsubscribe@{list_id}>, <https://{list_id.partition('.')[2]}"
                                     f"/unsubscribe?u={hashlib.md5(to_addr.encode()).hexdigest()[:12]}>")
    b.add_header("List-Unsubscribe-Post", "List-Unsubscribe=One-Click")
    b.add_header("Precedence", "list")
    b.add_header("X-Campaign-Id", f"weekly-{issue}")
    return b.build()


MALFORMED_VARIANTS = ("mixed", "truncated", "bad-base64", "bad-boundary", "junk-8bit")


def malformed(variant: str = "mixed", *, to_addr: str = "office@example.cn",
              date: datetime | None = None) -> bytes:
    """A broken message. Variants: truncated (multipart cut off mid-attachment, no closing
    boundary), bad-base64 (invalid characters and bad padding), bad-boundary (declared boundary
    never used; parts split by another one), junk-8bit (undecodable 8-bit bytes in headers
    and body, NULs), mixed (all of them in one message)."""
    if variant not in MALFORMED_VARIANTS:
        raise ValueError(f"unknown variant {variant!r}; one of {MALFORMED_VARIANTS}")
    date = _aware(date or datetime(2000, 1, 3, 3, 14, 15))
    docx_like = b"PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00" + bytes(range(256)) * 8
    good_b64 = _b64_lines(docx_like)
    head = [f"Date: {format_datetime(date)}".encode(), b"From: \"\xd5\xc5\xff\xfe\x80\" <no-reply@\xff.example>",
            f"To: {to_addr}".encode(), b"Subject: =?GBK?B?yrXKqbe9sLg=?= =?UTF-8?B?broken!!?= \xb1\xa8\xcb\xcd",
            b"Message-ID: <malformed-" + variant.encode() + b"@samples.invalid>", b"MIME-Version: 1.0"]
    text = "附件为实施方案，请查收。".encode("gbk")
    if variant == "truncated":
        body = [b'Content-Type: multipart/mixed; boundary="==trunc=="', b"", b"--==trunc==",
                b"Content-Type: text/plain; charset=gbk", b"Content-Transfer-Encoding: 8bit", b"", text,
                b"--==trunc==", b"Content-Type: application/msword; name=\"plan.doc\"",
                b"Content-Transfer-Encoding: base64", b"", good_b64[: len(good_b64) // 3]]
    elif variant == "bad-base64":
        body = [b'Content-Type: multipart/mixed; boundary="==b64=="', b"", b"--==b64==",
                b"Content-Type: text/plain; charset=utf-8", b"Content-Transfer-Encoding: base64", b"",
                b"6ZmE5Lu25Li65a6e5pa95pa55qGI!!!\xa1\xa2", b"--==b64==",
                b"Content-Type: " + DOCX_TYPE.encode() + b"; name=\"plan.docx\"",
                b"Content-Disposition: attachment; filename=\"plan.docx\"",
                b"Content-Transfer-Encoding: base64", b"", b"UEsDBBQ@@@@AAAgAAAAhAA===x==\r\nQUJD\r\n=", b"--==b64==--", b""]
    elif variant == "bad-boundary":
        body = [b'Content-Type: multipart/mixed; boundary="declared-boundary"', b"", b"--other-boundary",
                b"Content-Type: text/plain; charset=gbk", b"", text, b"--other-boundary",
                b"Content-Type: application/octet-stream; name=\"a.docx\"", b"Content-Transfer-Encoding: base64",
                b"", good_b64, b"--other-boundary--", b""]
    elif variant == "junk-8bit":
        body = [b"Content-Type: text/plain; charset=us-ascii", b"Content-Transfer-Encoding: 7bit",
                b"X-Junk: \x00\x01\xff\xfe\x81\x30\x89", b"", b"\xff\xfe\x00\x00\xd5\xc5" + text + b"\x00\xe9\x80"]
    else:  # mixed
        body = [b'Content-Type: multipart/mixed; boundary="declared-boundary"', b"X-Junk: \xff\xfe\x80\x00",
                b"", b"--declared-boundary", b"Content-Type: text/plain; charset=\"gb2312\"",
                b"Content-Transfer-Encoding: base64", b"", b"uL28/s6qyrXKqbe9sLih!!\xff==", b"--wrong-boundary",
                b"Content-Type: " + DOCX_TYPE.encode() + b";\r\n\tname=\"=?GBK?B?yrXKqbe9sLg=?=.docx\"",
                b"Content-Transfer-Encoding: base64", b"Content-Disposition: attachment; filename=\"\xca\xb5\xca\xa9.docx",
                b"", b"UEsDB$$%%" + good_b64[: len(good_b64) // 4]]
    return CRLF.join(head + body)


# --------------------------------------------------------------------------------------------
# the demo campaign's mailbox


@dataclass(frozen=True)
class DemoMail:
    """One demo mail, with what the pipeline is expected to make of it."""
    arrival: datetime          # INTERNALDATE
    raw: bytes
    sender: str                # envelope From address
    unit: str | None           # roster unit the mail concerns (None: nobody)
    kind: str | None           # plan | adjustment | summary | None
    scenario: str              # short tag, e.g. "plan-ok", "pending", "automatic"
    note: str                  # what it exercises (English)
    on_roster: bool = True     # sender address is on the roster


def _at(d: date, hh: int, mm: int, ss: int = 0) -> datetime:
    return datetime.combine(d, time(hh, mm, ss), tzinfo=CHINA_TZ)


def demo_mails(campaign: Any, roster: Any, office_address: str) -> list[DemoMail]:
    """The demo campaign's mail, sorted by arrival, derived only from campaign + roster.

    Fixed-date units (in the campaign's order) and the other roster units (in roster order)
    are given roles; roles whose unit the roster lacks are skipped. Every date is relative to
    the campaign's plan due date, summary due date and activity window.
    """
    region = campaign.region
    plan_kind, summary_kind = campaign.kinds["plan"], campaign.kinds["summary"]
    due = plan_kind.due or (campaign.window_start - timedelta(days=6))
    summary_due = summary_kind.due or (campaign.window_start + timedelta(days=19))
    year = due.year
    notice = campaign.notice or None
    office_name = campaign.office or "政务公开办公室"
    office_short = office_name
    office_domain = office_address.partition("@")[2] or "localhost"

    fixed: list[tuple[date, Any]] = []
    seen: set[str] = set()
    for day, names in campaign.fixed_dates:
        for n in names:
            u = roster.by_name(n)
            if u is not None and u.name not in seen:
                fixed.append((day, u))
                seen.add(u.name)
    others = [u for u in roster.units if u.name not in seen]
    mails: list[DemoMail] = []

    def who(u) -> tuple[str, str]:
        return (u.emails[0] if u.emails else f"office@{u.name}.invalid"), u.contact

    def plan_of(u, activity: date, signed: date, **kw: Any) -> bytes:
        return plan_docx(u.name, activity=activity, contact=u.contact, phone=u.phone,
                         email=(u.emails[0] if u.emails else ""), region=region, notice=notice,
                         signed=signed, **kw)

    def covering(u, what: str, extra: str = "") -> str:
        return (f"{office_short}：\r\n\r\n    您好！按照{campaign.notice or '通知'}要求，现将{what}报送贵办，请审核。"
                f"{extra}\r\n\r\n    联系人：{u.contact}，联系电话：{u.phone}。\r\n\r\n"
                f"{u.name}\r\n")

    def add(arrival: datetime, raw: bytes, sender: str, unit, kind, scenario, note, on_roster=True):
        mails.append(DemoMail(arrival, raw, sender, unit.name if unit is not None else None, kind,
                              scenario, note, on_roster))

    def plan_mail(u, activity: date, arrive: datetime, *, client: str, subject: str, filename: str,
                  scenario: str, note: str, style: str | None = None, subject_encoding: str | None = None,
                  **plan_kw: Any) -> bytes:
        addr, name = who(u)
        data = plan_of(u, activity, arrive.date() - timedelta(days=1), **plan_kw)
        b = MailBuilder(from_addr=addr, from_name=name, to=office_address, to_name=office_name,
                        subject=subject, date=arrive - timedelta(seconds=47), client=client,
                        text=covering(u, f"我局{year}年“政府开放日”活动实施方案"),
                        subject_encoding=subject_encoding, received_at=arrive)
        b.attach(filename, data, filename_style=style)
        raw = b.build()
        add(arrive, raw, addr, u, "plan", scenario, note)
        return raw

    def slot(i: int) -> tuple[date, Any] | None:
        return fixed[i] if i < len(fixed) else None

    def other(i: int):
        return others[i] if i < len(others) else None

    def short(u) -> str:
        return _short(u.name, region)

    d0 = due - timedelta(days=11)
    first_plans: dict[str, bytes] = {}
    f = slot(0)
    if f:
        day, u = f
        plan_mail(u, day, _at(_workday(d0), 9, 12, 30), client="163web",
                  subject=f"关于报送{u.name}{year}年“政府开放日”活动实施方案的函",
                  filename=f"{u.name}{year}年“政府开放日”活动实施方案.docx", scenario="plan-ok",
                  note="valid plan on its fixed date; 163 webmail, RFC 2047 UTF-8 filename")
    f = slot(1)
    if f:
        day, u = f
        plan_mail(u, day, _at(_workday(d0 + timedelta(days=1)), 10, 5, 11), client="foxmail",
                  subject=f"{short(u)}“政府开放日”活动实施方案",
                  filename=f"{short(u)}政府开放日活动实施方案.docx", scenario="plan-ok",
                  note="valid plan; Foxmail: GBK subject, filename=\"=?GBK?B?...?=\", GBK body + HTML")
        # someone else writes "from" the same 163.com address, without 163's DKIM signature: a
        # 10-person "revised plan" that must never replace the genuine one (held as 待核实)
        addr, name = who(u)
        arrive = _at(_workday(d0 + timedelta(days=3)), 21, 14, 5)
        b = MailBuilder(from_addr=addr, from_name=name, to=office_address, subject=f"{short(u)}实施方案（修改版）",
                        date=arrive - timedelta(seconds=3), client="generic", dkim=False, received_at=arrive,
                        text="方案有调整，以此版为准。")
        b.attach(f"{short(u)}政府开放日活动实施方案（修改版）.docx",
                 plan_of(u, day, arrive.date(), participants=10, qa=False, survey=False))
        add(arrive, b.build(), addr, u, None, "forged",
            "forged: the unit's 163.com address without a DKIM signature → 待核实, never filed or answered")
    f = slot(2)
    if f:
        day, u = f
        first_plans["resend"] = plan_mail(
            u, day, _at(_workday(d0 + timedelta(days=2)), 15, 40, 2), client="outlook",
            subject=f"关于报送{u.name}{year}年“政府开放日”活动实施方案的函",
            filename=f"{u.name}“政府开放日”活动实施方案.docx", scenario="plan-ok",
            note="valid plan; Outlook: gb2312 subject, RFC 2231 filename*")
    f = slot(3)
    if f:
        day, u = f
        plan_mail(u, day, _at(_workday(d0 + timedelta(days=3)), 11, 20, 45), client="iphone",
                  subject=f"{u.name}{year}年政府开放日活动实施方案（请审核）",
                  filename=f"{u.name}{year}年“政府开放日”活动实施方案（定稿，请审核备案）.docx",
                  scenario="plan-ok",
                  note="valid plan; iPhone: long RFC 2231 filename*0*/*1* continuations, name=\"___.docx\"")
    f = slot(4)
    if f:
        day, u = f
        plan_mail(u, day, _at(_workday(d0 + timedelta(days=4)), 9, 48, 20), client="163web",
                  subject=f"{short(u)}校园开放日活动实施方案",
                  filename=f"{u.name}“校园开放日”活动实施方案.docx", scenario="plan-forbidden-name",
                  event_name="校园开放日",
                  note="plan named “校园开放日” (forbidden name, 三(二))")
    f = slot(5)
    if f:
        day, u = f
        plan_mail(u, day, _at(_workday(d0 + timedelta(days=4)), 16, 30, 8), client="foxmail",
                  subject=f"报送：{u.name}“政府开放日”活动方案",
                  filename=f"{short(u)}政府开放日活动方案.docx", scenario="plan-ok", layout="prose",
                  kind_title="方案",
                  note="valid plan, announcement as prose paragraphs instead of a table")
    f = slot(6)
    if f:
        day, u = f
        plan_mail(u, day, _at(_workday(due - timedelta(days=4)), 10, 15, 33), client="foxmail",
                  subject=f"{u.name}政府开放日实施方案",
                  filename=f"{short(u)}政府开放日实施方案.docx", scenario="plan-needs-fix",
                  style="rfc2231-gbk", participants=18, omit=("温馨提示",), qa=False, survey=False,
                  forms=("进机关",),
                  note="plan missing 温馨提示, 18人 (<25), no 座谈问答/问卷调查; RFC 2231 GBK filename*=gbk''")
    # slot(7) (the last fixed-date unit) never submits: reminders are due for it.

    o0 = other(0)
    o0_day = _workday(campaign.window_start + timedelta(days=14))
    if o0:
        plan_mail(o0, o0_day, _at(_workday(due - timedelta(days=4)), 14, 50, 12), client="outlook",
                  subject=f"关于报送{o0.name}{year}年“政府开放日”活动实施方案的报告",
                  filename=f"{o0.name}{year}年“政府开放日”活动实施方案.docx", scenario="plan-ok",
                  forms=("进机关", "进现场", "进会议"),
                  note="valid plan of a unit without a fixed date (activity inside the window)")
    o1 = other(1)
    if o1:
        day = _workday(campaign.window_start + timedelta(days=19))
        arrive = _at(_workday(due - timedelta(days=3)), 8, 55, 40)
        qq = "3516288472@qq.com"
        data = plan_of(o1, day, arrive.date() - timedelta(days=1))
        b = MailBuilder(from_addr=qq, from_name=o1.contact, to=office_address, subject=f"{short(o1)}开放日方案",
                        date=arrive - timedelta(seconds=31), client="qqmail", received_at=arrive,
                        text=f"您好，这是{o1.name}的政府开放日活动方案，单位邮箱登不上，先用个人邮箱发一下。"
                             f"\r\n{o1.contact} {o1.phone}\r\n")
        b.attach(f"{short(o1)}政府开放日活动实施方案.docx", data)
        add(arrive, b.build(), qq, o1, "plan", "pending",
            "plan from a personal QQ address not on the roster; unit only in subject/file → 待确认, no ack; "
            "QQ mail gb18030 encoded words", on_roster=False)
    o2 = other(2)
    if o2:
        day = _workday(campaign.window_start + timedelta(days=15))
        arrive = _at(_workday(due - timedelta(days=3)), 17, 10, 5)
        addr, name = who(o2)
        staff = "zhanglin_1990@163.com"
        inner_date = arrive - timedelta(hours=2, minutes=14)
        data = plan_of(o2, day, inner_date.date())
        inner = (MailBuilder(from_addr=staff, from_name="张林", to=addr, to_name=short(o2),
                             subject=f"{short(o2)}政府开放日活动实施方案（终稿）", date=inner_date,
                             client="163web", text="局办公室：\r\n    开放日方案终稿已按领导意见修改，请转报县政务公开办。\r\n")
                 .attach(f"{short(o2)}政府开放日活动实施方案（终稿）.docx", data).build())
        b = MailBuilder.forwarded(inner, from_addr=addr, from_name=name, to=office_address,
                                  date=arrive - timedelta(seconds=20), client="foxmail", received_at=arrive,
                                  text=covering(o2, f"我局{year}年“政府开放日”活动实施方案（见转发邮件附件）"))
        add(arrive, b.build(), addr, o2, "plan", "forwarded",
            "plan forwarded as a message/rfc822 attachment (转发：…) from the unit's address")
    f = slot(2)
    if f and "resend" in first_plans:
        day, u = f
        arrive = _at(_workday(due - timedelta(days=2)), 9, 30, 18)
        addr2 = u.emails[1] if len(u.emails) > 1 else u.emails[0]
        orig = BytesParser(policy=policy.default).parsebytes(first_plans["resend"])
        att = next(p for p in orig.iter_attachments())
        b = MailBuilder(from_addr=addr2, from_name=u.contact, to=office_address, to_name=office_name,
                        subject=f"关于报送{u.name}{year}年“政府开放日”活动实施方案的函",
                        date=arrive - timedelta(seconds=40), client="outlook", received_at=arrive,
                        text=covering(u, f"我局{year}年“政府开放日”活动实施方案",
                                      "前几日已发送，未收到回执，现重新发送一次。"))
        b.attach(att.get_filename(), att.get_content())
        add(arrive, b.build(), addr2, u, "plan", "resend",
            "the same file sent again (identical bytes) from the unit's second roster address")
    o3 = other(3)
    if o3:
        day = _workday(campaign.preferred_end + timedelta(days=12))
        plan_mail(o3, day, _at(_workday(due - timedelta(days=2)), 11, 2, 54), client="iphone",
                  subject=f"{o3.name}关于{year}年度“政府开放日”活动的实施方案",
                  filename=f"{short(o3)}开放日实施方案.docx", scenario="plan-ok", layout="prose",
                  participants_text=f"{30}余人", forms=("进现场",),
                  note="activity after the preferred month but inside the window; headcount “30余人”")
    arrive = _at(_workday(due - timedelta(days=1)), 10, 22, 7)
    citizen = "wangxiulan1965@sina.com"
    cb = MailBuilder(from_addr=citizen, from_name="王秀兰", to=office_address, client="generic",
                     subject="咨询：政府开放日活动怎么报名？", date=arrive - timedelta(seconds=15),
                     received_at=arrive,
                     text="您好：\r\n    我在网上看到县里要搞政府开放日活动，我是一名退休职工，想报名参加，"
                          "请问在哪里报名？需要带什么材料？谢谢！\r\n王秀兰\r\n")
    add(arrive, cb.build(), citizen, None, None, "unknown",
        "a citizen's question from an unknown address; names no unit → 未识别", on_roster=False)
    arrive = _at(due - timedelta(days=1), 20, 0, 3)
    add(arrive, mailing_list(office_address, date=arrive - timedelta(seconds=2)), "weekly@list.zwxx-news.cn",
        None, None, "automatic", "newsletter with List-Id / Precedence: list → no reply", on_roster=False)
    o6 = other(6) or other(5)
    if o6:
        arrive = _at(due, 8, 31, 9)
        addr, name = who(o6)
        reminder_id = f"<reminder.{hashlib.sha1(addr.encode()).hexdigest()[:10]}@{office_address.partition('@')[2]}>"
        raw = out_of_office(office_address, addr, from_name=name, date=arrive - timedelta(seconds=4),
                            original_subject=f"关于报送{year}年“政府开放日”活动实施方案的提醒",
                            in_reply_to=reminder_id)
        add(arrive, raw, addr, o6, None, "automatic",
            "Outlook 自动回复 from a roster address (Auto-Submitted: auto-replied) → never answered")
    o4 = other(4)
    if o4:
        day = _workday(campaign.window_start + timedelta(days=22))
        plan_mail(o4, day, _at(_workday(due + timedelta(days=1)), 9, 5, 51), client="legacy",
                  subject=f"{short(o4)}政府开放日活动方案（补报）",
                  filename=f"{short(o4)}政府开放日活动方案.docx", scenario="plan-late",
                  note="plan after the due date; old client: raw 8-bit GBK subject, From name and filename")
    o7 = other(7)
    if o7 and o7.emails:
        arrive = _at(_workday(due + timedelta(days=1)), 14, 12, 26)
        local, _, dom = o7.emails[0].partition("@")
        typo = f"{local[:-1]}@{dom}"
        sent = (MailBuilder(from_addr=office_address, from_name=office_name, to=typo,
                            subject=f"关于报送{year}年“政府开放日”活动实施方案的提醒",
                            date=arrive - timedelta(minutes=1, seconds=12), client="163web",
                            text=f"{o7.name}：\r\n    贵单位{year}年“政府开放日”活动实施方案尚未报送，请尽快报送。\r\n"))
        raw = bounce(office_address, sent.build(), date=arrive - timedelta(seconds=3), recipient=typo,
                     reporting_mta=f"m15-163.{office_domain}", postmaster_domain=office_domain)
        add(arrive, raw, f"MAILER-DAEMON@{office_domain}", None, None, "automatic",
            "163.com 系统退信 (multipart/report, Return-Path: <>) of the office's own mail to a mistyped "
            "address → never answered", on_roster=False)
    arrive = _at(_workday(due + timedelta(days=4)), 3, 14, 15)
    add(arrive, malformed("mixed", to_addr=office_address, date=arrive - timedelta(seconds=9)),
        "no-reply@invalid", None, None, "malformed",
        "truncated multipart, broken base64, wrong boundary, 8-bit junk in headers → recorded, never crashes",
        on_roster=False)
    if o0:
        new_day = o0_day + timedelta(days=7)
        arrive = _at(_workday(campaign.window_start), 10, 40, 16)
        addr, name = who(o0)
        data = adjustment_docx(o0.name, old_date=o0_day, new_date=new_day, reason="活动当天需承办全县重点项目观摩活动",
                               signed=arrive.date(), contact=o0.contact, phone=o0.phone, office=office_name,
                               region=region, notice=notice)
        b = MailBuilder(from_addr=addr, from_name=name, to=office_address, to_name=office_name,
                        subject=f"关于调整{o0.name}“政府开放日”活动时间的报告", date=arrive - timedelta(seconds=33),
                        client="outlook", received_at=arrive,
                        text=covering(o0, "我局“政府开放日”活动时间调整的报告"))
        b.attach(f"关于调整{short(o0)}政府开放日活动时间的报告.docx", data)
        add(arrive, b.build(), addr, o0, "adjustment", "adjustment",
            f"改期 {o0_day} → {new_day}, reported well ahead (≥ 3 days)")
    f = slot(5)
    if f:
        day, u = f
        arrive = _at(day - timedelta(days=2), 17, 45, 12)
        addr, name = who(u)
        new_day = day + timedelta(days=7)
        b = MailBuilder(from_addr=addr, from_name=name, to=office_address, to_name=office_name,
                        subject=f"{short(u)}政府开放日活动改期", date=arrive - timedelta(seconds=25),
                        client="foxmail", received_at=arrive,
                        text=(f"{office_short}：\r\n    因近期疫情防控形势变化，我局原定于{md(day)}开展的“政府开放日”活动"
                              f"改期至{md(new_day)}举行，活动内容不变。\r\n    联系人：{u.contact}，"
                              f"联系电话：{u.phone}。\r\n{u.name}\r\n"))
        add(arrive, b.build(), addr, u, "adjustment", "adjustment-late",
            f"改期 {day} → {new_day} reported only 2 days before (< 3 days), text only, no attachment")

    def summary_mail(u, held: date, arrive: datetime, *, client: str, subject: str, filename: str,
                     participants: int, suggestions: int, scenario: str, note: str) -> None:
        addr, name = who(u)
        fb = (f"我局已于{md(held + timedelta(days=9))}在县人民政府门户网站公开反馈意见建议采纳情况。")
        data = summary_docx(u.name, held=held, participants=participants, suggestions=suggestions,
                            feedback=fb, signed=arrive.date(), contact=u.contact, phone=u.phone,
                            region=region, notice=notice)
        b = MailBuilder(from_addr=addr, from_name=name, to=office_address, to_name=office_name,
                        subject=subject, date=arrive - timedelta(seconds=52), client=client, received_at=arrive,
                        text=covering(u, f"我局{year}年“政府开放日”活动开展情况"))
        b.attach(filename, data)
        add(arrive, b.build(), addr, u, "summary", scenario, note)

    f = slot(0)
    if f:
        day, u = f
        summary_mail(u, day, _at(_workday(day + timedelta(days=8)), 15, 3, 27), client="163web",
                     subject=f"{u.name}{year}年“政府开放日”活动开展情况",
                     filename=f"{u.name}{year}年“政府开放日”活动开展情况.docx", participants=35, suggestions=6,
                     scenario="summary", note="summary before its due date")
    f = slot(2)
    if f:
        day, u = f
        summary_mail(u, day, _at(_workday(summary_due - timedelta(days=4)), 10, 11, 9), client="outlook",
                     subject=f"关于报送{u.name}“政府开放日”活动开展情况的报告",
                     filename=f"{short(u)}政府开放日活动开展情况.docx", participants=32, suggestions=5,
                     scenario="summary", note="summary before its due date (Outlook RFC 2231 filename)")
    f = slot(1)
    if f:
        day, u = f
        summary_mail(u, day, _at(_workday(summary_due + timedelta(days=2)), 9, 40, 36), client="foxmail",
                     subject=f"{short(u)}政府开放日活动总结（补报）",
                     filename=f"{short(u)}政府开放日活动总结.docx", participants=28, suggestions=4,
                     scenario="summary-late", note="summary after the campaign's due date")
    if o0:
        held = o0_day + timedelta(days=7)
        summary_mail(o0, held, _at(_workday(held + timedelta(days=1)), 16, 20, 44), client="outlook",
                     subject=f"关于报送{o0.name}“政府开放日”活动开展情况的报告",
                     filename=f"{o0.name}“政府开放日”活动开展情况.docx", participants=30, suggestions=3,
                     scenario="summary",
                     note="summary of an activity held late (after the adjustment): due = activity + feedback window")
    mails.sort(key=lambda m: m.arrival)
    return mails


def demo_mailbox(campaign: Any, roster: Any, office_address: str) -> list[tuple[datetime, bytes]]:
    """The demo campaign's mail as (arrival time, raw bytes), sorted by arrival."""
    return [(m.arrival, m.raw) for m in demo_mails(campaign, roster, office_address)]


def write_maildir(path: Path, messages: Iterable[tuple[datetime, bytes]]) -> None:
    """Deliver messages into a Maildir (created if needed): bytes unchanged, under new/, each
    file's mtime = its arrival time.

    File names are derived from arrival time and content (<epoch>.M<usec>X<sha256[:12]>.samples),
    so name order is arrival order and writing the same message again is a no-op, wherever a
    reader has moved it (new/ or cur/, with or without :2,flags). `mailbot demo` calls this
    once per simulated day with all mail arrived so far.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    mb = mailbox.Maildir(str(path), create=True)
    try:
        present = {name.split(":")[0] for sub in ("new", "cur") for name in os.listdir(path / sub)}
        for arrival, raw in messages:
            arrival = _aware(arrival)
            ts = arrival.timestamp()
            name = f"{int(ts)}.M{arrival.microsecond}X{hashlib.sha256(raw).hexdigest()[:12]}.samples"
            if name in present:
                continue
            key = mb.add(raw)
            dest = path / "new" / name
            os.rename(path / "new" / key, dest)
            os.utime(dest, (ts, ts))
            present.add(name)
    finally:
        mb.close()
