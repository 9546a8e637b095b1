"""Valid answers for any procedure page, built from its spec: the flow tests file every
sample procedure (and any new one) without a hand-written script per procedure."""

from __future__ import annotations

import datetime as dt
import io
import struct
import zlib
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from stdnum.jp import cn

from forms_engine import normalize
from forms_engine.procedure_format.model import FieldSpec, PageSpec


def png_bytes(width: int = 2, height: int = 2) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    raw = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


def pdf_bytes() -> bytes:
    return b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def corporate_number() -> str:
    body = "700001205000"
    return cn.calc_check_digit(body) + body


def upload_for(f: FieldSpec, name: str = "photo") -> SimpleUploadedFile:
    accept = f.param("accept") or ("png",)
    if "png" in accept:
        return SimpleUploadedFile(f"{name}.png", png_bytes(), content_type="image/png")
    if "pdf" in accept:
        return SimpleUploadedFile(f"{name}.pdf", pdf_bytes(), content_type="application/pdf")
    return SimpleUploadedFile(f"{name}.txt", b"hello\n", content_type="text/plain")


def _date_for(f: FieldSpec, today: dt.date) -> dt.date:
    def resolve(b):
        if b is None:
            return None
        return normalize.resolve_date_bound(b.kind, b.date, b.amount, b.unit, today)

    lo, hi = resolve(f.param("min")), resolve(f.param("max"))
    if lo and hi:
        return lo + (hi - lo) / 2
    if hi:
        return (
            min(hi, today) - dt.timedelta(days=400) if hi >= today else hi - dt.timedelta(days=30)
        )
    if lo:
        return max(lo, today)
    return dt.date(1985, 4, 1)


def field_post(f: FieldSpec, name: str, today: dt.date) -> dict[str, Any]:
    t = f.type
    if t in ("text",):
        return {name: "テスト株式会社" if f.profile == "organization_name" else "テスト"}
    if t == "textarea":
        return {name: "令和7年度 電子申請システム運用保守契約書"}
    if t == "number":
        lo = f.param("min")
        return {name: str(lo if lo is not None else 2)}
    if t == "email":
        return {name: "taro@example.jp"}
    if t == "tel":
        return {name: "090-1234-5678"}
    if t == "kana":
        return {name: "テスト"}
    if t == "date":
        d = _date_for(f, today)
        return {
            f"{name}-year": str(d.year),
            f"{name}-month": str(d.month),
            f"{name}-day": str(d.day),
        }
    if t in ("select", "radio"):
        return {name: f.options[0].value}
    if t == "checkboxes":
        n = max(1, f.param("min_selected") or 1)
        return {name: [o.value for o in f.options[:n]]}
    if t in ("yes_no", "consent"):
        return {name: "yes"}
    if t == "name":
        return {
            f"{name}-family": "山田",
            f"{name}-given": "太郎",
            f"{name}-kana_family": "ヤマダ",
            f"{name}-kana_given": "タロウ",
        }
    if t == "postal_code":
        return {name: "540-0008"}
    if t == "address":
        return {
            f"{name}-prefecture": "大阪府",
            f"{name}-city": "大阪市中央区",
            f"{name}-town": "大手前2丁目1-22",
            f"{name}-building": "",
        }
    if t == "corporate_number":
        return {name: corporate_number()}
    if t == "bank_account":
        return {
            f"{name}-bank_code": "0001",
            f"{name}-branch_code": "001",
            f"{name}-account_type": "ordinary",
            f"{name}-number": "1234567",
            f"{name}-holder": "ヤマダ タロウ",
        }
    if t == "file":
        return {name: upload_for(f)}
    if t == "group":
        count = max(f.param("repeat_min", 0), 1)
        data: dict[str, Any] = {f"{name}-count": str(count)}
        for i in range(count):
            for c in f.fields:
                data.update(field_post(c, f"{name}-{i}-{c.id}", today))
        return data
    return {}


def page_post(page: PageSpec, today: dt.date | None = None, skip: set[str] = frozenset()) -> dict:
    today = today or dt.date.today()
    data: dict[str, Any] = {"_action": "next"}
    for f in page.fields:
        if f.id in skip:
            continue
        data.update(field_post(f, f"f-{f.id}", today))
    return data


def fresh_files(data: dict) -> dict:
    """Uploaded files are read once per request: copy them for a repeat."""
    out = {}
    for k, v in data.items():
        if isinstance(v, SimpleUploadedFile):
            v.seek(0)
            out[k] = SimpleUploadedFile(v.name, v.read(), content_type=v.content_type)
        else:
            out[k] = v
    return out


del io
