"""Attachment kinds of the format (`accept:`): what the browser is told to offer, and the
content type a stored file is served with."""

ACCEPT_ATTR = {
    "pdf": ".pdf,application/pdf",
    "jpeg": ".jpg,.jpeg,image/jpeg",
    "png": ".png,image/png",
    "heic": ".heic,.heif,image/heic,image/heif",
    "docx": ".docx,application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": ".xlsx,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": ".csv,text/csv",
    "txt": ".txt,text/plain",
    "zip": ".zip,application/zip",
}

CONTENT_TYPES = {
    "pdf": "application/pdf",
    "jpeg": "image/jpeg",
    "png": "image/png",
    "heic": "image/heic",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv",
    "txt": "text/plain",
    "zip": "application/zip",
}


def format_size(n: int) -> str:
    """Binary units, as the format's sizes (`20MB` is 20 × 1024 × 1024 bytes)."""
    n = int(n or 0)
    for unit, size in (("GB", 1 << 30), ("MB", 1 << 20), ("KB", 1 << 10)):
        if n >= size:
            value = n / size
            return (
                f"{value:.0f}{unit}" if value >= 10 or value == int(value) else f"{value:.1f}{unit}"
            )
    return f"{n}B"
