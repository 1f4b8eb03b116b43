"""labelgate.registry"""
