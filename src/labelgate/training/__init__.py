"""labelgate.training"""
