"""Migration scripts, applied in order by `Catalog.upgrade()` / `gongkai db upgrade`."""
