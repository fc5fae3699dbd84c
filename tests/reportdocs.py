"""A department's 政府信息公开工作年度报告 as a real .docx (python-docx), in the national template
(国办公开办函〔2021〕30号): a title, an introduction that lists the six sections (as real reports
do), the six sections with their text, and the three statistics tables filled with numbers.

`report_docx(unit, year=..., omit_section=3, omit_table=4, numbering="一、")` leaves out one
section (its heading, text and table) or only one table, and writes the headings numbered
一、 / 1. / （一） / 第一部分, so tests can see what a check finds.
"""
from __future__ import annotations

import io
import random

CN = "一二三四五六"

SECTIONS = (
    "总体情况",
    "主动公开政府信息情况",
    "收到和处理政府信息公开申请情况",
    "政府信息公开行政复议、行政诉讼情况",
    "存在的主要问题及改进情况",
    "其他需要报告的事项",
)


def _heading(n: int, title: str, numbering: str) -> str:
    """The heading of section N (1-based) numbered the way NUMBERING shows for section 1."""
    if numbering == "1.":
        return f"{n}.{title}"
    if numbering == "（一）":
        return f"（{CN[n - 1]}）{title}"
    if numbering == "第一部分":
        return f"第{CN[n - 1]}部分　{title}"
    if numbering == "一 ":                               # a space instead of 、, full-width
        return f"{CN[n - 1]}　{title}"
    return f"{CN[n - 1]}、{title}"


def _texts(unit: str, year: int, rnd: random.Random) -> dict[int, list[str]]:
    new = rnd.randint(2, 15)
    return {
        1: [f"{year}年，{unit}坚持以习近平新时代中国特色社会主义思想为指导，认真贯彻落实《中华人民共和国政府信息公开条例》，"
            f"围绕中心工作，全面推进政务公开工作。",
            f"（一）主动公开情况。全年通过政府门户网站主动公开政府信息{rnd.randint(80, 400)}条，"
            f"其中政策文件{rnd.randint(5, 30)}件、政策解读{rnd.randint(3, 20)}篇。",
            f"（二）依申请公开情况。全年收到政府信息公开申请{new}件，均在法定期限内答复。",
            "（三）政府信息管理。严格落实公开前保密审查制度，定期清理已公开的规范性文件。",
            "（四）平台建设。持续优化政府信息公开专栏，及时更新政务新媒体。",
            "（五）监督保障。将政务公开纳入年度目标责任考核，开展业务培训2次。"],
        2: ["本年度主动公开政府信息情况见下表。"],
        3: [f"本年度共收到政府信息公开申请{new}件，上年结转0件，办理结果见下表。"],
        4: ["本年度未发生因政府信息公开工作被申请行政复议、提起行政诉讼的情况。"],
        5: ["一是公开内容不够全面，部分领域信息更新不够及时；二是政策解读形式较为单一。",
            f"{year + 1}年，将进一步完善公开制度，丰富解读形式，提升公开质量。"],
        6: ["本机关未收取信息处理费。无其他需要报告的事项。"],
    }


def _table(doc, rows: list[list[str]]) -> None:
    width = max(len(r) for r in rows)
    t = doc.add_table(rows=len(rows), cols=width)
    t.style = "Table Grid"
    for row, values in zip(t.rows, rows):         # row by row: table.cell() rebuilds the grid each call
        for cell, value in zip(row.cells, values):
            cell.text = value


def _active_table(rnd: random.Random) -> list[list[str]]:
    n = lambda: str(rnd.randint(0, 40))
    return [
        ["第二十条第（一）项", "", "", ""],
        ["信息内容", "本年制发件数", "本年废止件数", "现行有效件数"],
        ["规章", "0", "0", "0"],
        ["行政规范性文件", n(), n(), n()],
        ["第二十条第（五）项", "", "", ""],
        ["信息内容", "本年处理决定数量", "", ""],
        ["行政许可", n(), "", ""],
        ["第二十条第（六）项", "", "", ""],
        ["信息内容", "本年处理决定数量", "", ""],
        ["行政处罚", n(), "", ""],
        ["行政强制", n(), "", ""],
        ["第二十条第（八）项", "", "", ""],
        ["信息内容", "本年收费金额（单位：万元）", "", ""],
        ["行政事业性收费", "0", "", ""],
    ]


def _request_table(rnd: random.Random) -> list[list[str]]:
    cols = 7
    def nums(total: int | None = None) -> list[str]:
        a = [rnd.randint(0, 3) for _ in range(cols - 1)]
        return [str(x) for x in a] + [str(sum(a) if total is None else total)]
    rows = [
        ["（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）", "申请人情况", "", "", "", "", "", ""],
        ["", "自然人", "法人或其他组织", "", "", "", "", "总计"],
        ["", "", "商业企业", "科研机构", "社会公益组织", "法律服务机构", "其他", ""],
        ["一、本年新收政府信息公开申请数量", *nums()],
        ["二、上年结转政府信息公开申请数量", *["0"] * cols],
        ["三、本年度办理结果", "", "", "", "", "", "", ""],
        ["（一）予以公开", *nums()],
        ["（二）部分公开（区分处理的，只计这一情形，不计其他情形）", *["0"] * cols],
    ]
    for head, subs in (("（三）不予公开", ("属于国家秘密", "其他法律行政法规禁止公开", "危及“三安全一稳定”",
                                          "保护第三方合法权益", "属于三类内部事务信息", "属于四类过程性信息",
                                          "属于行政执法案卷", "属于行政查询事项")),
                       ("（四）无法提供", ("本机关不掌握相关政府信息", "没有现成信息需要另行制作",
                                         "补正后申请内容仍不明确")),
                       ("（五）不予处理", ("信访举报投诉类申请", "重复申请", "要求提供公开出版物",
                                         "无正当理由大量反复申请", "要求行政机关确认或重新出具已获取信息")),
                       ("（六）其他处理", ("申请人无正当理由逾期不补正、行政机关不再处理其政府信息公开申请",
                                         "申请人逾期未按收费通知要求缴纳费用、行政机关不再处理其政府信息公开申请",
                                         "其他"))):
        rows.append([head, *[""] * cols])
        rows += [[f"{i}.{s}", *["0"] * cols] for i, s in enumerate(subs, start=1)]
    rows += [["（七）总计", *nums()], ["四、结转下年度继续办理", *["0"] * cols]]
    return rows


def _review_table() -> list[list[str]]:
    five = ["结果维持", "结果纠正", "其他结果", "尚未审结", "总计"]
    return [
        ["行政复议", "", "", "", "", "行政诉讼", "", "", "", "", "", "", "", "", ""],
        ["", "", "", "", "", "未经复议直接起诉", "", "", "", "", "复议后起诉", "", "", "", ""],
        five + five + five,
        ["0"] * 15,
    ]


TABLES = {2: _active_table, 3: _request_table}


def report_docx(unit: str = "西吉县民政局", *, year: int = 2022, omit_section: int | None = None,
                omit_table: int | None = None, numbering: str = "一、", intro: bool = True,
                seed: int = 7) -> bytes:
    """The report as .docx bytes (see the module docstring)."""
    from docx import Document
    rnd = random.Random(seed)
    doc = Document()
    doc.add_heading(f"{unit}{year}年政府信息公开工作年度报告", level=1)
    if intro:
        doc.add_paragraph(
            f"本报告根据《中华人民共和国政府信息公开条例》（以下简称《条例》）要求编制，全文包括总体情况、"
            f"主动公开政府信息情况、收到和处理政府信息公开申请情况、政府信息公开行政复议和行政诉讼情况、"
            f"存在的主要问题及改进情况、其他需要报告的事项。本报告所列数据统计期限为{year}年1月1日至12月31日。")
    texts = _texts(unit, year, rnd)
    for n, title in enumerate(SECTIONS, start=1):
        if n == omit_section:
            continue
        doc.add_paragraph(_heading(n, title, numbering))
        for p in texts[n]:
            doc.add_paragraph(p)
        if n == omit_table:
            continue
        if n in TABLES:
            _table(doc, TABLES[n](rnd))
        elif n == 4:
            _table(doc, _review_table())
    doc.add_paragraph(f"{unit}")
    doc.add_paragraph(f"{year + 1}年1月16日")
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


__all__ = ["report_docx", "SECTIONS"]
