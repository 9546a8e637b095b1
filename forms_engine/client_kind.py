"""What kind of device a filing was completed on, from its User-Agent header: phone,
tablet, desktop or unknown. Only the kind is kept (Submission.client_kind), never the
header itself: a full User-Agent string narrows down who filed, the kind does not.

The rules, in order (the first that matches wins), over the header folded to lower case:

1. empty, or a robot or a program (`bot`, `crawl`, `spider`, `curl`, `wget`,
   `python-`, `java/`, `okhttp`, `go-http-client`, `headless`): unknown;
2. a tablet: `ipad`, `tablet` (but not `tablet pc`, Windows' label for desktops with a
   pen), `kindle`, `silk/`, `playbook`, or `android` without `mobile` (Android phones'
   browsers say `Mobile`, tablets' do not);
3. a phone: `iphone`, `ipod`, `android`, `windows phone`, `blackberry`, `bb10`,
   `opera mini`, `mobi` (Firefox OS and most other phone browsers say `Mobile`);
4. a desktop: `windows nt`, `macintosh`, `mac os x`, `cros`, `x11`, `linux`;
5. anything else: unknown.

An iPad on iPadOS 13 or later asks for desktop pages and sends the same header as Safari
on a Mac: it counts as a desktop, as no header-only rule can tell them apart.
"""

from __future__ import annotations

PHONE = "phone"
TABLET = "tablet"
DESKTOP = "desktop"
UNKNOWN = "unknown"

KINDS = (PHONE, TABLET, DESKTOP, UNKNOWN)

# The longest header read: a real browser's is under 400 characters; a longer one is read
# only this far (the rules look for short markers near the start).
MAX_CHARS = 512

_PROGRAMS = (
    "bot",
    "crawl",
    "spider",
    "curl",
    "wget",
    "python-",
    "java/",
    "okhttp",
    "go-http-client",
    "headless",
)
_TABLETS = ("ipad", "kindle", "silk/", "playbook")
_PHONES = ("iphone", "ipod", "android", "windows phone", "blackberry", "bb10", "opera mini", "mobi")
_DESKTOPS = ("windows nt", "macintosh", "mac os x", "cros", "x11", "linux")


def client_kind(user_agent: str | None) -> str:
    """The kind of device (one of KINDS) a User-Agent header names."""
    ua = (user_agent or "")[:MAX_CHARS].lower()
    if not ua.strip() or any(marker in ua for marker in _PROGRAMS):
        return UNKNOWN
    if any(marker in ua for marker in _TABLETS):
        return TABLET
    if "tablet" in ua and "tablet pc" not in ua:
        return TABLET
    if "android" in ua and "mobile" not in ua:
        return TABLET
    if any(marker in ua for marker in _PHONES):
        return PHONE
    if any(marker in ua for marker in _DESKTOPS):
        return DESKTOP
    return UNKNOWN
