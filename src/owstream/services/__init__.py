"""The long-running services, each a loop around the adapters: fetcher, processor, scheduler, meta and
notifier (``owstream run X``; several in one process: ``owstream run scheduler meta notifier``, all five:
``owstream run services``), and the request
tracker the CLI and the dashboard follow a fetch with."""
