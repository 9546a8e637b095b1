"""The `csv` integration: scheduled CSV files of the submissions handed to it.

One concern per module:

- `encoding`: text to bytes in utf-8 or cp932, with the documented replacement rule for
  what cp932 cannot hold (counted, never an error);
- `columns`: the header and each submission's cells (compound answers flattened);
- `writer`: rows streamed into a file object, with its SHA-256 and row count;
- `destinations`: where a file goes (`s3://bucket/prefix/` or a local folder), written
  atomically, the manifest last;
- `manifest`: what a consumer checks before trusting a file;
- `schedule`: when a cron `schedule` (Asia/Tokyo) fires;
- `runs`: which deliveries a run writes, and running it (idempotently).

The rules a back-office system relies on are in docs/csv-export.md.
"""
