"""The command line: ``owstream ...`` (:mod:`.main`), what its commands do (:mod:`.commands`), how it prints."""
