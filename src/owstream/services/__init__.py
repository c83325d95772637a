"""The long-running services, each a loop around the adapters: fetcher, processor, scheduler, meta and
notifier (``owstream run X``, or all five in one process: ``owstream run services``), and the request
tracker the CLI and the dashboard follow a fetch with."""
