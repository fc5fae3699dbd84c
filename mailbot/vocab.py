"""The words mailbot files and reports things by — each with its Chinese label, in one table.

Every status, outcome, severity and kind is a `StrEnum` whose value is the string stored in
the ledger (or printed by `check --json`, or written to the workbook: SPEC §4), so existing
ledgers read as before and a member compares equal to the plain string. What the office
reads comes from the member (`.label`, `.explanation`, `.hold_folder`, flags), never from a
second table elsewhere; templates get these labels and flags, not literals to compare.
"""
from __future__ import annotations

from enum import StrEnum


class Status(StrEnum):
    """What became of a received mail (messages.status). Columns: stored value; label (poll
    summary, `status`, digest); archive folder for mail held instead of filed (None: filed, or
    never downloaded); the workbook's longer wording; held per unit (…/<unit>/ below the folder);
    `mailbot accept` may file it."""

    def __new__(cls, value: str, label: str, hold_folder: str | None, explanation: str,
                by_unit: bool = False, acceptable: bool = False) -> "Status":
        member = str.__new__(cls, value)
        member._value_ = value
        member.label = label
        member.hold_folder = hold_folder
        member.explanation = explanation
        member.by_unit = by_unit
        member.acceptable = acceptable
        return member

    label: str
    hold_folder: str | None
    explanation: str
    by_unit: bool
    acceptable: bool

    FILED = "filed", "已登记", None, "已登记"
    SUPPLEMENT = "supplement", "补充材料（附于已收版本）", None, "补充材料（附于已收版本，不算新版本）"
    UNCONFIRMED = "unconfirmed", "待确认", "_待确认", "待确认发件人", True
    UNTRUSTED = "untrusted", "待核实（疑似冒用）", "_待核实", "待核实：疑似冒用单位邮箱，未登记", True, True
    FLOOD = "flood", "超出每日登记上限", "_超量", "超出每日登记上限，未登记", True, True
    UNSORTED = "unsorted", "待分拣", "_待分拣", "待分拣：不能确定属于哪项收集，未登记", True
    UNMATCHED = "unmatched", "未识别单位", "_未识别", "未识别单位"
    NOATTACH = "noattach", "无附件（未登记）", "_无附件", "无附件，未登记"
    AUTOMATIC = "automatic", "自动邮件（不回复）", "_自动邮件", "自动回复/系统邮件，未处理"
    OWN = "own", "本邮箱发出", "_本邮箱发出", "本邮箱发出，已忽略"
    BEFORE = "before", "活动开始前的旧邮件", "_活动开始前", "活动开始前的旧邮件，只存档"
    UNPARSABLE = "unparsable", "无法解析", "_无法解析", "无法解析"
    ERROR = "error", "处理出错（待人工处理）", "_处理出错", "处理出错，待人工处理"
    OVERSIZE = "oversize", "超过大小上限（未下载）", None, "邮件过大，未下载"
    RESYNCED = "resynced", "重新编号后再次出现", None, "邮箱重新编号后再次出现，已忽略"
    QUERY = "query", "查询", "_查询", "单位查询进度，已自动答复"

    def folder_for(self, unit: str | None) -> str:
        """The archive folder a mail held with this status goes to (`_待确认/西吉县民政局`)."""
        if self.hold_folder is None:
            raise ValueError(f"{self.value} mail is not held in the archive")
        return f"{self.hold_folder}/{unit}" if self.by_unit and unit else self.hold_folder


#: statuses `mailbot accept` can file (the office vouches for the mail after a phone call)
ACCEPTABLE = tuple(s for s in Status if s.acceptable)
#: held mail the workbook's 未识别 sheet lists for the office to look at
NEEDS_LOOK = (Status.UNTRUSTED, Status.FLOOD, Status.UNSORTED, Status.UNMATCHED, Status.UNCONFIRMED, Status.OVERSIZE,
              Status.UNPARSABLE, Status.NOATTACH, Status.ERROR)


class Outcome(StrEnum):
    """The automatic check's verdict on a document or submission (messages.outcome,
    attachments.outcome, `check --json` "outcome"). Ordered from best to worst."""

    OK = "待审核"
    HUMAN = "需人工审核"
    FIX = "需修改"

    @property
    def label(self) -> str:
        return self.value

    @property
    def needs_person(self) -> bool:
        """The documents could not be read or checked automatically: a person reads them."""
        return self is Outcome.HUMAN

    @property
    def needs_fix(self) -> bool:
        return self is Outcome.FIX

    @classmethod
    def worst(cls, outcomes: "list[str]") -> "Outcome":
        """The worst of several outcomes (需修改 > 需人工审核 > 待审核); none read: 需人工审核."""
        order = list(cls)
        return max((cls(o) for o in outcomes), key=order.index, default=cls.HUMAN)


class Severity(StrEnum):
    """How serious a finding is (findings.severity, `check --json` "severity")."""

    ERROR = "错误"        # must be fixed: makes the outcome 需修改
    HINT = "提醒"         # worth knowing; the submission passes

    @property
    def label(self) -> str:
        return self.value

    @property
    def fill(self) -> str:
        """The workbook's cell colour (workbook_style.FILLS)."""
        return "red" if self is Severity.ERROR else "amber"


class UnitStatus(StrEnum):
    """Where a unit stands on one kind of submission, derived by progress.py (never stored):
    the workbook's 方案状态 / 开展情况状态 / 反馈状态 (SPEC §4). Declared in the order summaries
    list them (done first); `fill` is the workbook's cell colour."""

    def __new__(cls, value: str, fill: str | None) -> "UnitStatus":
        member = str.__new__(cls, value)
        member._value_ = value
        member.fill = fill
        return member

    fill: str | None

    APPROVED = "已备案", "green"
    PENDING = "待审核", "blue"
    NEEDS_FIX = "需修改", "amber"
    RETURNED = "退回修改", "orange"
    MANUAL = "需人工审核", "blue"
    SUBMITTED = "已提交", "green"
    EMPTY_RETURN = "已提交（无内容）", "green"    # a recurring return saying 本期无内容报送
    NOT_SUBMITTED = "未提交", None
    OVERDUE = "逾期未提交", "red"

    @property
    def label(self) -> str:
        return self.value

    @property
    def passing(self) -> bool:
        """Something acceptable of this kind is in: no reminder needed."""
        return self in (UnitStatus.PENDING, UnitStatus.APPROVED, UnitStatus.MANUAL, UnitStatus.SUBMITTED,
                        UnitStatus.EMPTY_RETURN)

    @property
    def decided(self) -> bool:
        """The office decided on this version (已备案 or 退回修改)."""
        return self in DECISIONS

    @property
    def approved(self) -> bool:
        return self is UnitStatus.APPROVED

    @property
    def returned(self) -> bool:
        return self is UnitStatus.RETURNED

    @property
    def overdue(self) -> bool:
        return self is UnitStatus.OVERDUE

    @property
    def missing(self) -> bool:
        """Nothing of this kind arrived yet (未提交 or 逾期未提交)."""
        return self in (UnitStatus.NOT_SUBMITTED, UnitStatus.OVERDUE)

    @classmethod
    def of(cls, outcome: str) -> "UnitStatus":
        """The status a filed submission's check outcome gives before anyone reviews it."""
        return cls(Outcome(outcome).value)


#: the two review decisions (审核状态 in the workbook, `mailbot review --approve/--return`)
DECISIONS = (UnitStatus.APPROVED, UnitStatus.RETURNED)


class Kind(StrEnum):
    """The kinds of submission the code itself knows (the campaign's [kinds.*] keys; their
    labels — 实施方案, 开展情况 … — are the office's words and live in the campaign file)."""

    PLAN = "plan"
    ADJUSTMENT = "adjustment"
    SUMMARY = "summary"
    FEEDBACK = "feedback"


#: kinds that carry the activity's plan (the latest of them is the unit's current plan)
PLAN_KINDS = (Kind.PLAN, Kind.ADJUSTMENT)


class DateSource(StrEnum):
    """Where a unit's activity date comes from (the workbook's 日期来源)."""

    PLAN = "方案"
    ADJUSTMENT = "调整"
    NOTICE = "通知指定"        # the notice fixes the date for this unit; no plan names one yet

    @property
    def label(self) -> str:
        return self.value

    @property
    def by_notice(self) -> bool:
        return self is DateSource.NOTICE

__all__ = ["Status", "Outcome", "Severity", "UnitStatus", "Kind", "DateSource", "ACCEPTABLE", "NEEDS_LOOK",
           "DECISIONS", "PLAN_KINDS"]
