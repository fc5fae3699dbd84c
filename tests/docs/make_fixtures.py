"""The accuracy set: realistic department plans, adjustments and summaries, with expected facts
and findings.

`build(out_dir)` writes the documents (.docx via python-docx; one .doc via LibreOffice when
`soffice` is installed; one .zip) and returns the manifest: file → {unit, kind, received,
facts, findings, outcome}. Nothing binary is committed: tests and benchmarks generate the set
into a temporary folder. The output is deterministic (fixed zip timestamps and core
properties); the .doc depends on the installed LibreOffice.

Each document is written the way departments really write: some copy the notice's words
(开放主题, 温馨提示), most use their own (活动主题, 注意事项, 参与方式); some are one big table,
some prose, some numbered lists; one comes from WPS with 仿宋 fonts and full-width characters.

Run directly to write the set somewhere:  python tests/docs/make_fixtures.py OUT_DIR
After editing a fixture, refresh the readable copy of the expectations:
    python tests/docs/make_fixtures.py --write-expected      (→ tests/docs/expected.json)
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import uuid
import zipfile
from datetime import datetime
from pathlib import Path
from typing import Any

FIXED_TIME = (2022, 8, 20, 9, 0, 0)

INTRO = ("为认真贯彻落实县人民政府办公室《西吉县2022年度“政府开放日”活动实施方案》要求，"
         "进一步推进政务公开，畅通政民互动渠道，切实保障人民群众的知情权、参与权、表达权和监督权，"
         "结合我局工作实际，特制定本方案。")


def T(text: str) -> tuple:            # title
    return ("title", text)


def P(text: str) -> tuple:            # paragraph
    return ("p", text)


def H(text: str) -> tuple:            # heading (bold paragraph)
    return ("h", text)


def TAB(*rows: tuple) -> tuple:       # table
    return ("table", [list(r) for r in rows])


# Each fixture: file, unit, kind, received, style, blocks, expected facts, expected findings
# [(rule, item, severity)], outcome. Facts not listed are not scored.
FIXTURES: list[dict[str, Any]] = []


def fx(file: str, unit: str | None, kind: str, received: str | None, blocks: list, facts: dict,
       findings: list[tuple[str, str, str]] = (), outcome: str | None = None, style: str = "plain",
       fmt: str = "docx", items_missing: list[str] = ()) -> None:
    if outcome is None:
        outcome = "需修改" if any(s == "错误" for _, _, s in findings) else "待审核"
    FIXTURES.append(dict(file=file, unit=unit, kind=kind, received=received, blocks=blocks, facts=facts,
                         findings=[list(f) for f in findings], outcome=outcome, style=style, fmt=fmt,
                         items_missing=list(items_missing)))


LEAD = ("announce-lead", "发布公告", "提醒")

# 1 — the whole announcement as a two-column table (农业农村局, fixed 9-05)
fx("01_农业农村局_政府开放日活动公告.docx", "西吉县农业农村局", "plan", "2022-08-19", [
    T("西吉县农业农村局“政府开放日”活动公告"),
    P("为进一步推进政务公开，搭建政府与群众沟通桥梁，我局定于2022年9月5日开展“政府开放日”活动，"
      "诚邀社会各界群众代表走进农业农村局，现将有关事项公告如下："),
    TAB(("开放主题", "走进农业农村 共话乡村振兴"),
        ("时间地点", "2022年9月5日（星期一）上午9:00；县农业农村局四楼会议室及县现代农业示范园区"),
        ("活动内容", "1.参观局机关办公场所，了解办文办事流程；2.实地参观现代农业示范园区，听取高标准农田建设情况介绍；"
                     "3.召开座谈会，听取意见建议并现场答疑。"),
        ("活动形式", "进机关、进现场"),
        ("参加人数", "30人"),
        ("报名方式", "线上报名与线下推荐相结合，有意参加者请于8月31日前拨打联系电话报名，或由各乡镇推荐产生。"),
        ("参加领导", "局党组书记、局长，分管副局长"),
        ("承办单位", "西吉县农业农村局办公室"),
        ("联系人员", "马建军"),
        ("联系电话", "0954-3011201"),
        ("温馨提示", "请参加人员携带身份证，提前15分钟到达；活动期间请遵守会场纪律，听从工作人员安排。")),
    P("西吉县农业农村局"),
    P("2022年8月19日"),
], facts=dict(activity_dates=["2022-09-05"], participants=30, theme="走进农业农村 共话乡村振兴",
              contact="马建军", phone="0954-3011201", place="县农业农村局四楼会议室及县现代农业示范园区"))

# 2 — prose with 一、(一) headings and the department's own words (民政局, fixed 9-06)
fx("02_民政局_政府开放日活动实施方案.docx", "西吉县民政局", "plan", "2022-08-22", [
    T("西吉县民政局2022年“政府开放日”活动实施方案"),
    P(INTRO),
    H("一、活动主题"),
    P("“民政为民 温暖同行”"),
    H("二、活动时间"),
    P("2022年9月6日上午9:00—11:30"),
    H("三、活动地点"),
    P("西吉县民政局二楼会议室、县社会福利中心"),
    H("四、邀请对象"),
    P("在西吉县生活、工作且年满18周岁的群众代表，主要包括社区工作者、困难群众家属、养老机构入住老人家属、"
      "政务公开义务监督员等，不含“两代表一委员”，共计30名。"),
    H("五、活动形式"),
    P("（一）进机关。组织群众代表参观局机关办公场所，查看社会救助审批办理流程。"),
    P("（二）进现场。实地参观县社会福利中心，了解特困人员供养、养老服务情况。"),
    H("六、活动流程"),
    P("1.8:50 群众代表在县民政局一楼大厅集合签到；"),
    P("2.9:00—9:40 参观局机关及社会救助窗口；"),
    P("3.9:50—10:40 赴县社会福利中心实地参观；"),
    P("4.10:50—11:30 召开座谈会，发放满意度调查问卷，现场答复群众提问。"),
    H("七、参与方式"),
    P("通过线上报名和线下推荐产生。线上报名请关注“西吉民政”微信公众号留言报名，线下由各乡镇民政办推荐。"),
    H("八、出席领导"),
    P("局党组书记、局长，分管副局长"),
    H("九、承办单位"),
    P("西吉县民政局社会救助股"),
    H("十、联系人及电话"),
    P("李红霞  （0954）3012103"),
    H("十一、注意事项"),
    P("（一）请参加人员按时到达集合地点，佩戴口罩，配合做好疫情防控工作。"),
    P("（二）活动期间请听从工作人员安排，不得随意走动。"),
    P("西吉县民政局"),
    P("2022年8月22日"),
], facts=dict(activity_dates=["2022-09-06"], participants=30, theme="民政为民 温暖同行",
              contact="李红霞", phone="0954-3012103", place="西吉县民政局二楼会议室、县社会福利中心"))

# 3 — WPS style: 仿宋 fonts, full-width digits and punctuation, spaced labels (医疗保障局, fixed 9-06)
fx("03_医保局_政府开放日活动方案.docx", "西吉县医疗保障局", "plan", "2022-08-25", [
    T("西吉县医疗保障局“政府开放日”活动方案"),
    P(INTRO.replace("我局", "我局医疗保障")),
    P("１．开放主题：医保惠民生　服务零距离"),
    P("２．开放时间：２０２２年９月６日（星期二）下午３：００"),
    P("３．开放地点：县医疗保障局一楼医保服务大厅"),
    P("４．开放形式：进机关（参观医保服务大厅，体验医保业务经办流程）；进会议（列席局务会，听取医保基金监管工作汇报）。"),
    P("５．活动安排：参观医保服务大厅——体验异地就医备案办理——列席局务会——座谈交流，现场填写满意度调查问卷。"),
    P("６．参加人数：２５名左右"),
    P("７．报名方式：在县政府门户网站、“西吉医保”公众号发布公告，群众自愿报名，结合定点医药机构、参保单位推荐产生。"),
    P("８．出席领导：局主要负责同志及分管负责同志"),
    P("９．主办单位：西吉县医疗保障局"),
    P("１０．联　系　人：王志强"),
    P("　　　联系电话：１３７０９５４３３６６"),
    P("１１．温馨提示：请携带身份证及医保电子凭证，活动全程约２小时，请合理安排时间。"),
], facts=dict(activity_dates=["2022-09-06"], participants=25, theme="医保惠民生 服务零距离",
              contact="王志强", phone="13709543366", place="县医疗保障局一楼医保服务大厅"),
    findings=[LEAD], style="wps")

# 4 — names itself 校园开放日 (教育体育局, fixed 9-07)
fx("04_教体局_实施方案.docx", "西吉县教育体育局", "plan", "2022-08-20", [
    T("西吉县教育体育局2022年“校园开放日”活动实施方案"),
    P(INTRO),
    P("一、活动主题：走进校园 共话教育"),
    P("二、活动时间：2022年9月7日上午8:30"),
    P("三、活动地点：西吉县第一小学、县教育体育局会议室"),
    P("四、活动内容：（一）进现场：参观学校课后服务、食堂管理现场；（二）进会议：列席“双减”工作推进会；"
      "（三）座谈交流：听取家长代表对教育工作的意见建议。"),
    P("五、参加人数：家长代表、教师代表、社区代表共30人。"),
    P("六、报名方式：由各学校家委会推荐，也可拨打联系电话报名。"),
    P("七、参加领导：局长、分管副局长"),
    P("八、承办单位：县教育体育局基础教育股、西吉县第一小学"),
    P("九、联系人：苏文华  联系电话：0954-3013105"),
    P("十、温馨提示：进入校园请服从学校安排，保持安静，不影响正常教学秩序。"),
], facts=dict(activity_dates=["2022-09-07"], participants=30, theme="走进校园 共话教育",
              contact="苏文华", phone="0954-3013105", place="西吉县第一小学、县教育体育局会议室"),
    findings=[("official-name", "活动名称", "错误")])

# 5 — invites 人大代表 and 政协委员 (卫生健康局, fixed 9-07)
fx("05_卫健局_实施方案.docx", "西吉县卫生健康局", "plan", "2022-08-21", [
    T("西吉县卫生健康局“政府开放日”活动实施方案"),
    P(INTRO),
    H("一、活动主题"),
    P("健康西吉 你我同行"),
    H("二、时间地点"),
    P("时间：2022年9月7日（星期三）下午3:00"),
    P("地点：县人民医院门诊楼、县卫生健康局五楼会议室"),
    H("三、邀请对象"),
    P("邀请人大代表、政协委员、医务工作者及群众代表共30名参加。"),
    H("四、活动内容及形式"),
    P("（一）进现场：参观县人民医院疫苗保管接种现场、预约挂号及一站式结算窗口。"),
    P("（二）座谈问答：召开座谈会，介绍全县卫生健康工作，解答群众关心的就医问题。"),
    H("五、报名方式"),
    P("即日起至9月2日，通过电话报名或由各医疗卫生单位推荐。"),
    H("六、参加领导"),
    P("局党委书记、局长"),
    H("七、承办单位"),
    P("县卫生健康局医政医管股"),
    H("八、联系人员"),
    P("杨丽娟，联系电话：0954-3013206"),
    H("九、温馨提示"),
    P("进入医院请全程佩戴口罩，听从工作人员引导。"),
], facts=dict(activity_dates=["2022-09-07"], participants=30, theme="健康西吉 你我同行",
              contact="杨丽娟", phone="0954-3013206", place="县人民医院门诊楼、县卫生健康局五楼会议室"),
    findings=[("no-two-reps", "邀请对象", "错误")])

# 6 — only 20 participants (人社局, fixed 9-08)
fx("06_人社局_实施方案.docx", "西吉县人力资源和社会保障局", "plan", "2022-08-23", [
    T("西吉县人力资源和社会保障局“政府开放日”活动实施方案"),
    P(INTRO),
    P("一、开放主题：就业创业 服务到家"),
    P("二、开放时间：2022年9月8日上午9:30"),
    P("三、开放地点：县人社局一楼公共就业服务大厅"),
    P("四、参加人数：20人"),
    P("五、邀请对象：高校毕业生、农民工、企业人力资源负责人等群众代表。"),
    P("六、活动形式：进机关，参观就业服务大厅和社保经办窗口，体验社保卡办理流程；召开座谈会。"),
    P("七、活动安排：9:30参观大厅，10:30座谈交流并填写意见征集表。"),
    P("八、报名方式：电话报名，额满为止。"),
    P("九、参加领导：局长马某某、副局长"),
    P("十、承办单位：县就业创业和人才服务局"),
    P("十一、联系人：马国平，联系电话：0954-3014107"),
    P("十二、注意事项：请携带本人身份证，准时参加。"),
], facts=dict(activity_dates=["2022-09-08"], participants=20, theme="就业创业 服务到家",
              contact="马国平", phone="0954-3014107", place="县人社局一楼公共就业服务大厅"),
    findings=[("min-participants", "参加人数", "错误")])

# 7 — a date other than its fixed one; says 不含“两代表一委员” (住建局, fixed 9-08)
fx("07_住建局_实施方案.docx", "西吉县住房和城乡建设局", "plan", "2022-08-24", [
    T("西吉县住房和城乡建设局“政府开放日”活动实施方案"),
    P(INTRO),
    P("一、活动主题：安居西吉 共建共享"),
    P("二、活动时间：2022年9月15日（星期四）上午9:00"),
    P("三、活动地点：县住建局三楼会议室、城区老旧小区改造项目施工现场"),
    P("四、邀请对象：小区业主代表、物业企业代表、社区工作者等30名群众代表，不含“两代表一委员”。"),
    P("五、活动内容：（一）进现场：实地察看老旧小区改造工程建设现场；（二）进会议：列席局务会，"
      "旁听老旧小区改造项目推进情况汇报；（三）发放调查问卷，收集群众意见建议。"),
    P("六、报名方式：由各社区推荐产生。"),
    P("七、参加领导：局长、分管副局长"),
    P("八、承办单位：县住建局城建股"),
    P("九、联系人：何永刚；联系电话：0954-3014208"),
    P("十、温馨提示：施工现场请佩戴安全帽，注意安全。"),
], facts=dict(activity_dates=["2022-09-15"], participants=30, theme="安居西吉 共建共享",
              contact="何永刚", phone="0954-3014208", place="县住建局三楼会议室、城区老旧小区改造项目施工现场"),
    findings=[("fixed-date", "活动时间", "错误")])

# 8 — October (发展和改革局)
fx("08_发改局_实施方案.docx", "西吉县发展和改革局", "plan", "2022-08-25", [
    T("西吉县发展和改革局“政府开放日”活动实施方案"),
    P(INTRO),
    TAB(("活动主题", "项目建设看发展"),
        ("活动时间", "2022年10月12日上午9:00"),
        ("活动地点", "县发改局会议室、西吉县重点项目建设现场"),
        ("参加人数", "不少于25人"),
        ("参与方式", "线上报名、单位推荐"),
        ("活动形式", "进机关、进现场"),
        ("活动内容", "参观局机关，实地观摩重点项目建设现场，召开座谈会听取意见建议"),
        ("出席领导", "局长、副局长"),
        ("承办单位", "县发改局项目办"),
        ("联系人", "张海燕"),
        ("联系电话", "0954-3015109"),
        ("注意事项", "请着便装、穿平底鞋，听从现场工作人员指挥")),
], facts=dict(activity_dates=["2022-10-12"], participants=25, theme="项目建设看发展",
              contact="张海燕", phone="0954-3015109", place="县发改局会议室、西吉县重点项目建设现场"),
    findings=[("activity-window", "活动时间", "提醒")])

# 9 — November: outside the window (财政局)
fx("09_财政局_实施方案.docx", "西吉县财政局", "plan", "2022-08-24", [
    T("西吉县财政局“政府开放日”活动实施方案"),
    P(INTRO),
    P("一、活动主题：阳光财政 惠民利民"),
    P("二、活动时间：2022年11月3日上午10:00"),
    P("三、活动地点：县财政局一楼惠民惠农补贴“一卡通”服务窗口、三楼会议室"),
    P("四、参加人数：30人左右"),
    P("五、活动形式：进机关、进会议"),
    P("六、活动内容：参观财政局机关，列席预算评审会；召开座谈会，发放问卷调查表。"),
    P("七、报名方式：电话报名或由乡镇财政所推荐。"),
    P("八、参加领导：局长"),
    P("九、承办单位：县财政局办公室"),
    P("十、联系人员：罗振东　联系电话：0954-3015210"),
    P("十一、温馨提示：请携带身份证参加。"),
], facts=dict(activity_dates=["2022-11-03"], participants=30, theme="阳光财政 惠民利民",
              contact="罗振东", phone="0954-3015210",
              place="县财政局一楼惠民惠农补贴“一卡通”服务窗口、三楼会议室"),
    findings=[("activity-window", "活动时间", "错误")])

# 10 — missing 温馨提示, 参加领导, 承办单位 (自然资源局)
fx("10_自然资源局_实施方案.docx", "西吉县自然资源局", "plan", "2022-08-26", [
    T("西吉县自然资源局“政府开放日”活动实施方案"),
    P(INTRO),
    P("一、活动主题：守护耕地红线 服务群众用地"),
    P("二、活动时间：2022年9月14日上午9:00"),
    P("三、活动地点：县自然资源局不动产登记服务中心"),
    P("四、参加人数：30人"),
    P("五、活动形式：进机关，参观不动产登记服务中心，体验不动产登记“一窗受理”流程。"),
    P("六、活动内容：参观体验后召开座谈会，介绍耕地保护和不动产登记工作，解答群众问题。"),
    P("七、报名方式：群众可通过电话报名。"),
    P("八、联系人：马晓军，联系电话：0954-3016111。"),
], facts=dict(activity_dates=["2022-09-14"], participants=30, theme="守护耕地红线 服务群众用地",
              contact="马晓军", phone="0954-3016111", place="县自然资源局不动产登记服务中心"),
    findings=[("announce-items", "参加领导", "错误"), ("announce-items", "承办单位", "错误"),
              ("announce-items", "温馨提示", "错误")],
    items_missing=["参加领导", "承办单位", "温馨提示"])

# 11 — sent after the due date (交通运输局)
fx("11_交通运输局_实施方案.docx", "西吉县交通运输局", "plan", "2022-09-01", [
    T("西吉县交通运输局“政府开放日”活动实施方案"),
    P(INTRO),
    P("一、开放主题：“四好农村路”建设进行时"),
    P("二、开放时间：2022年9月28日（星期三）上午9:00"),
    P("三、开放地点：县交通运输局会议室、将台至兴隆农村公路改造工程现场"),
    P("四、参加人数：35人"),
    P("五、开放形式：进现场，实地查看农村公路建设工程现场，了解工程质量管理；进机关。"),
    P("六、活动内容：工程现场讲解、座谈交流、填写意见征集表。"),
    P("七、报名方式：沿线村组推荐与自愿报名相结合。"),
    P("八、参加领导：局长、总工程师"),
    P("九、承办单位：县交通运输局公路建设管理股"),
    P("十、联系人：刘春生  电话：0954-3016212"),
    P("十一、温馨提示：工程现场车辆较多，请注意交通安全。"),
], facts=dict(activity_dates=["2022-09-28"], participants=35, theme="“四好农村路”建设进行时",
              contact="刘春生", phone="0954-3016212", place="县交通运输局会议室、将台至兴隆农村公路改造工程现场"),
    findings=[("plan-due", "报送时间", "提醒")])

# 12 — saved as .doc (水务局): label<TAB>value table, 2022/9/22
fx("12_水务局_实施方案.doc", "西吉县水务局", "plan", "2022-08-26", [
    T("西吉县水务局“政府开放日”活动实施方案"),
    P(INTRO),
    TAB(("活动主题", "节约用水 你我同行"),
        ("活动时间", "2022/9/22 上午9:00"),
        ("活动地点", "县水务局三楼会议室、葫芦河治理工程现场"),
        ("参加人数", "30名"),
        ("报名方式", "电话报名"),
        ("活动形式", "进机关、进现场"),
        ("活动内容", "参观局机关，实地查看河道治理工程，召开座谈会"),
        ("参加领导", "局长、副局长"),
        ("承办单位", "县水务局河湖管理股"),
        ("联系人", "海小兰"),
        ("联系电话", "0954-3017113"),
        ("温馨提示", "河道现场请注意安全，勿靠近水边")),
], facts=dict(activity_dates=["2022-09-22"], participants=30, theme="节约用水 你我同行",
              contact="海小兰", phone="0954-3017113", place="县水务局三楼会议室、葫芦河治理工程现场"),
    fmt="doc")

# 13 — inside a .zip, Chinese numerals for the date (文化旅游广电局)
fx("13_文旅局_报送材料.zip/文旅局政府开放日实施方案.docx", "西吉县文化旅游广电局", "plan", "2022-08-26", [
    T("西吉县文化旅游广电局“政府开放日”活动实施方案"),
    P(INTRO),
    H("一、活动主题"),
    P("文旅融合 共享发展"),
    H("二、活动时间"),
    P("二〇二二年九月二十一日上午九时"),
    H("三、活动地点"),
    P("县图书馆、县文化旅游广电局会议室"),
    H("四、参加人数"),
    P("三十名"),
    H("五、活动形式"),
    P("进机关、进现场：参观县图书馆数字阅读体验区、文化馆非遗展厅，体验图书借阅办理。"),
    H("六、活动内容"),
    P("参观体验、座谈交流、问卷调查。"),
    H("七、报名方式"),
    P("关注“西吉文旅”公众号报名。"),
    H("八、参加领导"),
    P("局长、分管副局长"),
    H("九、承办单位"),
    P("县文化旅游广电局公共服务股"),
    H("十、联系人员"),
    P("周雅琴"),
    H("十一、联系电话"),
    P("0954-3017214"),
    H("十二、温馨提示"),
    P("参观期间请保持安静，爱护展品。"),
], facts=dict(activity_dates=["2022-09-21"], participants=30, theme="文旅融合 共享发展",
              contact="周雅琴", phone="0954-3017214", place="县图书馆、县文化旅游广电局会议室"),
    fmt="zip")

# 14 — quotes the notice's own dates (8月26日前, 9月20日前); the real date is in 活动时间 (市场监管局)
fx("14_市场监管局_实施方案.docx", "西吉县市场监督管理局", "plan", "2022-08-26", [
    T("西吉县市场监督管理局“政府开放日”活动实施方案"),
    P("根据县人民政府办公室要求，各部门于2022年8月26日前将活动实施方案报县政务公开办公室备案，"
      "于9月20日前报送“政府开放日”开展情况。结合我局实际，制定本方案。"),
    P("一、活动主题：守护舌尖安全 共建放心消费"),
    P("二、活动时间：2022年9月16日上午9:00"),
    P("三、活动地点：县市场监管局食品快检室、城区农贸市场"),
    P("四、活动内容：（一）进现场：观摩食品安全执法现场及农贸市场快检；（二）进机关：参观12315投诉举报处置中心；"
      "（三）召开座谈会，现场答疑。"),
    P("五、参加人数：30人"),
    P("六、报名方式：线上报名和线下推荐相结合，线上请扫描公告二维码报名。"),
    P("七、参加领导：局党组书记、局长"),
    P("八、承办单位：县市场监管局食品安全协调股"),
    P("九、联系人：马占福  手机：13995443210"),
    P("十、温馨提示：快检室内请勿触碰检测设备。"),
    P("活动结束后，我局将梳理汇总意见建议，在15天内公开反馈采纳情况。"),
], facts=dict(activity_dates=["2022-09-16"], participants=30, theme="守护舌尖安全 共建放心消费",
              contact="马占福", phone="13995443210", place="县市场监管局食品快检室、城区农贸市场"))

# 15 — a header-row table; late and too close to the date (应急管理局)
fx("15_应急管理局_实施方案.docx", "西吉县应急管理局", "plan", "2022-09-10", [
    T("西吉县应急管理局“政府开放日”活动实施方案"),
    P(INTRO),
    TAB(("开放主题", "活动时间", "活动地点", "参加人数"),
        ("安全生产 人人有责", "9月19日9:00", "县应急管理局指挥中心", "30人")),
    P("活动形式：进机关，参观应急指挥中心，观看应急救援演练。"),
    P("活动内容：参观指挥中心—观摩演练—座谈交流。"),
    P("报名方式：由各乡镇、企业推荐。"),
    P("参加领导：局长"),
    P("承办单位：县应急管理局办公室"),
    P("联系人：冯立新"),
    P("联系电话：0954-3018216"),
    P("注意事项：演练现场请听从指挥，注意安全。"),
], facts=dict(activity_dates=["2022-09-19"], participants=30, theme="安全生产 人人有责",
              contact="冯立新", phone="0954-3018216", place="县应急管理局指挥中心"),
    findings=[LEAD, ("plan-due", "报送时间", "提醒")])

# 16 — no 座谈 and no 问卷 (统计局)
fx("16_统计局_实施方案.docx", "西吉县统计局", "plan", "2022-08-25", [
    T("西吉县统计局“政府开放日”活动实施方案"),
    P(INTRO),
    P("一、活动主题：统计数据 你我共享"),
    P("二、活动时间：2022年9月20日上午10:00"),
    P("三、活动地点：县统计局数据处理中心"),
    P("四、参加人数：25人"),
    P("五、活动形式：进机关。组织群众代表走进统计局机关，参观统计数据采集、审核、汇总流程。"),
    P("六、活动内容：观看统计法宣传片，了解第七次全国人口普查成果发布情况。"),
    P("七、报名方式：电话报名"),
    P("八、参加领导：局长"),
    P("九、承办单位：县统计局综合股"),
    P("十、联系人：单玉梅，联系电话：0954-3019117"),
    P("十一、温馨提示：请准时参加。"),
], facts=dict(activity_dates=["2022-09-20"], participants=25, theme="统计数据 你我共享",
              contact="单玉梅", phone="0954-3019117", place="县统计局数据处理中心"),
    findings=[("qa-or-survey", "座谈问答或问卷调查", "错误")])

# 17 — no 进机关/进现场/进会议 (审计局)
fx("17_审计局_实施方案.docx", "西吉县审计局", "plan", "2022-08-25", [
    T("西吉县审计局“政府开放日”活动实施方案"),
    P(INTRO),
    P("一、活动主题：审计护航 阳光同行"),
    P("二、活动时间：2022年9月21日下午3:00"),
    P("三、活动地点：县审计局三楼会议室"),
    P("四、参加人数：26人"),
    P("五、活动形式：座谈交流"),
    P("六、活动内容：召开座谈会，介绍审计工作职能和今年重点审计项目，听取群众意见建议，发放宣传资料。"),
    P("七、报名方式：电话报名"),
    P("八、参加领导：局长"),
    P("九、承办单位：县审计局办公室"),
    P("十、联系人：吴建华  联系电话：0954-3019218"),
    P("十一、温馨提示：请提前10分钟入场。"),
], facts=dict(activity_dates=["2022-09-21"], participants=26, theme="审计护航 阳光同行",
              contact="吴建华", phone="0954-3019218", place="县审计局三楼会议室"),
    findings=[("open-forms", "进机关、进现场或进会议", "错误")])

# 18 — negated mentions only: 不冠以“司法开放日”, 不邀请人大代表 (司法局)
fx("18_司法局_实施方案.docx", "西吉县司法局", "plan", "2022-08-25", [
    T("西吉县司法局“政府开放日”活动实施方案"),
    P(INTRO + "活动统一名称为西吉县司法局“政府开放日”，不冠以“司法开放日”等名称。"),
    P("一、活动主题：法治护航 共建平安"),
    P("二、活动时间：2022年9月21日上午9:00"),
    P("三、活动地点：县公共法律服务中心"),
    P("四、邀请对象：律师、人民调解员、群众代表30名（不邀请人大代表、政协委员）。"),
    P("五、活动形式：进机关、进现场：参观公共法律服务中心，观摩人民调解现场。"),
    P("六、活动内容：参观体验、座谈交流、发放调查问卷。"),
    P("七、报名方式：电话报名、司法所推荐"),
    P("八、参加领导：局长、副局长"),
    P("九、承办单位：县公共法律服务中心"),
    P("十、联系人：虎金花，电话：0954-3020119"),
    P("十一、温馨提示：请遵守调解现场秩序。"),
], facts=dict(activity_dates=["2022-09-21"], participants=30, theme="法治护航 共建平安",
              contact="虎金花", phone="0954-3020119", place="县公共法律服务中心"))

# 19 — an adjustment 2 days before the original date (信访局)
fx("19_信访局_关于调整政府开放日活动时间的报告.docx", "西吉县信访局", "adjustment", "2022-09-21", [
    T("西吉县信访局关于调整“政府开放日”活动时间的报告"),
    P("县政务公开办公室："),
    P("我局原定于2022年9月23日开展的“政府开放日”活动，因接待任务调整，经局务会研究，活动时间调整为"
      "2022年9月27日（星期二）上午9:00，活动地点、内容等其他事项不变。"),
    P("特此报告。"),
    P("西吉县信访局"),
    P("2022年9月21日"),
], facts=dict(activity_dates=["2022-09-27"]),
    findings=[("adjust-cutoff", "调整报送时间", "提醒")])

# 20 — an adjustment in time (审批服务管理局)
fx("20_审批局_政府开放日时间变更.docx", "西吉县审批服务管理局", "adjustment", "2022-09-10", [
    T("关于变更“政府开放日”活动时间的说明"),
    P("县政务公开办公室："),
    P("我局“政府开放日”活动原计划9月20日举办，因政务服务中心窗口改造施工，现变更为9月26日（星期一）"
      "上午9:30举办，地点仍为县政务服务中心二楼会议室。"),
    P("西吉县审批服务管理局"),
    P("2022年9月10日"),
], facts=dict(activity_dates=["2022-09-26"]))

# 21 — a complete summary (农业农村局)
fx("21_农业农村局_政府开放日开展情况.docx", "西吉县农业农村局", "summary", "2022-09-15", [
    T("西吉县农业农村局“政府开放日”活动开展情况"),
    P("2022年9月5日上午，县农业农村局组织开展了以“走进农业农村 共话乡村振兴”为主题的“政府开放日”活动，"
      "共邀请32名群众代表参加。"),
    P("活动中，群众代表先后参观了局机关办公场所和现代农业示范园区，听取了高标准农田建设情况介绍。"
      "座谈会上，群众代表围绕农业产业发展、农村人居环境整治等方面踊跃发言。"),
    P("本次活动共收集意见建议12条，现场答复8条，其余4条已梳理交相关股室办理，将于活动结束后15天内"
      "在县政府门户网站公开反馈采纳情况。"),
    P("西吉县农业农村局"),
    P("2022年9月15日"),
], facts=dict(held_dates=["2022-09-05"], actual_participants=32, suggestions_count=12, feedback_given=True,
              theme="走进农业农村 共话乡村振兴"))

# 22 — a summary without suggestions or feedback, 二十余名 (民政局)
fx("22_民政局_开展情况.docx", "西吉县民政局", "summary", "2022-09-16", [
    T("西吉县民政局“政府开放日”活动开展情况"),
    P("9月6日，我局开展了“民政为民 温暖同行”政府开放日活动，二十余名群众代表参加。"),
    P("群众代表参观了局机关社会救助窗口和县社会福利中心，详细了解了特困人员供养和养老服务工作。"
      "大家纷纷表示，通过活动对民政工作有了更直观的认识。"),
    P("下一步，我局将继续深化政务公开，不断提升民政服务水平。"),
], facts=dict(held_dates=["2022-09-06"], actual_participants=20, suggestions_count=None, feedback_given=False),
    findings=[("summary-items", "意见建议征集情况", "错误"), ("summary-items", "反馈采纳情况", "错误"),
              ("summary-participants", "参加人数", "提醒")],
    items_missing=["意见建议征集情况", "反馈采纳情况"])

# 23 — a summary of an October activity, sent after activity + 15 days (商务和投资促进局)
fx("23_商务局_政府开放日活动总结.docx", "西吉县商务和投资促进局", "summary", "2022-11-10", [
    T("西吉县商务和投资促进局“政府开放日”活动总结"),
    P("为进一步优化营商环境，2022年10月18日，我局举办了“政府开放日”活动，共有28名企业代表和群众代表参加。"),
    P("活动期间，代表们走进县电子商务公共服务中心，了解农村电商发展情况，并在座谈会上提出意见建议。"
      "本次活动共征集到意见建议8条，我局将逐条研究，在15天内公开反馈。"),
], facts=dict(held_dates=["2022-10-18"], actual_participants=28, suggestions_count=8, feedback_given=True),
    findings=[("summary-due", "报送时间", "提醒")])

# 24 — prose only, like a published 公告 (林业和草原局)
fx("24_林草局_政府开放日活动方案.docx", "西吉县林业和草原局", "plan", "2022-08-26", [
    T("西吉县林业和草原局关于开展“政府开放日”活动的公告"),
    P("为进一步推进政务公开，增进群众对林草工作的了解和支持，西吉县林业和草原局将于2022年9月23日（星期五）"
      "上午9:30在县林业和草原局三楼会议室开展以“守护绿水青山 共建生态西吉”为主题的“政府开放日”活动，"
      "由局办公室具体承办，局党组书记、局长将出席活动。"),
    P("本次活动拟邀请群众代表30名，有意参加的群众请于9月16日前通过电话报名，也可由所在村（社区）推荐。"),
    P("具体活动安排如下：活动当天，将组织群众代表走进局机关，了解林长制工作运行情况；实地参观火石寨国家森林公园"
      "生态修复项目现场；召开座谈会，听取群众对林草工作的意见建议。"),
    P("联系人：杜学文，联系电话：13909541234。"),
    P("温馨提示：请参加活动的群众代表携带身份证，提前10分钟到场，外出参观时注意安全。"),
    P("西吉县林业和草原局"),
    P("2022年8月26日"),
], facts=dict(activity_dates=["2022-09-23"], participants=30, theme="守护绿水青山 共建生态西吉",
              contact="杜学文", phone="13909541234", place="县林业和草原局三楼会议室"))

# 25 — 9.26 in a table, 30余人 (退役军人事务局)
fx("25_退役军人局_实施方案.docx", "西吉县退役军人事务局", "plan", "2022-08-26", [
    T("西吉县退役军人事务局“政府开放日”活动实施方案"),
    P(INTRO),
    TAB(("活动主题", "崇军尚武 服务为先"),
        ("活动时间", "9.26（星期一）上午9:00"),
        ("活动地点", "县退役军人服务中心"),
        ("参加人数", "30余人"),
        ("报名方式", "各乡镇退役军人服务站推荐"),
        ("活动形式", "进机关：参观退役军人服务中心，体验优待证申领流程"),
        ("活动内容", "参观体验、政策宣讲、座谈交流"),
        ("参加领导", "局长、副局长"),
        ("承办单位", "县退役军人服务中心"),
        ("联系人", "马进福"),
        ("联系电话", "3021121"),
        ("温馨提示", "退役军人代表可着制式服装参加")),
], facts=dict(activity_dates=["2022-09-26"], participants=30, theme="崇军尚武 服务为先",
              contact="马进福", phone="3021121", place="县退役军人服务中心"))

# 26 — only a month (工业信息化和科学技术局)
fx("26_工信科技局_实施方案.docx", "西吉县工业信息化和科学技术局", "plan", "2022-08-26", [
    T("西吉县工业信息化和科学技术局“政府开放日”活动实施方案"),
    P(INTRO),
    P("一、活动主题：科技赋能 企业发展"),
    P("二、活动时间：2022年9月下旬（具体日期另行公告）"),
    P("三、活动地点：县工业园区企业服务中心"),
    P("四、参加人数：30人"),
    P("五、活动形式：进现场，走进工业园区马铃薯深加工企业生产现场；座谈交流。"),
    P("六、活动内容：参观企业、座谈交流"),
    P("七、报名方式：企业推荐与自愿报名相结合"),
    P("八、参加领导：局长"),
    P("九、承办单位：县工信科技局"),
    P("十、联系人：赵明亮，联系电话：0954-3023125"),
    P("十一、注意事项：进入生产车间请穿戴防护用品。"),
], facts=dict(activity_dates=[], participants=30, theme="科技赋能 企业发展",
              contact="赵明亮", phone="0954-3023125", place="县工业园区企业服务中心"))

# 27 — a three-day 开放周, mobile written with spaces (生态环境局)
fx("27_生态环境局_开放周实施方案.docx", "西吉县生态环境局", "plan", "2022-08-26", [
    T("西吉县生态环境局“政府开放日”开放周活动实施方案"),
    P(INTRO),
    P("（一）活动主题：美丽西吉 你我共建"),
    P("（二）活动时间：9月21日至23日，每天上午9:00—11:30"),
    P("（三）活动地点：县生态环境局、县污水处理厂"),
    P("（四）参加人数：每天限额30人"),
    P("（五）报名方式：线上报名，关注“西吉生态环境”公众号填写报名信息。"),
    P("（六）活动形式：进机关、进现场，参观污水处理厂生产现场，观看环境监测演示。"),
    P("（七）活动内容：参观、讲解、座谈问答。"),
    P("（八）参加领导：局长、副局长"),
    P("（九）承办单位：县生态环境局综合股"),
    P("（十）联系人及电话：丁志宏 139 0954 3322"),
    P("（十一）温馨提示：厂区内请勿吸烟。"),
], facts=dict(activity_dates=["2022-09-21", "2022-09-22", "2022-09-23"], participants=30,
              theme="美丽西吉 你我共建", contact="丁志宏", phone="13909543322", place="县生态环境局、县污水处理厂"))

# 28 — 9月5号; 党代表大会 and 人大代表建议 are not invitees (乡村振兴局, fixed 9-05)
fx("28_乡村振兴局_实施方案.docx", "西吉县乡村振兴局", "plan", "2022-08-24", [
    T("西吉县乡村振兴局“政府开放日”活动实施方案"),
    P("为深入学习贯彻自治区第十三次党代表大会精神，落实县政府“政府开放日”活动部署，制定本方案。"),
    P("一、活动主题：衔接乡村振兴 共享发展成果"),
    P("二、活动时间：9月5号上午9:00"),
    P("三、活动地点：县乡村振兴局二楼会议室、兴隆镇产业帮扶项目现场"),
    P("四、参加人数：28人"),
    P("五、活动内容：（一）进机关：参观局机关，介绍2022年人大代表建议和政协委员提案办理情况；"
      "（二）进现场：参观产业帮扶项目；（三）座谈交流。"),
    P("六、报名方式：各乡镇推荐"),
    P("七、参加领导：局长"),
    P("八、承办单位：县乡村振兴局综合股"),
    P("九、联系人：田晓梅　联系电话：0954-3011302"),
    P("十、温馨提示：请按时到达。"),
], facts=dict(activity_dates=["2022-09-05"], participants=28, theme="衔接乡村振兴 共享发展成果",
              contact="田晓梅", phone="0954-3011302", place="县乡村振兴局二楼会议室、兴隆镇产业帮扶项目现场"),
    findings=[LEAD])

# 29 — a summary as a table (卫生健康局)
fx("29_卫健局_政府开放日开展情况.docx", "西吉县卫生健康局", "summary", "2022-09-19", [
    T("西吉县卫生健康局“政府开放日”活动开展情况"),
    TAB(("活动时间", "2022年9月7日"),
        ("活动地点", "县人民医院、县卫生健康局五楼会议室"),
        ("参加人数", "35人"),
        ("活动内容", "参观疫苗接种现场、一站式结算窗口，召开座谈会"),
        ("意见建议收集", "共收集意见建议15条"),
        ("反馈情况", "已于9月16日在县政府门户网站公开反馈采纳情况")),
], facts=dict(held_dates=["2022-09-07"], actual_participants=35, suggestions_count=15, feedback_given=True,
              place="县人民医院、县卫生健康局五楼会议室"))

# 30 — a scan: a document with no text (信访局 sent a picture in a .docx)
fx("30_扫描件_实施方案.docx", "西吉县信访局", "plan", "2022-08-25", [
    P(""),
], facts=dict(activity_dates=[], participants=None, theme=None, contact=None, phone=None),
    findings=[("unreadable", "无法读取", "提醒")], outcome="需人工审核")

# 31 — a prose plan that writes 参与人员 and 约50名, landline in brackets, 联系人员 (信访局)
fx("31_信访局_实施方案.docx", "西吉县信访局", "plan", "2022-08-26", [
    T("西吉县信访局“政府开放日”活动实施方案"),
    P(INTRO),
    P("（一）活动主题。“阳光信访 为民解忧”。"),
    P("（二）活动时间。2022年9月23日（星期五）上午9:00。"),
    P("（三）活动地点。县信访局群众接待大厅。"),
    P("（四）参与人员。约50名群众代表，由各乡镇推荐和网上报名产生。"),
    P("（五）活动形式。进机关，体验信访接待流程，观看网上信访办理演示；召开座谈会。"),
    P("（六）活动流程。参观接待大厅、体验信访接待、座谈问答。"),
    P("（七）出席领导。局长、副局长。"),
    P("（八）承办单位。县信访局办信股。"),
    P("（九）联系人员。拓彩霞，联系电话（0954）3021222。"),
    P("（十）温馨提示。请携带身份证件。"),
], facts=dict(activity_dates=["2022-09-23"], participants=50, theme="阳光信访 为民解忧",
              contact="拓彩霞", phone="0954-3021222", place="县信访局群众接待大厅"))

# 32 — 12月5日15:00 without a year: outside the window; headings alone on their lines (审批局)
fx("32_审批局_实施方案.docx", "西吉县审批服务管理局", "plan", "2022-08-26", [
    T("西吉县审批服务管理局“政府开放日”活动方案"),
    P("为深化“放管服”改革，我局拟于近期开展“政府开放日”活动，具体方案如下："),
    P("一、活动主题"),
    P("政务服务面对面 企业群众心连心"),
    P("二、活动时间"),
    P("12月5日15:00"),
    P("三、活动地点"),
    P("县政务服务中心（县城西环路18号）"),
    P("四、活动形式"),
    P("1.进机关：组织与会代表有序走进政务服务中心，参观“一窗受理”综合窗口运行情况。"),
    P("2.座谈交流：介绍政务服务改革工作，解答公众普遍关注的热点问题，听取意见建议。"),
    P("五、邀请对象报名方式"),
    P("1.在西吉县工作、生活且年满18周岁具有完全民事行为能力的企业代表、群众代表（限额30人）。"),
    P("2.有意向参加的群众可拨打局办公室电话0954-3022123（周一至周五上班时间）报名，报名截止时间为11月28日。"),
    P("六、参加领导：局长"),
    P("七、承办单位：县审批服务管理局办公室"),
    P("八、联系人：王丽萍"),
    P("九、注意事项"),
    P("1.请报名人员保持电话畅通，方便联系。"),
    P("2.如遇其他事项冲突等因素无法如期进行，将另行通知。"),
    P("西吉县审批服务管理局"),
    P("2022年8月26日"),
], facts=dict(activity_dates=["2022-12-05"], participants=30, theme="政务服务面对面 企业群众心连心",
              contact="王丽萍", phone="0954-3022123", place="县政务服务中心(县城西环路18号)"),
    findings=[("activity-window", "活动时间", "错误")])



# --- a second batch, written after the extractor was tuned on the first: phrasings it had not seen

# 33 — a summary with sections, 工作总结 (发展和改革局)
fx("33_发改局_政府开放日活动工作总结.docx", "西吉县发展和改革局", "summary", "2022-10-20", [
    T("西吉县发展和改革局2022年“政府开放日”活动工作总结"),
    H("一、基本情况"),
    P("按照县政府办公室统一安排，我局于10月12日组织开展了“项目建设看发展”政府开放日活动。"
      "活动邀请企业代表、社区居民代表、新闻媒体记者等26人参加，局长全程陪同。"),
    H("二、主要做法"),
    P("（一）精心组织。提前15天在县政府门户网站发布活动公告，通过线上报名和单位推荐确定参加人员。"),
    P("（二）突出实效。代表们实地观摩了重点项目建设现场，座谈会上围绕项目审批、营商环境等提出意见。"),
    H("三、意见建议办理情况"),
    P("活动共收到意见建议5条，其中现场解答3条，会后交相关股室研究办理2条，已逐一答复。"),
], facts=dict(held_dates=["2022-10-12"], actual_participants=26, suggestions_count=5, feedback_given=True))

# 34 — a cover report with the plan after it; time and place on one line (财政局)
fx("34_财政局_关于报送政府开放日实施方案的报告.docx", "西吉县财政局", "plan", "2022-08-25", [
    T("西吉县财政局关于报送“政府开放日”活动实施方案的报告"),
    P("县政务公开办公室："),
    P("根据《西吉县2022年度“政府开放日”活动实施方案》要求，现将我局活动实施方案报送如下，请审核。"),
    P("附件：西吉县财政局“政府开放日”活动实施方案"),
    T("西吉县财政局“政府开放日”活动实施方案"),
    P("一、主题：阳光财政 你我共享"),
    P("二、时间：2022年9月29日（周四）14:30—17:00    地点：县财政局五楼会议室"),
    P("三、参加对象：市民代表、企业财务人员、村务监督委员会成员等，拟邀请40人。邀请对象不含人大代表、政协委员和党代表。"),
    P("四、活动内容：进机关，参观财政局国库集中支付中心；进会议，列席财政资金评审会；座谈交流，发放满意度测评表。"),
    P("五、报名：即日起至9月20日，拨打电话报名。"),
    P("六、出席领导：局长、分管副局长"),
    P("七、责任单位：县财政局办公室"),
    P("八、联系方式：办公室 罗振东 0954-3015210"),
    P("九、其他事项：请自觉遵守会场纪律，手机调至静音。"),
], facts=dict(activity_dates=["2022-09-29"], participants=40, theme="阳光财政 你我共享",
              contact="罗振东", phone="0954-3015210", place="县财政局五楼会议室"))

# 35 — invites 人大代表 in the activity content; full-width digits; spaced labels in a table (交通运输局)
fx("35_交通局_政府开放日方案.docx", "西吉县交通运输局", "plan", "2022-08-24", [
    T("西吉县交通运输局“政府开放日”活动方案"),
    TAB(("活 动 主 题", "畅通出行路 服务暖民心"),
        ("活 动 时 间", "２０２２年９月２７日上午９：３０"),
        ("活 动 地 点", "县交通运输局二楼会议室"),
        ("活 动 内 容", "进机关参观交通运输综合执法大队；邀请部分人大代表、政协委员和群众代表参加座谈，听取对农村公路养护的意见"),
        ("参 加 人 数", "３０人"),
        ("报 名 方 式", "电话报名"),
        ("参 加 领 导", "局长"),
        ("承 办 单 位", "县交通运输综合执法大队"),
        ("联 系 人", "刘春生"),
        ("联 系 电 话", "１３８９５４３１２０８"),
        ("温 馨 提 示", "请准时参加")),
], facts=dict(activity_dates=["2022-09-27"], participants=30, theme="畅通出行路 服务暖民心",
              contact="刘春生", phone="13895431208", place="县交通运输局二楼会议室"),
    findings=[("no-two-reps", "邀请对象", "错误")])

# 36 — names itself 政务服务开放日 (审批服务管理局)
fx("36_审批局_政务服务开放日活动方案.docx", "西吉县审批服务管理局", "plan", "2022-08-25", [
    T("西吉县审批服务管理局“政务服务开放日”活动方案"),
    P(INTRO),
    P("一、活动主题：一网通办 一次办好"),
    P("二、活动时间：2022年9月20日上午9:00"),
    P("三、活动地点：县政务服务中心"),
    P("四、参加人数：30人"),
    P("五、活动形式：进机关、进现场，参观政务服务大厅，体验“一窗受理”。"),
    P("六、活动内容：参观体验、座谈问答"),
    P("七、报名方式：线上报名"),
    P("八、参加领导：局长"),
    P("九、承办单位：县政务服务中心"),
    P("十、联系人：王丽萍，联系电话：0954-3022123"),
    P("十一、温馨提示：请携带身份证"),
], facts=dict(activity_dates=["2022-09-20"], participants=30, theme="一网通办 一次办好",
              contact="王丽萍", phone="0954-3022123", place="县政务服务中心"),
    findings=[("official-name", "活动名称", "错误")])

# 37 — an adjustment postponing into October (应急管理局)
fx("37_应急管理局_关于政府开放日活动延期的函.docx", "西吉县应急管理局", "adjustment", "2022-09-14", [
    T("西吉县应急管理局关于“政府开放日”活动延期的函"),
    P("县政务公开办公室："),
    P("因迎接上级安全生产督查，我局原定9月19日举办的“政府开放日”活动延期至10月11日举办，"
      "其他事项不变，特此函告。"),
    P("西吉县应急管理局"),
    P("2022年9月14日"),
], facts=dict(activity_dates=["2022-10-11"]),
    findings=[("activity-window", "活动时间", "提醒")])

# 38 — 15—20人; contact after a 股室 name; a local number (统计局)
fx("38_统计局_政府开放日实施方案.docx", "西吉县统计局", "plan", "2022-08-23", [
    T("西吉县统计局“政府开放日”实施方案"),
    P(INTRO),
    P("1、活动主题：数说西吉"),
    P("2、活动时间：9月21日上午9:30"),
    P("3、活动地点：县统计局三楼会议室"),
    P("4、参与人数：15—20人"),
    P("5、活动形式：进机关，参观统计数据处理中心，座谈交流"),
    P("6、活动安排：参观、讲解、座谈"),
    P("7、报名方式：电话报名"),
    P("8、参加领导：局长"),
    P("9、承办单位：县统计局"),
    P("10、联系人：综合股 单玉梅  电话：3019117"),
    P("11、温馨提示：请准时到达"),
], facts=dict(activity_dates=["2022-09-21"], participants=15, theme="数说西吉",
              contact="单玉梅", phone="3019117", place="县统计局三楼会议室"),
    findings=[("min-participants", "参加人数", "错误")])

# 39 — theme inside a sentence, 9点 for the hour, 参与方式 with a QR code (林业和草原局)
fx("39_林草局_政府开放日实施方案.docx", "西吉县林业和草原局", "plan", "2022-08-20", [
    T("西吉县林业和草原局“政府开放日”实施方案"),
    P("为展示林草生态建设成效，我局将开展“绿色发展 林草先行”主题“政府开放日”活动，具体安排如下："),
    P("一、活动时间：9月22日上午9点"),
    P("二、活动地点：县林草局会议室、火石寨林场"),
    P("三、参加人员：林农代表、护林员代表、群众代表约30人"),
    P("四、活动形式：进机关、进现场"),
    P("五、参与方式：扫描二维码报名或由乡镇林业站推荐"),
    P("六、活动流程：参观局机关—实地参观林场—座谈交流"),
    P("七、参加领导：局党组书记、局长"),
    P("八、承办单位：县林草局造林绿化股"),
    P("九、联系人：杜学文，手机：13909541234"),
    P("十、注意事项：林区内严禁烟火。"),
], facts=dict(activity_dates=["2022-09-22"], participants=30, theme="绿色发展 林草先行",
              contact="杜学文", phone="13909541234", place="县林草局会议室、火石寨林场"))

# 40 — a summary with 40余人次, feedback promised (住房和城乡建设局)
fx("40_住建局_政府开放日活动开展情况.docx", "西吉县住房和城乡建设局", "summary", "2022-09-19", [
    T("西吉县住房和城乡建设局“政府开放日”活动开展情况"),
    P("9月15日，我局以“安居西吉 共建共享”为主题开展“政府开放日”活动，参与群众达40余人次。"),
    P("活动期间，群众代表实地察看了老旧小区改造工程建设现场，列席了局务会。活动共梳理群众意见建议6条。"),
    P("下一步，我局将对收集的意见建议进行认真研究，在15个工作日内予以反馈。"),
], facts=dict(held_dates=["2022-09-15"], actual_participants=40, suggestions_count=6, feedback_given=True,
              theme="安居西吉 共建共享"))

# --- writing -----------------------------------------------------------------------------

def _font(run, name: str) -> None:
    from docx.oxml.ns import qn
    run.font.name = name
    rpr = run._element.get_or_add_rPr()
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = rpr.makeelement(qn("w:rFonts"), {})
        rpr.append(fonts)
    fonts.set(qn("w:eastAsia"), name)


def _write_docx(blocks: list, path: Path, style: str) -> None:
    import docx
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Pt

    d = docx.Document()
    d.core_properties.created = datetime(*FIXED_TIME)
    d.core_properties.modified = datetime(*FIXED_TIME)
    d.core_properties.author = "WPS Office" if style == "wps" else "user"
    body_font = "仿宋_GB2312" if style == "wps" else "宋体"
    title_font = "方正小标宋简体" if style == "wps" else "黑体"
    for kind, *rest in blocks:
        if kind == "table":
            rows = rest[0]
            ncols = max(len(r) for r in rows)
            t = d.add_table(rows=len(rows), cols=ncols)
            t.style = "Table Grid"
            for i, r in enumerate(rows):
                for j, cell in enumerate(r):
                    c = t.cell(i, j)
                    c.text = ""
                    run = c.paragraphs[0].add_run(cell)
                    _font(run, body_font)
            continue
        text = rest[0]
        p = d.add_paragraph()
        run = p.add_run(text)
        if kind == "title":
            p.alignment = WD_ALIGN_PARAGRAPH.CENTER
            run.bold = True
            run.font.size = Pt(22 if style == "wps" else 18)
            _font(run, title_font)
        elif kind == "h":
            run.bold = style != "wps"
            _font(run, "黑体" if style == "wps" else body_font)
        else:
            _font(run, body_font)
            if style == "wps":
                run.font.size = Pt(16)
                p.paragraph_format.first_line_indent = Pt(32)
    d.save(str(path))
    _fix_zip_times(path)


def _fix_zip_times(path: Path) -> None:
    """Rewrite a zip with fixed timestamps and order, so the bytes do not depend on the clock."""
    with zipfile.ZipFile(path) as zf:
        items = [(i.filename, zf.read(i.filename)) for i in zf.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in items:
            info = zipfile.ZipInfo(name, FIXED_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, data)


def _soffice(soffice: str, args: list[str], timeout: float) -> bool:
    with tempfile.TemporaryDirectory(prefix="lo-") as prof:
        env = dict(os.environ, HOME=prof)
        cmd = [soffice, f"-env:UserInstallation=file://{prof}/u-{uuid.uuid4().hex}", "--headless",
               "--norestore", *args]
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                start_new_session=True)
        try:
            return proc.wait(timeout=timeout) == 0
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            return False


def _to_doc(src: Path, out_dir: Path, timeout: float = 180.0) -> Path | None:
    """Convert .docx → .doc with LibreOffice (private profile, killed on timeout).

    Via .odt: LibreOffice's direct docx → doc export drops python-docx tables (their cells
    come out as one run-on paragraph); docx → odt → doc keeps them, as a real Word .doc has.
    """
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if not soffice:
        return None
    with tempfile.TemporaryDirectory(prefix="lo-out-") as tmp:
        if not _soffice(soffice, ["--convert-to", "odt", "--outdir", tmp, str(src)], timeout):
            return None
        odt = Path(tmp) / (src.stem + ".odt")
        if not odt.is_file():
            return None
        outdir = Path(tmp) / "doc"
        if not _soffice(soffice, ["--convert-to", "doc:MS Word 97", "--outdir", str(outdir), str(odt)], timeout):
            return None
        produced = outdir / (src.stem + ".doc")
        if not produced.is_file() or produced.stat().st_size == 0:
            return None
        target = out_dir / (src.stem + ".doc")
        shutil.copyfile(produced, target)
        return target


def expected() -> dict[str, dict[str, Any]]:
    """The expectations of every fixture (what tests/docs/expected.json holds)."""
    return {f["file"]: {k: f[k] for k in ("unit", "kind", "received", "facts", "findings", "outcome",
                                           "items_missing")} for f in FIXTURES}


EXPECTED_JSON = Path(__file__).with_name("expected.json")


def build(out_dir: Path, *, with_doc: bool = True) -> dict[str, dict[str, Any]]:
    """Write the accuracy set into out_dir; return {file path relative to out_dir: expected}.

    A zip fixture's key is "x.zip/member.docx"; the file on disk is x.zip. A .doc fixture is
    left out (and absent from the manifest) when LibreOffice is missing or fails.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    manifest: dict[str, dict[str, Any]] = {}
    every = expected()
    for f in FIXTURES:
        meta = every[f["file"]]
        if f["fmt"] == "zip":
            zip_name, member = f["file"].split("/", 1)
            with tempfile.TemporaryDirectory() as tmp:
                src = Path(tmp) / member
                _write_docx(f["blocks"], src, f["style"])
                with zipfile.ZipFile(out_dir / zip_name, "w", zipfile.ZIP_DEFLATED) as zf:
                    info = zipfile.ZipInfo(member, FIXED_TIME)
                    info.compress_type = zipfile.ZIP_DEFLATED
                    zf.writestr(info, src.read_bytes())
        elif f["fmt"] == "doc":
            if not with_doc:
                continue
            with tempfile.TemporaryDirectory() as tmp:
                src = Path(tmp) / (Path(f["file"]).stem + ".docx")
                _write_docx(f["blocks"], src, f["style"])
                if _to_doc(src, out_dir) is None:
                    continue
        else:
            _write_docx(f["blocks"], out_dir / f["file"], f["style"])
        manifest[f["file"]] = meta
    (out_dir / "expected.json").write_text(_dump(manifest), encoding="utf-8")
    return manifest


def _dump(data: dict[str, Any]) -> str:
    return json.dumps(data, ensure_ascii=False, indent=1) + "\n"


if __name__ == "__main__":
    if sys.argv[1:] == ["--write-expected"]:
        EXPECTED_JSON.write_text(_dump(expected()), encoding="utf-8")
        print(f"已写入 {EXPECTED_JSON}")
        sys.exit(0)
    target = Path(sys.argv[1] if len(sys.argv) > 1 else "accuracy-set")
    m = build(target)
    print(f"{len(m)} 份文档已写入 {target}")
