"""The waiting room (待合室): when a procedure opens and more residents arrive than it
should let in, they queue first come first served and see a light page with their place and
an estimated wait until they are admitted.

- `config`: which procedures queue, at what rate (the YAML's `rush:`, or site-wide from
  `RUSH_ADMIT_PER_MINUTE`), read without parsing a procedure's YAML;
- `counters`: the queue itself (tickets and the admitted count), in Redis so every web
  worker agrees, or in this process without Redis (the embedded default);
- `tickets`: the signed cookie that holds a resident's ticket or admission;
- `page`: the waiting page, rendered once per language and procedure.

The gate that uses them is `forms_engine.views.waiting`.
"""
