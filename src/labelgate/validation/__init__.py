"""labelgate.validation"""
