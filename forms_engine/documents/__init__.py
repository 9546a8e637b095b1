"""Documents made from submissions, shared by the staff inbox and the resident's side: CSV
exports (`csv_export`, with `flatten` and `encodings`) and the PDF of one submission
(`pdf`, the only module that imports WeasyPrint, and only when it renders)."""
