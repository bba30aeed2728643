"""ThermoColor's training kit: data, captions, network, losses, evaluation, export."""
