"""labelgate.labeling"""
