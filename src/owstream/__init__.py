"""owstream: Overwatch 2 player stats streamed through Apache Kafka into a lasting history."""

__version__ = "0.1.0"
