"""Running the product: the supervisor, ``owstream up``, Kafka readiness and status."""
