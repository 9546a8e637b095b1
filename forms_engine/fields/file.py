"""Attachments: files kept from earlier posts, new uploads, and the ones refused."""

from __future__ import annotations

from django.conf import settings
from django.utils.translation import ngettext

from forms_engine import filekinds

from .base import FieldInvalid, FieldType, _, esc, text_of


class FileType(FieldType):
    yaml_keys = ("accept", "max_size", "max_files", "resize_images")
    symbol_type = "files"
    params_check = "file_params"
    grouped = True

    def extract(self, f, data, name, ctx):
        # Files already stored for this input, minus those the resident removed.
        kept = list(ctx.files.get(name, []))
        return {
            "kept": kept,
            "new": list(ctx.uploads.get(name, [])),
            "refused": list(ctx.refused.get(name, [])),
        }

    def is_empty(self, raw):
        if isinstance(raw, dict):
            return not raw.get("kept") and not raw.get("new") and not raw.get("refused")
        return not raw

    def to_raw(self, f, value):
        return {"kept": list(value or []), "new": []}

    def required_message(self, f, ctx):
        return _("Attach %(label)s.") % {"label": text_of(f.label, ctx.lang)}

    def hint(self, f, ctx):
        kinds = ", ".join(k.upper() for k in f.param("accept", ()) or ()) or _("any")
        size = filekinds.format_size(f.param("max_size", 10 * 1024 * 1024))
        n = f.param("max_files", 1)
        return ngettext(
            "File types: %(kinds)s. Up to %(size)s, %(n)s file.",
            "File types: %(kinds)s. Up to %(size)s each, %(n)s files at most.",
            n,
        ) % {
            "kinds": kinds,
            "size": size,
            "n": f.param("max_files", 1),
        }

    def clean_value(self, f, raw, ctx):
        kept = list(raw.get("kept", []))
        stored = []
        limit = min(f.param("max_size", 10 << 20), settings.UPLOAD_FILE_MAX_BYTES)
        errors = [
            _("%(name)s is larger than %(size)s.")
            % {"name": name, "size": filekinds.format_size(limit)}
            for name in raw.get("refused", [])
        ]
        max_files = f.param("max_files", 1)
        for upload in raw.get("new", []):
            if len(kept) + len(stored) >= max_files:
                errors.append(
                    ngettext(
                        "You can attach %(n)s file only.",
                        "You can attach %(n)s files at most.",
                        max_files,
                    )
                    % {"n": max_files}
                )
                break
            try:
                stored.append(ctx.store_upload(f, upload))
            except FieldInvalid as exc:
                errors.extend(m for ms in exc.errors.values() for m in ms)
        value = kept + stored
        if errors:
            # Files that passed are kept: a resident never uploads the same photo twice.
            raise FieldInvalid({"": errors, "__kept__": value})  # type: ignore[dict-item]
        return value or None

    def render_control(self, f, raw, name, errors, ctx, describedby, invalid):
        raw = raw if isinstance(raw, dict) else {"kept": raw or []}
        items = []
        remove = _("Remove")
        for item in raw.get("kept", []):
            items.append(
                f'<li class="files__item"><span class="files__name">{esc(item.get("name"))}</span> '
                f'<span class="muted">({esc(filekinds.format_size(item.get("size", 0)))})</span> '
                f'<button class="button button--text" type="submit" name="_action" '
                f'value="remove-file:{name}:{esc(item.get("id"))}" formnovalidate>'
                f'{esc(remove)}<span class="visually-hidden"> {esc(item.get("name"))}</span>'
                f"</button></li>"
            )
        listing = f'<ul class="files">{"".join(items)}</ul>' if items else ""
        accept = ",".join(filekinds.ACCEPT_ATTR.get(k, "") for k in f.param("accept", ()) or ())
        multiple = " multiple" if f.param("max_files", 1) > 1 else ""
        inv = ' aria-invalid="true"' if invalid else ""
        resize = f.param("resize_images")
        data = f' data-resize="{int(resize)}"' if resize else ""
        if ctx.upload_url:
            # The uploader (JavaScript) sends files straight to storage; without it the
            # form post carries them as before.
            data += f' data-upload-url="{esc(ctx.upload_url)}" data-page="{esc(ctx.page_key)}"'

        choose = _("Choose a file")
        pick = (
            f'<label class="field__sublabel" for="{name}">{esc(choose)}</label>'
            f'<input class="file-input" type="file" id="{name}" name="{name}"'
            f"{' accept=' + chr(34) + esc(accept) + chr(34) if accept else ''}{multiple}{inv}{data}>"
        )
        return listing + pick

    def display(self, f, value, ctx):
        if not value:
            return super().display(f, value, ctx)
        return "<br>".join(
            f"{esc(v.get('name'))} ({esc(filekinds.format_size(v.get('size', 0)))})" for v in value
        )
