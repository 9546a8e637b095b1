"""The pull API: back-office systems that prefer to fetch read the submissions of their
departments, in the order they became ready, with a token of their own.

- `models`: tokens (only their hashes are stored) and the feed of ready submissions;
- `tokens`: creating, hashing and checking tokens;
- `feed`: appending to the feed in commit order, and the cursor;
- `representation`: a submission as the API shows it;
- `problems`: RFC 9457 problem+json answers;
- `views`, `urls`: HTTP; `openapi.yaml`: the OpenAPI 3.1 document served at
  /api/v1/openapi.json.
"""
