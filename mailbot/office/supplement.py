"""Is this mail a supplement (补充材料) to what the unit already sent, rather than a new version?

Departments follow a plan or a summary with sign-in sheets, photos, a route map or "补充材料".
Filed as a new version, such a mail would replace an accepted plan, be checked as a plan, miss
ten items, and have the unit chased. A clerk reads it as what it is: material attached to the
submission already in. So does `classify`, from what the mail itself shows:

* the unit already has a current submission (of the kind the mail names, else its latest one);
* the subject or a file name carries one of the campaign's supplement words (签到表, 照片,
  路线图, 补充材料…) and none of its revision words (修改, 调整…), and no document in the mail
  carries the facts of a submission (at most ``WEAK`` of them: a sign-in sheet has a date);
* or, without those words, every document was read and none carries any such fact — a
  document with none of a plan's facts is not a plan. Photos (images with no text) count as
  read; a document that could not be read at all decides nothing (it may be the plan itself).
  These facts are an activity's (the open-day model, `Campaign.has_activity`): a 年度报告 or a
  monthly return carries none of them, so in a collection without activities only the words
  make a supplement — a complete revised report is its next version.

The words live in the campaign file (`[supplements]`), so an office changes them there.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any, Callable, Sequence

from mailbot.campaign import Campaign
from mailbot.store.ledger import Message
from mailbot.vocab import PLAN_KINDS

# The facts that make a document a submission (facts.Facts.as_json keys): dates and headcounts,
# the theme, the contact, the forms of the activity, what was done and what was said.
SUBMISSION_FACTS = ("activity_dates", "participants", "participants_range", "theme", "contact", "phone",
                    "forms", "leaders", "signup", "held_dates", "actual_participants", "content",
                    "suggestions_count")
WEAK = 2          # a sign-in sheet or a route map may show a date and a phone number, no more
IMAGE_EXTS = (".jpg", ".jpeg", ".png", ".bmp", ".gif", ".tif", ".tiff", ".heic", ".webp")

DEFAULT_WORDS = ("补充材料", "补充", "签到表", "签到", "照片", "图片", "相片", "路线图", "路线", "示意图",
                 "海报", "宣传单")
DEFAULT_REVISION_WORDS = ("修改", "修订", "调整", "更新", "更正", "终稿", "定稿", "第二稿", "重新", "新版")


@dataclass(frozen=True)
class Supplement:
    target: Message          # the unit's submission it belongs to
    reason: str              # Chinese: why it was taken as a supplement (ledger reason, workbook, inspect)


def fact_count(facts: dict[str, Any]) -> int:
    """How many of SUBMISSION_FACTS a document's facts carry."""
    return sum(1 for k in SUBMISSION_FACTS if facts.get(k) not in (None, "", [], (), False, 0))


def classify(campaign: Campaign, *, subject: str, file_names: Sequence[str], docs_by_file: Sequence[Sequence[Any]],
             results_by_file: Sequence[Sequence[Any]], current: Callable[[], Sequence[Message]],
             named_kind: str | None) -> Supplement | None:
    """A Supplement when the mail belongs to one of CURRENT() (the unit's current submissions,
    in arrival order; asked only when the mail looks like a supplement), else None (see the
    module docstring)."""
    if not file_names:
        return None
    words, revision = campaign.supplement_words, campaign.revision_words
    named = " ".join([subject or "", *(PurePosixPath(n or "").stem for n in file_names)])
    word = next((w for w in words if w in named), None)
    if word is not None and any(w in (subject or "") for w in revision):
        word = None                                  # "补充修改后的方案": a new version
    counts: list[int] = []
    unread = False
    for name, docs, results in zip(file_names, docs_by_file, results_by_file):
        readable = [d for d in docs if d.readable]
        if results:
            counts.extend(fact_count(r.facts.as_json()) for r in results)
        elif not readable and (name or "").lower().endswith(IMAGE_EXTS):
            counts.append(0)                         # a photo: read as far as it can be, no text
        elif not readable:
            unread = True
    strongest = max(counts, default=0)
    by_word = word is not None and strongest <= WEAK and not (unread and not counts)
    by_content = word is None and bool(counts) and not unread and strongest == 0 and campaign.has_activity
    if not (by_word or by_content):
        return None
    family = (PLAN_KINDS if named_kind in PLAN_KINDS else (named_kind,)) if named_kind else None
    candidates = [m for m in current() if family is None or m.kind in family]
    if not candidates:
        return None
    target = max(candidates, key=lambda m: (m.received_at, m.id))
    label = campaign.kind(target.kind).label
    what = f"{label}第{target.version or 1}版"
    if by_word:
        return Supplement(target, f"主题或文件名含“{word}”，文件中没有{label}的主要内容，"
                                  f"作为{what}的补充材料存档，不算新版本，不改变审核结果")
    return Supplement(target, f"文件中读不到活动日期、人数、主题、联系人等内容，不是新的{label}，"
                              f"作为{what}的补充材料存档，不算新版本，不改变审核结果")
