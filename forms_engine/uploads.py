"""An upload handler that stops a file at UPLOAD_FILE_MAX_BYTES while the request body is
read: past the cap the rest of that file is discarded instead of written to a temporary
file, so a multi-gigabyte POST cannot fill the disk. The other fields of the form are
still read; the page then says which file was too large."""

from django.conf import settings
from django.core.files.uploadhandler import FileUploadHandler, SkipFile


class FileSizeCapHandler(FileUploadHandler):
    def new_file(self, field_name, file_name, *args, **kwargs):
        super().new_file(field_name, file_name, *args, **kwargs)
        self.received = 0

    def receive_data_chunk(self, raw_data, start):
        self.received += len(raw_data)
        if self.received > settings.UPLOAD_FILE_MAX_BYTES:
            refused = getattr(self.request, "uploads_refused", None)
            if refused is None:
                refused = self.request.uploads_refused = {}
            refused.setdefault(self.field_name, []).append(self.file_name)
            raise SkipFile
        return raw_data  # passed on to the memory / temporary-file handlers

    def file_complete(self, file_size):
        return None  # the next handlers build the file
