"""The procedure console (issue 12): organization admins write, check, preview, publish and
unpublish procedure files in the browser, edit their organization's settings, invite staff
and export the organization's procedures as a folder of YAML files.

An outer room like `inbox`: it calls the core's services (`procedure_source_check`,
`procedure_publish`, `procedure_unpublish`, `organization_source_save`) and renders the
filing pages with the core's `forms_engine.filing`; the core never imports it."""
