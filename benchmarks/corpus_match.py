"""Run mailbot's reader over the shared real-world MIME corpus and compare with the
peers' own expectations (``../shared/corpora/mime/expected.json``).

    python benchmarks/corpus_match.py [--verbose] [--json]

The corpus is read in place (never copied into the project).  Peers disagree on what
counts as an attachment (see ``peer_semantics`` in expected.json), so counts are not
compared; instead, for every message:

* filenames: every attachment name the peer *asserted* must be among ours (at any
  depth); where the peer sanitised the name, the raw decoded name
  (``filename_raw_decoded``) is what we must report, since mailbot reports the name as
  the sender meant it and sanitises only when archiving;
* sizes: every attachment whose decoded size the peer asserted (``size_bytes``, or a
  content hash ``sha256``/``content`` that pins the size) must have that size in ours;
  the attachment is found by name, or for nameless ones by content type;
* subjects: where the peer asserted the subject.

Figures are also given against the *derived* expectations (every listed attachment),
which are softer (see the corpus README).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from mailbot.mailin.inspect import inspect_message  # noqa: E402
from mailbot.mailin.parse import parse_message  # noqa: E402

CORPUS = ROOT.parent / "shared" / "corpora" / "mime"


@dataclass
class Figures:
    messages: int = 0
    crashes: int = 0
    filename_checked: int = 0
    filename_ok: int = 0
    size_checked: int = 0
    size_ok: int = 0
    sha_checked: int = 0
    sha_ok: int = 0
    subject_checked: int = 0
    subject_ok: int = 0
    derived_filename_checked: int = 0
    derived_filename_ok: int = 0
    derived_size_checked: int = 0
    derived_size_ok: int = 0
    count_checked: int = 0
    count_ok: int = 0
    via_sanitiser: list = field(default_factory=list)   # names matched only after the peer's sanitiser
    seconds: float = 0.0
    mismatches: list = field(default_factory=list)   # (message, aspect, reason)

    def as_dict(self) -> dict:
        d = dict(self.__dict__)
        d["mismatches"] = [list(m) for m in self.mismatches]
        return d


def _expected_name(att: dict) -> str | None:
    return att.get("filename_raw_decoded", att.get("filename"))


def _webklex_sanitised(name: str | None) -> str | None:
    """Webklex strips path characters from names (issue-414: "../../a/b.txt" ->
    "ab.txt", "php://foo" -> "phpfoo") without recording the raw name."""
    if name is None:
        return None
    for bad in ("..", "/", "\\", ":"):
        name = name.replace(bad, "")
    return name


_SANITISED: list = []


def _same_name(folder: str, ours: str | None, expected: str | None) -> bool:
    if ours == expected:
        return True
    if folder == "webklex-php-imap" and _webklex_sanitised(ours) == expected:
        _SANITISED.append((ours, expected))
        return True
    return False


_SIGNATURES = {"application/pgp-signature", "application/pkcs7-signature",
               "application/x-pkcs7-signature"}


def _peer_count(folder: str, raw: bytes) -> int:
    """Our attachment count under the peer's rule (see peer_semantics)."""
    atts = [a for a in parse_message(raw).attachments if a.depth == 0]
    if folder == "zbateson-mail-mime-parser":
        atts = [a for a in atts if a.content_type not in _SIGNATURES]
    if folder == "blueglacier-email-mime-parser":
        atts = [a for a in atts if not (a.content_type.startswith("image/") and a.disposition != "attachment")]
    return len(atts)


# Expectations that are themselves wrong, checked by hand against the message bytes.
KNOWN = {
    "blueglacier-email-mime-parser/emailWithCorruptFileName.eml":
        "expected.json's derived name has 75 characters, but the header's filename*0*..*3* "
        "decode to 73 -- the length the peer itself asserts (and that we match)",
}


def _find(ours: list[dict], att: dict, used: set[int], folder: str = "") -> dict | None:
    """Our attachment matching the peer's: by name; nameless ones by content type
    (preferring our nameless parts: the peer may simply not have asserted a name)."""
    name = _expected_name(att)
    if name is not None:
        for i, a in enumerate(ours):
            if i not in used and _same_name(folder, a["filename"], name):
                used.add(i)
                return a
        return None
    ctype = (att.get("content_type") or "").lower()
    for want_nameless in (True, False):
        for i, a in enumerate(ours):
            if i in used or a["content_type"] != ctype:
                continue
            if want_nameless and a["filename"] is not None:
                continue
            used.add(i)
            return a
    return None


def _asserted_length(exp: dict, att: dict) -> int:
    m = re.search(r"decoded length \((\d+) characters\)", exp.get("notes") or "")
    return int(m.group(1)) if m else len(att["filename"])


def _check_names(ours: list[dict], atts: list[dict], exp: dict, folder: str) -> str | None:
    used: set[int] = set()
    for att in atts:
        if "filename_length" in att["asserted_fields"] and "filename" not in att["asserted_fields"]:
            want_len = _asserted_length(exp, att)
            if not any(a["filename"] and len(a["filename"]) == want_len for a in ours):
                return f"no name of length {want_len}; ours {[a['filename'] for a in ours]}"
            continue
        name = _expected_name(att)
        if _find(ours, att, used, folder) is None:
            return f"missing {name!r}; ours {[a['filename'] for a in ours][:8]}"
    return None


def _check_sizes(ours: list[dict], atts: list[dict], folder: str, key: str = "size") -> str | None:
    used: set[int] = set()
    for att in atts:
        mine = _find(ours, att, used, folder)
        label = _expected_name(att) or att.get("peer_generated_name") or att.get("content_type")
        if mine is None:
            return f"{label!r} not found among ours"
        if key == "size" and mine["size"] != att["size_bytes"]:
            return f"{label!r}: size {mine['size']} != expected {att['size_bytes']}"
        if key == "sha256" and mine["sha256"] != att["sha256"]:
            return f"{label!r}: sha256 differs (size {mine['size']}, expected {att['size_bytes']})"
    return None


def run(corpus: Path = CORPUS) -> Figures:
    expected = json.loads((corpus / "expected.json").read_text(encoding="utf-8"))["messages"]
    fig = Figures()
    t0 = time.perf_counter()
    for key, exp in sorted(expected.items()):
        path = corpus / key
        if not path.exists():
            continue
        raw = path.read_bytes()
        fig.messages += 1
        try:
            got = inspect_message(raw, str(path))
            assert isinstance(got["attachments"], list) and isinstance(got["problems"], list)
        except Exception as exc:  # a crash is the one unforgivable outcome
            fig.crashes += 1
            fig.mismatches.append((key, "crash", "".join(
                traceback.format_exception_only(type(exc), exc)).strip()))
            continue
        ours = got["attachments"]
        atts = exp["attachments"]
        folder = key.split("/", 1)[0]

        if exp.get("subject_asserted"):
            fig.subject_checked += 1
            if (got["subject"] or "") == (exp["subject"] or ""):
                fig.subject_ok += 1
            else:
                fig.mismatches.append((key, "subject", f"{got['subject']!r} != {exp['subject']!r}"))

        named = [a for a in atts if {"filename", "filename_length"} & set(a["asserted_fields"])]
        if named:
            fig.filename_checked += 1
            why = _check_names(ours, named, exp, folder)
            if why is None:
                fig.filename_ok += 1
            else:
                fig.mismatches.append((key, "filename", why))

        sized = [a for a in atts if a.get("size_bytes") is not None and
                 {"size_bytes", "sha256", "content"} & set(a["asserted_fields"])]
        if sized:
            fig.size_checked += 1
            why = _check_sizes(ours, sized, folder)
            if why is None:
                fig.size_ok += 1
            else:
                fig.mismatches.append((key, "size", why))

        hashed = [a for a in atts if "sha256" in a["asserted_fields"] and a.get("size_bytes") is not None]
        if hashed:
            fig.sha_checked += 1
            why = _check_sizes(ours, hashed, folder, key="sha256")
            if why is None:
                fig.sha_ok += 1
            else:
                fig.mismatches.append((key, "sha256", why))

        if exp.get("attachment_count_asserted") and exp.get("attachment_count") is not None:
            fig.count_checked += 1
            n = _peer_count(folder, raw)
            if n == exp["attachment_count"]:
                fig.count_ok += 1
            else:
                fig.mismatches.append((key, "count (peer rule)",
                                       f"ours {n} != peer {exp['attachment_count']}"
                                       + (f"; {exp['notes']}" if exp.get("notes") else "")))

        dnamed = [a for a in atts if _expected_name(a) is not None]
        if dnamed:
            fig.derived_filename_checked += 1
            why = _check_names(ours, [dict(a, asserted_fields=["filename"]) for a in dnamed], exp, folder)
            if why is None:
                fig.derived_filename_ok += 1
            else:
                fig.mismatches.append((key, "filename (derived)", why))
        dsized = [a for a in atts if a.get("size_bytes") is not None]
        if dsized:
            fig.derived_size_checked += 1
            why = _check_sizes(ours, dsized, folder)
            if why is None:
                fig.derived_size_ok += 1
            else:
                fig.mismatches.append((key, "size (derived)", why))
    fig.seconds = time.perf_counter() - t0
    fig.via_sanitiser = sorted(set(_SANITISED))
    return fig


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = ap.parse_args(argv)
    if not (CORPUS / "expected.json").exists():
        print(f"corpus not found: {CORPUS}", file=sys.stderr)
        return 2
    fig = run()
    if args.json:
        print(json.dumps(fig.as_dict(), ensure_ascii=False, indent=1))
        return 0 if fig.crashes == 0 else 1
    print(f"messages run:                 {fig.messages}  ({fig.seconds:.2f} s)")
    print(f"crashes:                      {fig.crashes}")
    print(f"asserted filenames all match: {fig.filename_ok}/{fig.filename_checked} messages")
    print(f"asserted sizes all match:     {fig.size_ok}/{fig.size_checked} messages")
    print(f"asserted sha256 all match:    {fig.sha_ok}/{fig.sha_checked} messages")
    print(f"asserted subjects match:      {fig.subject_ok}/{fig.subject_checked} messages")
    print(f"derived filenames all match:  {fig.derived_filename_ok}/{fig.derived_filename_checked} messages")
    print(f"derived sizes all match:      {fig.derived_size_ok}/{fig.derived_size_checked} messages")
    print(f"attachment counts, peer rule: {fig.count_ok}/{fig.count_checked} messages (informative)")
    if fig.via_sanitiser:
        print("\nnames matched only through the peer's own sanitiser (we report the raw name):")
        for ours, theirs in fig.via_sanitiser:
            print(f"  {ours!r} -> peer {theirs!r}")
    if fig.mismatches:
        print("\nmismatches:")
        for key, aspect, why in fig.mismatches:
            print(f"  {key} [{aspect}] {why}")
            if key in KNOWN:
                print(f"      known: {KNOWN[key]}")
    return 0 if fig.crashes == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
