"""An OverFast-compatible HTTP server with synthetic players whose stats advance over time: the offline demo
(``owstream simulate``, ``owstream up --demo``) and the tests. Its answers validate against OverFast's
OpenAPI spec."""

from owstream.simulator.server import SimulatorServer
from owstream.simulator.simulator import UNKNOWN_PLAYER_ID, Fault, SimResponse, Simulator, player_ids, serve_forever

__all__ = ["UNKNOWN_PLAYER_ID", "Fault", "SimResponse", "Simulator", "SimulatorServer", "player_ids", "serve_forever"]
