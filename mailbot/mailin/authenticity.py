"""Who really sent a mail: a verdict on the From address from the raw bytes, before identification.

The policy (SPEC §4 "Sender authenticity", docs/SECURITY.md), in the order it is applied:

1. From must be exactly one well-formed address (one From header, one mailbox, no group, no
   defects, a real domain). Anything else — `"县民政局" <mzj@…>, <x@evil>`, `mzj@…)<x@evil>` — is
   never matched to the roster: FAIL.
2. Authentication-Results is believed only from the office's own provider: the topmost header
   whose authserv-id is in `[security] authserv_id`. Lower ones and other ids are the sender's
   own text and ignored. dkim, spf or dmarc = fail there: FAIL; dkim=pass for the From domain:
   PASS.
3. DKIM, verified here with dkimpy against DNS (or `[security] dkim_keys`): a valid signature
   whose d= aligns with the From domain is PASS; aligned signatures that all fail are FAIL (the
   mail was altered or forged); a DNS failure while fetching the key is PENDING (decided again
   on a later poll, for `dns_retry_hours`, then by this same policy with the key counted as
   unavailable). Signatures with an l= body length are not counted: what follows l= is unsigned.
4. A From domain in `[security] sign_required_domains` (163.com signs all its mail) without
   PASS from 2 or 3: FAIL.
5. Otherwise NONE: no evidence either way, handled as before (roster address = the unit).

`Verdict.trusted` holds for PASS and NONE only: FAIL is held as 待核实 until the office accepts
it, PENDING is held and decided again on later polls.
"""
from __future__ import annotations

import fnmatch
import re
import time
from dataclasses import dataclass
from email.headerregistry import HeaderRegistry
from email.parser import BytesHeaderParser
from email import policy as email_policy
from pathlib import Path
from typing import Callable

import dkim
import dkim.util

from mailbot.mailin.mimetree import header_block

PASS, NONE, FAIL, PENDING = "pass", "none", "fail", "pending"
MAX_SIGNATURES = 5            # DNS lookups per mail are bounded

DnsFunc = Callable[..., "bytes | None"]


class DnsTempError(Exception):
    """The key could not be fetched now (timeout, no server): decide again later."""


@dataclass(frozen=True)
class Policy:
    authserv_ids: tuple[str, ...] = ()          # glob patterns, e.g. "mx*.163.com", "mx19"
    sign_required: tuple[str, ...] = ()         # domains (and their subdomains)
    dns_servers: tuple[str, ...] = ()           # "host" or "host:port"; empty: the system's resolver
    dns_timeout: float = 5.0
    dkim_keys: Path | None = None               # local TXT records consulted before DNS


@dataclass(frozen=True)
class Verdict:
    level: str                 # PASS | NONE | FAIL | PENDING
    reason: str                # Chinese, for the ledger and the digest
    evidence: tuple[str, ...]  # English, for the log and `inspect`
    from_ok: bool              # From is exactly one well-formed address
    address: str = ""          # that address, lowercased

    @property
    def trusted(self) -> bool:
        return self.level in (PASS, NONE)


# --- From ----------------------------------------------------------------------------------

_REGISTRY = HeaderRegistry()
_ENCODED_WORD = re.compile(r"=\?[^?\s]+\?[bBqQ]\?[^?\s]*\?=")
_QUOTED_NAME = re.compile(r'"(?:[^"\\]|\\.)*"(?=\s*<)')
_DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,62}$")
_LOCAL = re.compile(r"^[a-z0-9!#$%&'*+/=?^_`{|}~.-]{1,64}$")


def single_from(headers: list[tuple[str, str]]) -> tuple[str | None, str]:
    """The one well-formed From address (lowercased), or (None, Chinese reason)."""
    froms = [v for k, v in headers if k.lower() == "from"]
    if len(froms) != 1:
        return None, f"邮件有 {len(froms)} 个发件人（From）头，应恰好 1 个"
    value = re.sub(r"\r?\n[ \t]", " ", froms[0])
    # display names are the sender's words, not structure: 8-bit (GBK written raw), encoded words
    # and quoted names (Foxmail quotes its encoded words) are masked before the address is parsed
    masked = "".join(c if c.isascii() else "x" for c in value)
    masked = _QUOTED_NAME.sub('"x"', _ENCODED_WORD.sub("x", masked))
    try:
        header = _REGISTRY("From", masked)
    except Exception:
        return None, "发件人（From）无法解析"
    if header.defects or len(header.groups) != 1 or header.groups[0].display_name is not None:
        return None, f"发件人（From）格式不规范，不是唯一一个地址：{_show(value)}"
    addresses = header.addresses
    if len(addresses) != 1:
        return None, f"发件人（From）含有 {len(addresses)} 个地址：{_show(value)}"
    local, domain = addresses[0].username.lower(), addresses[0].domain.lower()
    if not _LOCAL.match(local) or not _DOMAIN.match(domain):
        return None, f"发件人（From）地址不合规：{_show(value)}"
    return f"{local}@{domain}", ""


def _show(value: str) -> str:
    value = "".join(c if c.isprintable() else " " for c in value).strip()
    return value if len(value) <= 80 else value[:80] + "…"


# --- Authentication-Results -----------------------------------------------------------------

def _strip_comments(value: str) -> str:
    out, depth, quoted, escape = [], 0, False, False
    for c in value:
        if escape:
            escape = False
            if depth == 0:
                out.append(c)
            continue
        if c == "\\":
            escape = True
            if depth == 0:
                out.append(c)
            continue
        if quoted:
            quoted = c != '"'
            out.append(c)
        elif c == '"' and depth == 0:
            quoted = True
            out.append(c)
        elif c == "(":
            depth += 1
        elif c == ")" and depth:
            depth -= 1
        elif depth == 0:
            out.append(c)
    return "".join(out)


def parse_authres(value: str) -> tuple[str, list[tuple[str, str, dict[str, str]]]]:
    """(authserv-id, [(method, result, {ptype.property: value})]) of one header value."""
    text = re.sub(r"\s*=\s*", "=", _strip_comments(re.sub(r"\s+", " ", value))).strip()
    head, _, rest = text.partition(";")
    serv = head.split()[0].lower() if head.split() else ""
    results = []
    for resinfo in rest.split(";"):
        tokens = resinfo.split()
        if not tokens or "=" not in tokens[0]:
            continue
        method, _, result = tokens[0].partition("=")
        props = {}
        for tok in tokens[1:]:
            key, eq, val = tok.partition("=")
            if eq:
                props[key.lower()] = val.strip('"').lower()
        results.append((method.lower().split("/")[0], result.lower(), props))
    return serv, results


def trusted_authres(headers: list[tuple[str, str]], authserv_ids: tuple[str, ...]):
    """The topmost Authentication-Results written by our own provider, parsed; None if none."""
    if not authserv_ids:
        return None
    for name, value in headers:
        if name.lower() != "authentication-results":
            continue
        serv, results = parse_authres(value)
        if any(fnmatch.fnmatchcase(serv, pat.lower()) for pat in authserv_ids):
            return serv, results
    return None


# --- DKIM -------------------------------------------------------------------------------------

def aligned(signing: str, from_domain: str) -> bool:
    """Relaxed alignment: one domain is the other or a parent of it (163.com ~ vip.163.com)."""
    signing, from_domain = signing.lower().rstrip("."), from_domain.lower().rstrip(".")
    return (signing == from_domain or from_domain.endswith("." + signing)
            or signing.endswith("." + from_domain)) and "." in signing


def in_domains(domain: str, domains: tuple[str, ...]) -> bool:
    domain = domain.lower()
    return any(domain == d or domain.endswith("." + d) for d in (x.lower().strip(".") for x in domains))


ANSWER_TTL = 600.0        # seconds a fetched key (or its absence) is reused
DOWN_TTL = 60.0           # after a DNS failure, lookups fail at once for this long (no timeout per mail)
_LOOKUPS: dict[Policy, "KeyLookup"] = {}


class KeyLookup:
    """A dkimpy `dnsfunc`: local keys first, then DNS with a short timeout, answers cached. A
    temporary failure raises DnsTempError (dkimpy would swallow its own DnsTimeoutError into a
    plain fail), and for DOWN_TTL seconds afterwards every lookup fails at once, so a poll of a
    hundred signed mails during an outage waits for one timeout, not a hundred."""

    def __init__(self, pol: Policy, clock: Callable[[], float] = time.monotonic):
        self.pol, self.clock = pol, clock
        self.local = _load_keys(pol.dkim_keys) if pol.dkim_keys else {}
        self.answers: dict[str, tuple[float, bytes | None]] = {}
        self.down_until = 0.0
        self.down_reason = ""
        self.resolver = None
        self.queries = 0

    def __call__(self, name: bytes, timeout: float = 5) -> bytes | None:
        key = name.decode("ascii", "replace").lower().rstrip(".")
        if key in self.local:
            return self.local[key]
        now = self.clock()
        cached = self.answers.get(key)
        if cached is not None and cached[0] > now:
            return cached[1]
        if self.down_until > now:
            raise DnsTempError(self.down_reason)
        try:
            value = self._resolve(key)
        except DnsTempError as exc:
            self.down_until, self.down_reason = self.clock() + DOWN_TTL, str(exc)
            raise
        self.answers[key] = (self.clock() + ANSWER_TTL, value)
        return value

    def _resolve(self, key: str) -> bytes | None:
        import dns.exception
        import dns.rdatatype
        import dns.resolver
        self.queries += 1
        try:
            if self.resolver is None:
                self.resolver = _resolver(self.pol)
            answer = self.resolver.resolve(key + ".", "TXT", raise_on_no_answer=False, search=False)
        except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
            return None
        except (dns.exception.DNSException, OSError) as exc:   # timeout, no servers, no resolv.conf
            raise DnsTempError(f"{type(exc).__name__}: {exc}") from None
        for rrset in answer.response.answer:
            if rrset.rdtype == dns.rdatatype.TXT:
                return b"".join(list(rrset.items)[0].strings)
        return None


def dns_txt_func(pol: Policy) -> KeyLookup:
    """The process's lookup for this policy (one cache per policy)."""
    lookup = _LOOKUPS.get(pol)
    if lookup is None:
        lookup = _LOOKUPS[pol] = KeyLookup(pol)
    return lookup


def _resolver(pol: Policy):
    import dns.resolver
    if not pol.dns_servers:
        res = dns.resolver.Resolver()
    else:
        res = dns.resolver.Resolver(configure=False)
        hosts, port = [], 53
        for server in pol.dns_servers:
            host, _, p = server.strip().rpartition(":") if server.count(":") == 1 else (server.strip(), "", "")
            hosts.append(host or server.strip())
            port = int(p) if p else port
        res.nameservers = hosts
        res.port = port
    res.timeout = res.lifetime = pol.dns_timeout
    return res


def _load_keys(path: Path) -> dict[str, bytes]:
    """`selector._domainkey.domain  v=DKIM1; k=rsa; p=…` per line; # comments."""
    keys = {}
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            name, _, record = line.partition(" ")
            keys[name.lower().rstrip(".")] = record.strip().encode("ascii")
    return keys


def check_dkim(raw: bytes, from_domain: str, dnsfunc: DnsFunc, timeout: float) -> tuple[str, list[str]]:
    """PASS / FAIL / PENDING / NONE for signatures aligned with the From domain, with evidence."""
    try:
        d = dkim.DKIM(raw, timeout=int(max(1, timeout)), minkey=1024)
    except Exception as exc:
        return NONE, [f"dkim: message not parsable ({type(exc).__name__})"]
    sigs = [v for k, v in d.headers if k.lower() == b"dkim-signature"]
    evidence, outcomes = [], []
    for idx, value in enumerate(sigs[:MAX_SIGNATURES]):
        try:
            tags = dkim.util.parse_tag_value(value)
        except Exception:
            evidence.append(f"dkim[{idx}]: unparsable signature")
            continue
        domain = tags.get(b"d", b"").decode("ascii", "replace")
        if not aligned(domain, from_domain):
            evidence.append(f"dkim[{idx}]: d={domain} not aligned with {from_domain}, ignored")
            continue
        if b"l" in tags:
            evidence.append(f"dkim[{idx}]: d={domain} has l= (partial body), not counted")
            continue
        try:
            ok = d.verify(idx, dnsfunc=dnsfunc)
        except DnsTempError as exc:
            evidence.append(f"dkim[{idx}]: d={domain} key lookup failed: {exc}")
            outcomes.append(PENDING)
            continue
        except dkim.DKIMException as exc:
            ok = False
            evidence.append(f"dkim[{idx}]: d={domain} invalid: {exc}")
        except Exception as exc:   # dkimpy on hostile input: a failed verification, never a crash
            ok = False
            evidence.append(f"dkim[{idx}]: d={domain} error: {type(exc).__name__}")
        else:
            evidence.append(f"dkim[{idx}]: d={domain} {'pass' if ok else 'fail'}")
        outcomes.append(PASS if ok else FAIL)
    for level in (PASS, PENDING, FAIL):
        if level in outcomes:
            return level, evidence
    return NONE, evidence


# --- the verdict ------------------------------------------------------------------------------

def raw_headers(raw: bytes) -> list[tuple[str, str]]:
    """Top-level headers in order, values undecoded (8-bit bytes kept as surrogates)."""
    try:
        msg = BytesHeaderParser(policy=email_policy.compat32).parsebytes(header_block(raw[:512 * 1024]))
        return [(str(k), str(v)) for k, v in msg.raw_items()]
    except Exception:
        return []


def assess(raw: bytes, pol: Policy, dnsfunc: DnsFunc | None = None, *, dns_given_up: bool = False) -> Verdict:
    """The verdict on RAW's From address (see the module docstring). `dns_given_up`: the retry
    window for a DNS failure is over; decide with the key counted as unavailable."""
    headers = raw_headers(raw)
    addr, why = single_from(headers)
    if addr is None:
        return Verdict(FAIL, why + "，无法确认发件单位", ("from: " + why,), False)
    domain = addr.partition("@")[2]
    evidence: list[str] = []
    ar = trusted_authres(headers, pol.authserv_ids)
    ar_pass = False
    if ar is not None:
        serv, results = ar
        evidence.append(f"authres {serv}: " + ", ".join(f"{m}={r}" for m, r, _ in results))
        failed = [m for m, r, _ in results if m in ("dkim", "spf", "dmarc") and r == "fail"]
        if failed:
            return Verdict(FAIL, f"邮箱服务商的认证结果（{serv}）显示 {'、'.join(failed).upper()} 验证失败，"
                                 f"发件人 {addr} 可能是伪造的", tuple(evidence), True, addr)
        ar_pass = any(m == "dkim" and r == "pass" and
                      aligned((p.get("header.d") or p.get("header.i", "").rpartition("@")[2]), domain)
                      for m, r, p in results)
    level, dkim_evidence = check_dkim(raw, domain, dnsfunc or dns_txt_func(pol), pol.dns_timeout)
    evidence += dkim_evidence
    if level == PASS or ar_pass:
        return Verdict(PASS, "", tuple(evidence), True, addr)
    if level == FAIL:
        return Verdict(FAIL, f"DKIM 签名验证失败（邮件在途中被改动或发件人 {addr} 是伪造的）", tuple(evidence), True, addr)
    required = in_domains(domain, pol.sign_required)
    if level == PENDING and not dns_given_up:
        return Verdict(PENDING, "查询 DKIM 公钥的 DNS 暂时失败，稍后自动重试", tuple(evidence), True, addr)
    if required:
        why = ("查询 DKIM 公钥的 DNS 持续失败，已超过重试时限，按策略" if level == PENDING
               else "没有该域名的有效 DKIM 签名，")
        return Verdict(FAIL, f"{domain} 的邮件都带 DKIM 签名，这封{why}不能确认是 {addr} 本人发出",
                       tuple(evidence), True, addr)
    if level == PENDING:
        return Verdict(NONE, "查询 DKIM 公钥的 DNS 持续失败，已超过重试时限；该域名不要求签名，按未签名邮件处理",
                       tuple(evidence), True, addr)
    return Verdict(NONE, "", tuple(evidence), True, addr)
