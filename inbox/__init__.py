"""The staff side: sign-in with two factors, roles per department, the inbox of
submissions, the audit log. Reads the core (forms_engine); the core never imports it."""
