"""The messages on owstream's topics: one model each (:mod:`.models`), the OverFast bodies they carry
(:mod:`.bodies`), their JSON (:mod:`.codec`, the only user of msgspec and zstandard) and their JSON Schema
(:mod:`.schemas`, the files under ``schemas/``)."""
