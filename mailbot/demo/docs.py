"""Realistic department documents as .docx bytes, laid out like GB/T 9704 official papers:
a 实施方案, a 调整 report and a 开展情况 report, deterministic (re-zipped with fixed timestamps).

No region, year or unit is spelled inside the logic: they come from the arguments. A unit's
theme, site and meeting come from a profile matched by a fragment of its name. Only the standard
library and python-docx are used, because this module ships in the package.

    plan_docx(unit, activity=..., theme=...)       a department's 实施方案 (.docx bytes)
    adjustment_docx(unit, old_date=..., ...)        a 调整 report
    summary_docx(unit, held=..., ...)               a 开展情况 report
"""
from __future__ import annotations

import html
import io
import re
import zipfile
from datetime import date, datetime, time, timedelta
from typing import Iterable, Sequence

from mailbot.cndate import cn_date, md, weekday
from mailbot.demo.seeds import digest, pick

# The announcement items of the notice, in the notice's order (campaign clause 二(五)).
ANNOUNCEMENT_ITEMS = ("报名方式", "参加人数", "开放主题", "参加领导", "承办单位", "时间地点",
                      "活动内容", "活动形式", "联系人员", "联系电话", "温馨提示")


def region_of(unit: str) -> str:
    """西吉县民政局 → 西吉县 (first 县/区/市/旗); empty when the name carries no region."""
    m = re.match(r"^(.{2,6}?[县区市旗])(?=.{2,})", unit)
    return m.group(1) if m else ""


def short_name(unit: str, region: str = "") -> str:
    """西吉县民政局 → 民政局 (how people write it in subjects)."""
    region = region or region_of(unit)
    s = unit[len(region):] if region and unit.startswith(region) else unit
    return s or unit


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
    s = short_name(unit, region)
    fill = (lambda t: t.format(r=r or "家园", s=s))
    return {"theme": fill(prof[1]), "site": fill(prof[2]), "shown": fill(prof[3]),
            "meeting": fill(prof[4]), "office": prof[5]}


def default_leader(unit: str) -> str:
    """A plausible 参加领导 line for a unit (deterministic)."""
    return f"局党组书记、局长{pick(_LEADER_NAMES, 'leader', unit)}"


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
    region = region_of(unit) if region is None else region
    short = short_name(unit, region)
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
    region = region_of(unit) if region is None else region
    signed = signed or (old_date - timedelta(days=5))
    notice = notice or f"《{region}{old_date.year}年度“政府开放日”活动实施方案》"
    d = _Doc(f"{unit}", author=contact or short_name(unit, region),
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
    region = region_of(unit) if region is None else region
    prof = _profile(unit, region)
    theme = theme or prof["theme"]
    adopted = min(suggestions, adopted if adopted is not None else (suggestions * 2 + 2) // 3)
    signed = signed or (held + timedelta(days=7))
    notice = notice or f"《{region}{held.year}年度“政府开放日”活动实施方案》"
    forms = tuple(forms)
    title = f"{unit}{held.year}年“{event_name}”活动开展情况"
    d = _Doc(title, author=contact or short_name(unit, region), title=title, when=signed)
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
        s, r = _SUGGESTIONS[(i + int.from_bytes(digest(unit)[:1], "big")) % len(_SUGGESTIONS)]
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


_SIGNERS = ("马文礼", "李秀英", "王建国", "张丽娟", "杨志强", "海燕", "田玉梅", "苏成林", "何永红", "丁学军",
            "周海霞", "马小兰")
_PLACES = ("吉强镇", "兴隆镇", "将台堡镇", "城关社区", "北大街社区", "县第二中学", "个体工商户", "县人大代表联络站")


def signin_docx(unit: str, *, held: date, people: int = 12, event_name: str = "政府开放日") -> bytes:
    """A 签到表 as departments send it after the activity: a title and a table of names, no
    facts of a plan or a summary (a supplement, office/supplement.py)."""
    title = f"{unit}“{event_name}”活动签到表"
    d = _Doc(title, author=short_name(unit), title=title, when=held)
    d.title(title)
    d.text(f"时间：{cn_date(held)}上午")
    rows = [("序号", "姓名", "单位或住址", "签名")]
    for i in range(people):
        rows.append((str(i + 1), pick(_SIGNERS, unit, i), pick(_PLACES, unit, i + 3), ""))
    d.table(rows, (1.4, 3.0, 6.6, 4.0), size=12)
    return d.bytes()
