"""labelgate.evaluation"""
