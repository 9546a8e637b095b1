"""The webhook target: its JSON payload (`payload`), its Standard Webhooks signature
(`signing`), the check of the address it goes to (`addresses`) and the POST (`send`)."""
