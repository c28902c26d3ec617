"""The whole Yanxiu platform on one machine: `yanxiu run` behind `make run`."""
