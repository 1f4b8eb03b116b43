"""labelgate.serving"""
